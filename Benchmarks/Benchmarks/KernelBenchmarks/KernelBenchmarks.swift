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

  // MARK: encode d = 1024, 4 bits, rotate + quantize + pack (the issue-4 target: 2.8 M vectors/s on AVX2)
  let batch = TestBatch.unitGaussian(count: 1024, dimension: 1024, seed: 7)
  for spec in ["eden:bits=4", "turbo-mse:bits=4", "eden:bits=4,rounds=1", "rabitq:bits=1"] {
    guard let quantizer = try? QuantizerRegistry.standard.makeQuantizer(spec, dimension: 1024) else { continue }
    Benchmark(
      "encode \(spec) d=1024 ×1024 [\(level)]",
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

  // MARK: the 1-bit RaBitQ estimator kernel and the FastScan kernel, 256 KB of codes (time per 1024 codes)
  let scanConfiguration = Benchmark.Configuration(
    metrics: [.wallClock], timeUnits: .nanoseconds, warmupIterations: 3, scalingFactor: .one,
    maxDuration: .seconds(2), maxIterations: 5_000)
  for d in [128, 1024] {
    for planes in [1, 4] {
      let bytes = d / 8, count = 1024
      let codes = TestBatch.randomBytes(count * bytes, seed: UInt64(d)), query = TestBatch.randomBytes(planes * bytes, seed: 3)
      Benchmark("1-bit estimator d=\(d) query bits=\(planes) ×1024 codes [\(level)]", configuration: scanConfiguration) {
        benchmark in
        var dot = [Int64](repeating: 0, count: 256), pop = dot
        codes.withUnsafeBufferPointer { c in
          for start in stride(from: 0, to: count, by: 256) {
            Kernels.rabitqSignDot(codes: c.baseAddress! + start * bytes, stride: bytes, count: 256, bytes: bytes,
                                  planes: query, planeCount: planes, dot: &dot, popcount: &pop)
          }
        }
        blackHole(dot[0])
      }
    }
    let pairs = d / 8, blocks = 32
    let blocked = TestBatch.randomBytes(blocks * 32 * pairs, seed: 5), tables = TestBatch.randomBytes(32 * pairs, seed: 6)
    Benchmark("FastScan kernel d=\(d) (\(2 * pairs) sub-quantizers) ×1024 codes [\(level)]", configuration: scanConfiguration) {
      benchmark in
      var sums = [UInt32](repeating: 0, count: 32 * blocks)
      Kernels.fastScanAccumulate(blocks: blocked, blockCount: blocks, pairCount: pairs, luts: tables, into: &sums)
      blackHole(sums[0])
    }
  }

  // MARK: encode throughput of every product format, d = 1024, a batch of 1024 vectors
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
  static func randomBytes(_ n: Int, seed: UInt64) -> [UInt8] {
    var g = SeededGenerator(seed: seed)
    return (0..<n).map { _ in UInt8(truncatingIfNeeded: g.next()) }
  }

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
