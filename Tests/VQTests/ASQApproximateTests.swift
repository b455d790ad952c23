import Testing
import VQ

@Suite("ASQ approximate (histogram) and baselines")
struct ASQApproximateTests {
  /// asq-ipaware.md §7 item 4: M = 1000 within 2 % of exact, M = 10 000 within 0.1 %, polished within 0.1 %.
  @Test("histogram DP vs exact at d = 2^16, s = 8 and 32: M = 1000 ≤ 1.02×, M = 10 000 ≤ 1.001×, M = 1000 + 5 polish sweeps ≤ 1.001×",
        arguments: ["normal", "lognormal", "exponential"])
  func withinToleranceOfExact(_ distribution: String) throws {
    let x = ASQTestData.vector(distribution, count: 1 << 16, seed: 1).map { Float($0) }
    let sorted = x.map(Double.init).sorted()
    for s in [8, 32] {
      let exact = try ASQ.exactLevels(sorted: sorted, levels: s)
      let optimum = ASQObjective.sumOfVariances(x, levels: exact.levels)
      // The DP's prefix-sum objective vs direct evaluation: rounding of sums over 2^16 points (≤ 1e-7 relative).
      #expect(Swift.abs(optimum - exact.objective) <= 1e-7 * optimum)
      let coarse = try ASQ.approximateLevels(x, levels: s, gridPoints: 1000)
      let fine = try ASQ.approximateLevels(x, levels: s, gridPoints: 10_000)
      let polished = try ASQ.approximateLevels(x, levels: s, gridPoints: 1000, polishSweeps: 5)
      for (name, solution, bound) in [("M=1000", coarse, 1.02), ("M=10000", fine, 1.001), ("M=1000+polish", polished, 1.001)] {
        let sv = ASQObjective.sumOfVariances(x, levels: solution.levels)
        #expect(sv >= optimum * (1 - 1e-12), "\(distribution) s=\(s) \(name) beats the optimum?")
        #expect(sv <= bound * optimum, "\(distribution) s=\(s) \(name): \(sv / optimum)")
        // The solver's own objective is the exact sum of variances of its grid levels.
        #expect(Swift.abs(solution.objective - sv) <= 1e-6 * sv)
        #expect(solution.levels.first == Double(x.min()!) && solution.levels.last == Double(x.max()!))
      }
    }
  }

  @Test("weighted histogram DP ≥ weighted optimum and within 2 % of it (M = 1000, d = 2^14, s = 8)")
  func weightedHistogram() throws {
    var g = SeededGenerator(seed: 31)
    let x = ASQTestData.vector("normal", count: 1 << 14, seed: 32).map { Float($0) }
    let w = x.map { _ in 0.1 + 2 * g.nextUniform() }
    let order = x.indices.sorted { x[$0] < x[$1] }
    let exact = try ASQ.exactLevels(sorted: order.map { Double(x[$0]) }, weights: order.map { w[$0] }, levels: 8)
    let optimum = ASQObjective.sumOfVariances(x, levels: exact.levels, weights: w)
    let approx = try ASQ.approximateLevels(x, weights: w, levels: 8, gridPoints: 1000)
    let sv = ASQObjective.sumOfVariances(x, levels: approx.levels, weights: w)
    #expect(sv >= optimum * (1 - 1e-12) && sv <= 1.02 * optimum, "\(sv / optimum)")
  }

  @Test("baselines at d = 2^14, s = 16: uniform ≥ ALQ ≥ exact; ALQ from uniform improves on uniform")
  func baselines() throws {
    for distribution in ["normal", "lognormal"] {
      let x = ASQTestData.vector(distribution, count: 1 << 14, seed: 2).map { Float($0) }
      let sorted = x.map(Double.init).sorted()
      let exact = try ASQ.exactLevels(sorted: sorted, levels: 16)
      let uniform = try ASQ.uniformLevels(x, levels: 16)
      let alq = try ASQ.alqLevels(sorted: sorted, levels: 16, sweeps: 30)
      #expect(exact.objective <= alq.objective * (1 + 1e-12))
      #expect(alq.objective < uniform.objective)
      #expect(Swift.abs(uniform.objective - ASQObjective.sumOfVariances(x, levels: uniform.levels)) <= 1e-9 * uniform.objective)
    }
  }

  @Test("errors: grid of 1 point, empty input, NaN (named by column), constant input")
  func errors() throws {
    #expect(throws: VQError.self) { try ASQ.approximateLevels([1, 2], levels: 4, gridPoints: 1) }
    #expect(throws: VQError.self) { try ASQ.approximateLevels([], levels: 4, gridPoints: 100) }
    #expect(throws: VQError.nonFinite(source: "ASQ input", row: 0, column: 2, value: .infinity)) {
      try ASQ.approximateLevels([1, 2, .infinity], levels: 4, gridPoints: 100)
    }
    let constant = try ASQ.approximateLevels([3, 3, 3], levels: 4, gridPoints: 100)
    #expect(constant.levels == [3, 3, 3, 3] && constant.objective == 0)
  }
}
