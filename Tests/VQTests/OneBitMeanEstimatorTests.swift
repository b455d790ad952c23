import Foundation
import Testing
import VQ

@Suite("OneBitMean estimators")
struct OneBitMeanEstimatorTests {
  /// Runs `trials` estimates of μ from N(μ, 1) or μ + t(2) samples and returns how many land within ε.
  static func successes(
    adaptive: Bool, heavyTailed: Bool, lambda: Double, sigma: Double, k: Double, epsilon: Double, budget: Int, trials: Int, seed: UInt64
  ) throws -> Int {
    let mu = 0.37 * lambda
    var hits = 0
    for t in 0..<trials {
      var data = SeededGenerator(seed: seed, stream: UInt64(t))
      func sample() -> Double {
        guard heavyTailed else { return mu + data.nextGaussian() }
        var u = data.nextUniform()
        while u == 0 { u = data.nextUniform() }
        return mu + data.nextGaussian() / (-log(u)).squareRoot()
      }
      let estimate: Double
      if adaptive {
        var e = try OneBitMeanEstimator(lambda: lambda, sigma: sigma, k: k, epsilon: epsilon, delta: 0.05, budget: budget, seed: seed &+ UInt64(t))
        while !e.isComplete {
          let q = e.nextThreshold()
          let x = sample()
          try e.observe(bit: q.direction > 0 ? x > q.tau : x < q.tau)
        }
        #expect(e.samplesUsed == budget)
        estimate = e.estimate
      } else {
        var e = try NonAdaptiveOneBitMeanEstimator(lambda: lambda, sigma: sigma, k: k, epsilon: epsilon, delta: 0.05, budget: budget, seed: seed &+ UInt64(t))
        while !e.isComplete {
          let q = e.nextThreshold()
          try e.observe(bit: sample() > q.tau)
        }
        estimate = e.estimate
      }
      if abs(estimate - mu) <= epsilon { hits += 1 }
    }
    return hits
  }

  @Test("Gaussian, λ/σ = 1000, ε = 0.1, δ = 0.05: adaptive meets (ε, δ) with 2e4 samples, non-adaptive fails with 10× more")
  func gaussianAdaptivityGap() throws {
    // asq-ipaware.md §7 test 9. Adaptive: 400 trials at 2·10⁴ samples; the binomial SE of the success
    // rate at p = 0.95 is √(0.95·0.05/400) = 0.011, and the experiment's true rate at this budget is ≈ 0.98.
    let adaptive = try Self.successes(
      adaptive: true, heavyTailed: false, lambda: 1000, sigma: 1, k: 2, epsilon: 0.1, budget: 20_000, trials: 400, seed: 11)
    #expect(Double(adaptive) / 400 >= 0.95)
    // Non-adaptive at 2·10⁵ (10×): its error sd is ≈ √(1150/2e5) ≈ 0.076, so P(|err| ≤ 0.1) ≈ 0.81; with
    // 100 trials (SE √(0.81·0.19/100) = 0.04) the rate stays below 0.95 by ≈ 3.5 SE: it needs more than 10×.
    let nonAdaptive = try Self.successes(
      adaptive: false, heavyTailed: false, lambda: 1000, sigma: 1, k: 2, epsilon: 0.1, budget: 200_000, trials: 100, seed: 12)
    #expect(Double(nonAdaptive) / 100 < 0.95)
  }

  @Test("Student-t(2), k = 1.5, λ/σ ≈ 469: adaptive meets (ε, δ) where non-adaptive does not, at the same budget")
  func studentTAdaptivityGap() throws {
    let sigma = 2.1344, epsilon = 0.1 * sigma
    // Adaptive at 6·10⁴ samples, 200 trials: binomial SE at p = 0.95 is 0.015 (the experiment needs ≈ 3·10⁴ for 95 %).
    let adaptive = try Self.successes(
      adaptive: true, heavyTailed: true, lambda: 1000, sigma: sigma, k: 1.5, epsilon: epsilon, budget: 60_000, trials: 200, seed: 21)
    #expect(Double(adaptive) / 200 >= 0.95)
    // Non-adaptive at the same 6·10⁴: error sd ≈ 0.25 > ε, success rate ≈ 0.6; 60 trials, SE ≈ 0.06.
    let nonAdaptive = try Self.successes(
      adaptive: false, heavyTailed: true, lambda: 1000, sigma: sigma, k: 1.5, epsilon: epsilon, budget: 60_000, trials: 60, seed: 22)
    #expect(Double(nonAdaptive) / 60 < 0.85)
  }

