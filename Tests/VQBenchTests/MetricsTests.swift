import Foundation
import Testing
import VQ
import VQTestSupport

@Suite struct ReconstructionErrorTests {
  @Test func identityHasNoError() throws {
    let x = TestData.gaussian(count: 50, dimension: 33, seed: 1)
    let e = try ReconstructionError.measure(original: x, reconstructed: x)
    #expect(e == ReconstructionError(nmse: 0, cosineLoss: 0, angleP99Degrees: 0))
  }

  /// x = e₀, x̂ = r(cos θ e₀ + sin θ e₁): ‖x̂ − x‖² = 1 + r² − 2r cos θ, 1 − cos = 1 − cos θ, angle θ.
  @Test func rotatedAndScaledVectorsByHand() throws {
    let thetas: [Double] = [1, 2, 5, 10, 30, 60, 89, 120, 179.5]  // degrees
    let r = 1.5
    var xs: [[Float]] = [], ys: [[Float]] = []
    for t in thetas {
      let a = t * .pi / 180
      xs.append([1, 0, 0])
      ys.append([Float(r * cos(a)), Float(r * sin(a)), 0])
    }
    let e = try ReconstructionError.measure(original: VectorBatch(rows: xs), reconstructed: VectorBatch(rows: ys))
    let n = Double(thetas.count)
    // Float inputs: every predicted value is good to ~1e-7 relative.
    let nmse = thetas.map { 1 + r * r - 2 * r * cos($0 * .pi / 180) }.reduce(0, +) / n
    let loss = thetas.map { 1 - cos($0 * .pi / 180) }.reduce(0, +) / n
    #expect(abs(e.nmse - nmse) < 1e-6 * nmse)
    #expect(abs(e.cosineLoss - loss) < 1e-6 * loss)
    // 99th percentile of 9 angles: rank 0.99·8 = 7.92 between the 8th (120°) and 9th (179.5°) largest.
    let p99 = 120 + 0.92 * (179.5 - 120)
    #expect(abs(e.angleP99Degrees - p99) < 1e-4)
  }

  @Test func smallAnglesKeepTheirPrecision() throws {
    // 1e-3 degrees: 1 − cos ≈ 1.5e-10, below what 1 − dot/(‖x‖‖x̂‖) in Float could show.
    let a = 1e-3 * .pi / 180
    let x = try VectorBatch(rows: [[1, 0]])
    let y = try VectorBatch(rows: [[Float(cos(a)), Float(sin(a))]])
    let e = try ReconstructionError.measure(original: x, reconstructed: y)
    #expect(abs(e.angleP99Degrees - 1e-3) < 1e-7)
    #expect(abs(e.cosineLoss - (1 - cos(a))) < 1e-3 * (1 - cos(a)))
  }

  @Test func zeroReconstructionIsOrthogonalAndZeroOriginalIsAnError() throws {
    let x = try VectorBatch(rows: [[3, 4]])
    let zero = try VectorBatch(rows: [[0, 0]])
    let e = try ReconstructionError.measure(original: x, reconstructed: zero)
    #expect(e.nmse == 1 && e.cosineLoss == 1 && e.angleP99Degrees == 90)
    #expect(throws: VQError.zeroVector(source: "original", row: 0)) {
      try ReconstructionError.measure(original: zero, reconstructed: x)
    }
  }

  @Test func percentileInterpolatesLinearly() {
    #expect(Percentile.of([5], 0.99) == 5)
    #expect(Percentile.of([1, 2, 3, 4, 5], 0.5) == 3)
    #expect(Percentile.of([4, 1, 3, 2], 0.5) == 2.5)
    #expect(Percentile.of(Array(0...100).map(Double.init), 0.99) == 99)
    #expect(Percentile.of([], 0.5).isNaN)
  }
}

@Suite struct InnerProductErrorTests {
  /// Errors e[q][i] = a_q + b_i: bias = mean a + mean b; the per-base means are mean a + b_i, so the
  /// clustered standard error is sd(b)/√n; the variance over pairs is known exactly.
  @Test func knownErrorsGiveTheirMoments() {
    let a: [Double] = [0.5, -0.25, 1.0]  // per query
    let b: [Double] = [0, 0.1, 0.2, 0.3, -0.6]  // per base vector
    var acc = InnerProductErrorAccumulator(baseCount: b.count)
    let exact = [Double](repeating: 0.25, count: b.count)
    for aq in a {
      let est = b.map { Float(0.25 + aq + $0) }
      est.withUnsafeBufferPointer { e in exact.withUnsafeBufferPointer { acc.add(estimated: e, exact: $0) } }
    }
    let r = acc.result(dimension: 8)
    var all: [Double] = []
    for aq in a { for bi in b { all.append(aq + bi) } }
    let mean = all.reduce(0, +) / Double(all.count)
    let variance = all.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(all.count - 1)
    let meanB = b.reduce(0, +) / Double(b.count)
    let sdB = (b.map { ($0 - meanB) * ($0 - meanB) }.reduce(0, +) / Double(b.count - 1)).squareRoot()
    // Float estimates: values are exact to ~6e-8.
    #expect(abs(r.bias - mean) < 1e-7)
    #expect(abs(r.varianceTimesDimension - 8 * variance) < 1e-6)
    #expect(abs(r.biasStandardError - sdB / Double(b.count).squareRoot()) < 1e-7)
  }

  @Test func mergingChunksEqualsOneAccumulator() {
    var g = SeededGenerator(seed: 9)
    let n = 300
    let queries = (0..<40).map { _ in (0..<n).map { _ in Float(g.nextGaussian()) } }
    let exact = (0..<n).map { _ in g.nextGaussian() }
    var whole = InnerProductErrorAccumulator(baseCount: n)
    var parts = [InnerProductErrorAccumulator(baseCount: n), InnerProductErrorAccumulator(baseCount: n)]
    for (qi, est) in queries.enumerated() {
      est.withUnsafeBufferPointer { e in exact.withUnsafeBufferPointer { x in
        whole.add(estimated: e, exact: x)
        parts[qi < 13 ? 0 : 1].add(estimated: e, exact: x)
      } }
    }
    var merged = parts[0]
    merged.merge(parts[1])
    let w = whole.result(dimension: 10), m = merged.result(dimension: 10)
    #expect(merged.pairCount == whole.pairCount)
    #expect(abs(w.bias - m.bias) < 1e-12)
    #expect(abs(w.varianceTimesDimension - m.varianceTimesDimension) < 1e-10 * w.varianceTimesDimension)
    #expect(abs(w.biasStandardError - m.biasStandardError) < 1e-12)
  }
}
