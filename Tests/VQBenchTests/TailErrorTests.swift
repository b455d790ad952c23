import Testing
import VQ
import VQTestSupport
@testable import VQBench

@Suite struct TailErrorTests {
  @Test func percentilesFollowTheNearestRankRule() {
    // Errors 1, 2, ..., 1000 (× 1e-3): the 99th percentile is the 990th value, the 99.9th the 999th.
    var sample = TailErrorSample()
    let exact = [Double](repeating: 0, count: 1000)
    let estimated = (1...1000).map { Float($0) * 1e-3 }
    estimated.withUnsafeBufferPointer { e in exact.withUnsafeBufferPointer { x in sample.add(estimated: e, exact: x) } }
    let r = sample.result(dimension: 16)
    #expect(r.pairs == 1000)
    #expect(abs(r.p99 - 0.990 * 4) < 1e-6)
    #expect(abs(r.p999 - 0.999 * 4) < 1e-6)
  }

  @Test func signOfTheErrorDoesNotMatter() {
    var sample = TailErrorSample()
    let exact: [Double] = [1, -1, 0.5, 0]
    let estimated: [Float] = [0, 0, 0.5, 0]
    estimated.withUnsafeBufferPointer { e in exact.withUnsafeBufferPointer { x in sample.add(estimated: e, exact: x) } }
    #expect(sample.result(dimension: 1).p999 == 1)
  }

  @Test func strideKeepsAtMostThePairLimit() {
    #expect(TailErrorSample.stride(pairs: 1000) == 1)
    #expect(TailErrorSample.stride(pairs: TailErrorSample.pairLimit) == 1)
    #expect(TailErrorSample.stride(pairs: TailErrorSample.pairLimit + 1) == 2)
  }

  @Test func measurementIsTheSameOnOneThreadAndTwo() throws {
    var e = try Evaluation(base: TestData.unitSphere(count: 400, dimension: 32, seed: 3))
    e.threads = 1
    let one = try e.measure(QuantizerSpec("eden:bits=2"), timing: false)
    e.threads = 2
    let two = try e.measure(QuantizerSpec("eden:bits=2"), timing: false)
    #expect(one.result == two.result && one.tail == two.tail && one.pairs == two.pairs)
  }
}