  @Test("the stage-2 importance-sampled score is unbiased for clip(x − m, −R, R)")
  func refinementScoreIsUnbiased() {
    // For fixed x, E[Y] = clip(x − m, −R, R); 200 000 draws each, |mean − target| ≤ 3 SE with the SE
    // measured from the same draws (≈ 0.02–0.2 here).
    let m = 0.5, r = 40.0, c = 1.0
    for (i, x) in [-3.0, 0.5, 1.7, 25.0, 90.0].enumerated() {
      var g = SeededGenerator(seed: 31, stream: UInt64(i))
      let n = 200_000
      var sum = 0.0, sumSquares = 0.0
      for _ in 0..<n {
        let y = OneBitMeanEstimator.refinementScore(sample: x, centre: m, truncation: r, offset: c, using: &g)
        sum += y
        sumSquares += y * y
      }
      let mean = sum / Double(n)
      let se = ((sumSquares / Double(n) - mean * mean) / Double(n)).squareRoot()
      let target = min(max(x - m, -r), r)
      #expect(abs(mean - target) <= 3 * se + 1e-12, "x = \(x): mean \(mean), target \(target), SE \(se)")
    }
  }

  @Test("queries: stage 1 asks upward at the interval midpoint, a query repeats until answered, counts add up")
  func sequentialProtocol() throws {
    var e = try OneBitMeanEstimator(lambda: 100, sigma: 1, k: 2, epsilon: 0.1, delta: 0.05, budget: 5_000, seed: 3)
    #expect(e.isLocalising)
    let first = e.nextThreshold()
    #expect(first == OneBitMeanEstimator.Query(tau: 0, direction: 1))
    #expect(e.nextThreshold() == first)
    #expect(e.plannedSamples == 5_000)
    #expect(e.localisationSamples == e.localisationRounds * e.samplesPerRound)
    var g = SeededGenerator(seed: 4)
    var directions = Set<Int>()
    while !e.isComplete {
      let q = e.nextThreshold()
      #expect(e.nextThreshold() == q)
      if !e.isLocalising { directions.insert(q.direction) }
      let x = 37 + g.nextGaussian()
      try e.observe(bit: q.direction > 0 ? x > q.tau : x < q.tau)
    }
    #expect(directions == [1, -1])
    let (lo, hi) = e.interval
    #expect(lo <= 37 && 37 <= hi && hi - lo <= 4 * e.halfWidth)
    #expect(throws: VQError.self) { try e.observe(bit: true) }
  }

  @Test("bad parameters throw VQError naming the parameter")
  func badParameters() {
    let cases: [(Double, Double, Double, Double, Double, String)] = [
      (0, 1, 2, 0.1, 0.05, "lambda"), (10, -1, 2, 0.1, 0.05, "sigma"), (10, 1, 1, 0.1, 0.05, "moment order k"),
      (10, 1, 2, .nan, 0.05, "epsilon"), (10, 1, 2, 0.1, 1, "delta"), (.infinity, 1, 2, 0.1, 0.05, "lambda"),
    ]
    for (l, s, k, eps, d, name) in cases {
      let adaptive = #expect(throws: VQError.self) { _ = try OneBitMeanEstimator(lambda: l, sigma: s, k: k, epsilon: eps, delta: d) }
      #expect(adaptive.map { "\($0)".contains(name) } == true, "\(String(describing: adaptive)) should name \(name)")
      let baseline = #expect(throws: VQError.self) { _ = try NonAdaptiveOneBitMeanEstimator(lambda: l, sigma: s, k: k, epsilon: eps, delta: d) }
      #expect(baseline.map { "\($0)".contains(name) } == true, "\(String(describing: baseline)) should name \(name)")
    }
    #expect(throws: VQError.self) { _ = try OneBitMeanEstimator(lambda: 1000, sigma: 1, k: 2, epsilon: 0.1, delta: 0.05, budget: 10) }
    #expect(throws: VQError.self) { _ = try NonAdaptiveOneBitMeanEstimator(lambda: 1000, sigma: 1, k: 2, epsilon: 0.1, delta: 0.05, budget: 10) }
  }

  @Test("the default sizes follow the guarantee: adaptive flat in λ, non-adaptive growing")
  func defaultSizes() throws {
    let a1 = try OneBitMeanEstimator(lambda: 10, sigma: 1, k: 2, epsilon: 0.1, delta: 0.05)
    let a2 = try OneBitMeanEstimator(lambda: 1000, sigma: 1, k: 2, epsilon: 0.1, delta: 0.05)
    // Stage 2 depends on λ only through the final stage-1 interval, whose length lies in (2w, 4w]: ×100 in
    // λ changes it by less than ×2 (here 7.5e6 → 1.0e7).
    #expect(Double(a2.refinementSamples) < 2 * Double(a1.refinementSamples))
    #expect(a2.localisationSamples > a1.localisationSamples)
    #expect(a1.groups == 30)  // ⌈8 ln(2/0.05)⌉
    let b1 = try NonAdaptiveOneBitMeanEstimator(lambda: 10, sigma: 1, k: 2, epsilon: 0.1, delta: 0.05)
    let b2 = try NonAdaptiveOneBitMeanEstimator(lambda: 1000, sigma: 1, k: 2, epsilon: 0.1, delta: 0.05)
    #expect(b2.plannedSamples > 10 * b1.plannedSamples)
  }
}
