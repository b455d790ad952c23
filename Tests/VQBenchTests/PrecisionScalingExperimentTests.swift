import Foundation
import Testing
import VQ
@testable import VQBench

@Suite("PrecisionScalingExperiment")
struct PrecisionScalingExperimentTests {
  static let fields = [
    "model", "noise_sigma_relative", "noise_sigma_applied", "dimension", "model_size", "samples", "seeds", "excess_risk",
    "excess_risk_se", "population_risk", "m_eff_over_m", "fit_floor", "fit_m_eff_over_m", "fit_amplitude", "fit_exponent",
  ]

  @Test("the quick run returns the documented rows: one per (model, noise level, M), independent of threads")
  func quickRows() throws {
    let sections = try PrecisionScalingExperiment.run(ExperimentSettings(seed: 5, threads: 2, scale: .quick))
    let section = try #require(sections.first)
    #expect(sections.count == 1 && section.key == "scaling")
    let plan = PrecisionScalingExperiment.plan(.quick)
    #expect(section.rows.count == (1 + 2 * plan.noiseLevels.count) * plan.modelSizes.count)
    var models = Set<String>()
    for row in section.rows {
      // A row that is not an object has no members, so the field list fails too.
      #expect(row.members.map(\.0) == Self.fields)
      if case .string(let m) = row["model"] { models.insert(m) }
      guard case .double(let risk) = row["excess_risk"], case .int(let m) = row["model_size"], case .int(let n) = row["samples"] else {
        Issue.record("excess_risk / model_size / samples missing")
        continue
      }
      #expect(risk > 0 && risk.isFinite)
      #expect(n == plan.samplesPerFeature * m)
    }
    #expect(models == ["full_precision", "additive", "multiplicative"])
    #expect(!section.plots.isEmpty)
    let single = try PrecisionScalingExperiment.run(ExperimentSettings(seed: 5, threads: 1, scale: .quick))
    #expect(single.first?.rows == section.rows)
  }
}
