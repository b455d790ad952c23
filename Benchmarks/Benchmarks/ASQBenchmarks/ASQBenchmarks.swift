// Adaptive stochastic quantization (ASQ, issue 6) benchmarks (ordo-one/benchmark). Run from the repository root:
//
//   swift package --package-path Benchmarks benchmark --target ASQBenchmarks
//
// Exact ASQ at d = 2^20, s = 16 (the DP on a sorted vector, and with the sort), and the sort-free
// approximate solver end to end (min/max pass, binning, histogram DP, optional polish). Single thread.
// QUIVER (C++) and these solvers in one run on the same data: Benchmarks/quiver/run.sh; results in Benchmarks/README.md, section
// "Adaptive stochastic quantization (ASQ) vs QUIVER".
import Benchmark
import VQ

/// A seeded vector of 2^20 values and its sorted copy (Double).
final class ASQFixture: @unchecked Sendable {
  let x: [Float]
  let sorted: [Double]

  init(lognormal: Bool, count: Int = 1 << 20, seed: UInt64 = 42) {
    var g = SeededGenerator(seed: seed)
    x = (0..<count).map { _ in
      let z = g.nextGaussian()
      return Float(lognormal ? Double.exp(z) : z)
    }
    sorted = x.map(Double.init).sorted()
  }
}

let benchmarks: @Sendable () -> Void = {
  let configuration = Benchmark.Configuration(
    metrics: [.wallClock, .cpuTotal], timeUnits: .milliseconds, warmupIterations: 1, scalingFactor: .one,
    maxDuration: .seconds(10), maxIterations: 10)
  let fast = Benchmark.Configuration(
    metrics: [.wallClock, .cpuTotal], timeUnits: .milliseconds, warmupIterations: 2, scalingFactor: .one,
    maxDuration: .seconds(5), maxIterations: 100)

  for (name, lognormal) in [("normal", false), ("lognormal", true)] {
    let fixture = ASQFixture(lognormal: lognormal)
    Benchmark("ASQ exact d=2^20 s=16 \(name) (sorted input: DP only)", configuration: configuration) { benchmark in
      benchmark.startMeasurement()
      let solution = try ASQ.exactLevels(sorted: fixture.sorted, levels: 16)
      benchmark.stopMeasurement()
      blackHole(solution.objective)
    }
    Benchmark("ASQ exact d=2^20 s=16 \(name) (with the sort)", configuration: configuration) { benchmark in
      benchmark.startMeasurement()
      let solution = try ASQ.exactLevels(fixture.x, levels: 16)
      benchmark.stopMeasurement()
      blackHole(solution.objective)
    }
    for polish in [0, 3] {
      Benchmark("ASQ approx d=2^20 s=16 M=1000 polish=\(polish) \(name) (end to end, no sort)", configuration: fast) { benchmark in
        benchmark.startMeasurement()
        let solution = try ASQ.approximateLevels(fixture.x, levels: 16, gridPoints: 1000, polishSweeps: polish)
        benchmark.stopMeasurement()
        blackHole(solution.objective)
      }
    }
  }
}
