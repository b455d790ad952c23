import Foundation
import Testing
import VQ
@testable import VQBench

@Suite("MeanEstimationExperiment")
struct MeanEstimationExperimentTests {
  static let fields = [
    "distribution", "k", "sigma_k", "lambda", "lambda_over_sigma", "mu", "epsilon", "delta", "method", "trials",
    "samples_needed", "q95_abs_error_at_n", "stage1_samples", "grid_ratio", "research_samples",
  ]

  @Test("the quick run returns the documented rows, the same at 1 and 2 threads")
  func quickRows() throws {
    let sections = try MeanEstimationExperiment.run(ExperimentSettings(seed: 3, threads: 2, scale: .quick))
    #expect(sections.count == 1)
    let section = try #require(sections.first)
    #expect(section.key == "mean_estimation")
    #expect(section.rows.count == 6)  // Gaussian λ ∈ {10, 100} × (adaptive, non-adaptive, unquantised)
    var methods = Set<String>()
    for row in section.rows {
      // A row that is not an object has no members, so the field list fails too.
      #expect(row.members.map(\.0) == Self.fields)
      if case .string(let m) = row["method"] { methods.insert(m) }
      guard case .int(let n) = row["samples_needed"] else {
        Issue.record("samples_needed is not a count: \(String(describing: row["samples_needed"]))")
        continue
      }
      #expect(n > 0)
    }
    #expect(methods == ["adaptive", "non_adaptive", "unquantised_mean"])
    #expect(!section.plots.isEmpty && section.table.contains("adaptive"))
    let single = try MeanEstimationExperiment.run(ExperimentSettings(seed: 3, threads: 1, scale: .quick))
    #expect(single.first?.rows == section.rows)
  }

  @Test("the grid search finds the first grid point under ε for a monotone error")
  func gridSearch() throws {
    // error(n) = 10/√n: first grid n with 10/√n ≤ 0.1 is the first grid value ≥ 10 000.
    let found = try #require(try MeanEstimationExperiment.samplesNeeded(minimum: 100, epsilon: 0.1, threads: 1) { 10 / Double($0).squareRoot() })
    var j = 0
    while MeanEstimationExperiment.grid(j) < 10_000 { j += 1 }
    #expect(found.n == MeanEstimationExperiment.grid(j))
  }
}
