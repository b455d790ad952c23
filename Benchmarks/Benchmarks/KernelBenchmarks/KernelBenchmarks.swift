// Kernel and encode benchmarks for swift-vq (ordo-one/benchmark). Run from the repository root:
//
//   swift package --package-path Benchmarks benchmark
//
// Every name carries the kernel level that ran ([avx2], [avx512], [portable]); force a lower level
// with VQ_KERNEL_LEVEL=portable|avx2. Numbers and the C kernel line from research/limits.md are in
// Benchmarks/README.md.
import Benchmark
import VQ
import VQKernels

/// One randomized Hadamard transform set up for timing: input, output, signs and scale.
final class HadamardFixture: @unchecked Sendable {
  let size: HadamardSize
  let rounds: Int
  let scale: Float
  var x: [Float]
  var y: [Float]
  let signs: [UInt64]

  init(dimension d: Int, rounds: Int) {
    size = HadamardSize.fitting(d)
    self.rounds = rounds
    var g = SeededGenerator(seed: UInt64(d))
    x = (0..<d).map { _ in Float(g.nextGaussian()) }
    y = [Float](repeating: 0, count: size.n)
    signs = (0..<((rounds * size.n + 63) / 64)).map { _ in g.next() }
    var s = 1.0
    for _ in 0..<rounds { s /= Double(size.n).squareRoot() }
    scale = Float(s)
  }

  /// The C kernel at the current level.
  func runKernel() {
    let d = x.count
    x.withUnsafeBufferPointer { xs in
      y.withUnsafeMutableBufferPointer { ys in
        Kernels.randomizedHadamard(xs.baseAddress!, inputCount: d, into: ys.baseAddress!, size: size,
                                   signs: signs, rounds: rounds, scale: scale)
      }
    }
  }

  /// The scalar Swift reference (the "pure Swift" line).
  func runReference() {
    let d = x.count
    x.withUnsafeBufferPointer { xs in
      y.withUnsafeMutableBufferPointer { ys in
        HadamardReference.forward(xs.baseAddress!, inputCount: d, into: ys.baseAddress!, size: size,
                                  signs: signs, rounds: rounds, scale: scale)
      }
    }
  }
}

let benchmarks: @Sendable () -> Void = {
  let level = KernelLevel.current.description
  let kernelConfiguration = Benchmark.Configuration(
    metrics: [.wallClock], timeUnits: .nanoseconds, warmupIterations: 3, scalingFactor: .kilo,
    maxDuration: .seconds(2), maxIterations: 2_000)

  // MARK: randomized Hadamard, C kernel and scalar Swift reference (time per transform)
  for (d, rounds) in [(384, 1), (768, 1), (1024, 1), (4096, 1), (1024, 3)] {
    let fixture = HadamardFixture(dimension: d, rounds: rounds)
    Benchmark("RHT \(rounds) round\(rounds == 1 ? "" : "s") d=\(d) C [\(level)]", configuration: kernelConfiguration) {
      benchmark in
      for _ in benchmark.scaledIterations { fixture.runKernel() }
      blackHole(fixture.y[0])
    }
    let reference = HadamardFixture(dimension: d, rounds: rounds)
    Benchmark("RHT \(rounds) round\(rounds == 1 ? "" : "s") d=\(d) Swift reference", configuration: kernelConfiguration) {
      benchmark in
      for _ in benchmark.scaledIterations { reference.runReference() }
      blackHole(reference.y[0])
    }
  }

  // MARK: encode throughput of every product format, d = 1024, a batch of 1024 vectors
  let batch = TestBatch.unitGaussian(count: 1024, dimension: 1024, seed: 7)
  for method in QuantizerRegistry.standard.methods where method.family == "product format" {
    guard let quantizer = try? QuantizerRegistry.standard.makeQuantizer(method.name, dimension: 1024) else { continue }
    Benchmark(
      "encode \(quantizer.spec.description) d=1024 ×1024 [\(level)]",
      configuration: .init(metrics: [.wallClock, .throughput], timeUnits: .microseconds, warmupIterations: 2,
                           scalingFactor: .one, maxDuration: .seconds(2), maxIterations: 500)
    ) { benchmark in
      var codes = CodeBuffer(layout: quantizer.layout, count: 0)
      benchmark.startMeasurement()
      try quantizer.encode(batch, into: &codes)
      benchmark.stopMeasurement()
      blackHole(codes.count)
    }
  }
}

/// Seeded unit-norm Gaussian vectors (the test-support helper lives in a test-only module).
enum TestBatch {
  static func unitGaussian(count: Int, dimension: Int, seed: UInt64) -> VectorBatch {
    var g = SeededGenerator(seed: seed)
    var values = [Float](repeating: 0, count: count * dimension)
    for r in 0..<count {
      var norm = 0.0
      for c in 0..<dimension {
        let v = g.nextGaussian()
        values[r * dimension + c] = Float(v)
        norm += v * v
      }
      let inverse = Float(1 / norm.squareRoot())
      for c in 0..<dimension { values[r * dimension + c] *= inverse }
    }
    return try! VectorBatch(dimension: dimension, values: values)
  }
}
