import Testing
import VQ

@Suite("ASQ minimax (worst-case inner product) levels and the AMQ exponential baseline")
struct ASQMinimaxTests {
  /// asq-ipaware.md §7 item 7: the minimax levels' worst variance is at most ASQ's (and the uniform grid's),
  /// it meets the bisection's feasible bound, and the greedy test says no level set reaches just below it.
  @Test("minimax: worst variance ≤ feasible bound ≤ infeasible bound·(1 + 1e-12), ≤ ASQ's and uniform's worst variance",
        arguments: ["normal", "lognormal", "exponential"])
  func minimaxBoundsAndComparisons(_ distribution: String) throws {
    let x = ASQTestData.vector(distribution, count: 4096, seed: 11).map { Float($0) }
    let sorted = x.map(Double.init).sorted()
    for s in [2, 3, 4, 8, 16] {
      let minimax = try ASQ.minimaxLevels(x, levels: s)
      #expect(minimax.levels.count == s)
      #expect(minimax.levels.first == sorted.first && minimax.levels.last == sorted.last)
      #expect(zip(minimax.levels, minimax.levels.dropFirst()).allSatisfy { $0 <= $1 })
      #expect(minimax.maxVariance == ASQObjective.maxVariance(x, levels: minimax.levels))
      // Each level sits at x + τ/(x − a) for some point: a few roundings away from τ exactly.
      #expect(minimax.maxVariance <= minimax.feasibleBound * (1 + 1e-12), "\(distribution) s=\(s)")
      #expect(minimax.infeasibleBound < minimax.feasibleBound)
      #expect(minimax.feasibleBound <= minimax.infeasibleBound * (1 + 1e-12), "bisection did not close: s=\(s)")
      let asq = try ASQ.exactLevels(sorted: sorted, levels: s)
      let uniform = try ASQ.uniformLevels(x, levels: s)
      #expect(minimax.maxVariance <= ASQObjective.maxVariance(x, levels: asq.levels) * (1 + 1e-12))
      #expect(minimax.maxVariance <= ASQObjective.maxVariance(x, levels: uniform.levels) * (1 + 1e-12))
      // The other objective pays: minimax levels never beat the ASQ optimum on the sum of variances.
      #expect(minimax.sumOfVariances >= asq.objective * (1 - 1e-9))
      if s == 2 {
        // Two levels leave no choice: the worst variance is max (x − min)(max − x).
        let lo = sorted.first!, hi = sorted.last!
        let direct = sorted.map { ($0 - lo) * (hi - $0) }.max()!
        #expect(minimax.maxVariance == direct)
      }
    }
  }

  /// Independent of the greedy: three levels on a few points, the middle level scanned on a grid of
  /// 200 001 values; the minimax optimum is at most the best grid value and at least it minus the grid's
  /// resolution effect (the worst variance moves by ≤ range·step per grid step).
  @Test("minimax with 3 levels matches a dense scan of the middle level on small inputs")
  func minimaxMatchesDenseScan() throws {
    var g = SeededGenerator(seed: 5)
    for trial in 0..<20 {
      let x = (0..<(5 + trial % 4)).map { _ in Float(g.nextGaussian() * (trial % 2 == 0 ? 1 : 3)) }
      let sorted = x.map(Double.init).sorted()
      let lo = sorted.first!, hi = sorted.last!
      let steps = 200_000
      var best = Double.infinity
      for i in 0...steps {
        let q = lo + (hi - lo) * Double(i) / Double(steps)
        var worst = 0.0
        for v in sorted { worst = Swift.max(worst, v <= q ? (v - lo) * (q - v) : (v - q) * (hi - v)) }
        best = Swift.min(best, worst)
      }
      let minimax = try ASQ.minimaxLevels(x, levels: 3)
      let resolution = (hi - lo) * (hi - lo) / Double(steps)
      #expect(minimax.maxVariance <= best * (1 + 1e-12), "trial \(trial): \(minimax.maxVariance) vs scan \(best)")
      #expect(minimax.maxVariance >= best - 2 * resolution, "trial \(trial): \(minimax.maxVariance) vs scan \(best)")
    }
  }

  @Test("minimax: as many distinct points as levels gives zero worst variance; constant input; errors")
  func minimaxEdges() throws {
    let few = try ASQ.minimaxLevels([3, 1, 2, 2, 1], levels: 4)
    #expect(few.maxVariance == 0 && few.levels.first == 1 && few.levels.last == 3 && few.levels.count == 4)
    let constant = try ASQ.minimaxLevels([2, 2, 2], levels: 3)
    #expect(constant.levels == [2, 2, 2] && constant.maxVariance == 0)
    #expect(throws: VQError.self) { try ASQ.minimaxLevels([1, 2], levels: 1) }
    #expect(throws: VQError.self) { try ASQ.minimaxLevels([], levels: 4) }
    #expect(throws: VQError.self) { try ASQ.minimaxLevels([1, .nan, 2], levels: 4) }
  }

  /// The AMQ baseline on heavy-tailed signed data (N(0,1)·exp(N(0,1)), d = 2^14): exponential spacing
  /// beats the uniform grid by far (numpy, other seeds: 10.5–14× at s = 8…16) and never the exact optimum.
  @Test("AMQ exponential levels: exact ≤ AMQ, 5·AMQ ≤ uniform on heavy tails, objective = direct sum, ratio structure")
  func exponentialBaseline() throws {
    var g = SeededGenerator(seed: 17)
    let heavy = (0..<(1 << 14)).map { _ in Float(g.nextGaussian() * Double.exp(g.nextGaussian())) }
    let positive = ASQTestData.vector("lognormal", count: 1 << 14, seed: 3).map { Float($0) }
    for (name, x) in [("heavy", heavy), ("lognormal", positive)] {
      let sorted = x.map(Double.init).sorted()
      for s in [4, 8, 9, 16] {
        let amq = try ASQ.exponentialLevels(x, levels: s)
        #expect(amq.levels.count == s && amq.ratio > 0 && amq.ratio < 1)
        #expect(amq.levels.first! <= sorted.first! && amq.levels.last! >= sorted.last!)
        let direct = ASQObjective.sumOfVariances(x, levels: amq.levels)
        #expect(Swift.abs(direct - amq.objective) <= 1e-9 * direct, "\(name) s=\(s)")
        let exact = try ASQ.exactLevels(sorted: sorted, levels: s)
        #expect(exact.objective <= amq.objective * (1 + 1e-9), "\(name) s=\(s)")
        let uniform = try ASQ.uniformLevels(x, levels: s)
        if name == "heavy" && s >= 8 { #expect(5 * amq.objective <= uniform.objective, "\(name) s=\(s): \(uniform.objective / amq.objective)") }
        // Magnitudes on one side are M, M·p, M·p², … (p exact up to rounding of the products).
        let magnitudes = amq.levels.filter { $0 > 0 }.sorted(by: >)
        for i in 1..<magnitudes.count {
          #expect(Swift.abs(magnitudes[i] / magnitudes[i - 1] - amq.ratio) <= 1e-12, "\(name) s=\(s)")
        }
        #expect(amq.levels.contains(0) == (name == "lognormal" || s % 2 == 1))
      }
    }
    #expect(throws: VQError.self) { try ASQ.exponentialLevels([1, 2], levels: 1) }
    #expect(throws: VQError.self) { try ASQ.exponentialLevels([Float.infinity, 2], levels: 4) }
  }
}
