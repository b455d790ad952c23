import Foundation
import Testing
import VQ
@testable import VQBench

/// `vq bench --qrp` at `.quick` scale (200 repetitions per row).
@Suite struct QRPExperimentTests {
  @Test("quick run: two qrp sections with the stated fields; MLE beats linear at b = 1, ρ = 0.9; same rows for 1 or 2 threads")
  func quickRun() throws {
    let experiment = try #require(Experiments.named("qrp"))
    let sections = try experiment.run(ExperimentSettings(seed: 3, threads: 2, scale: .quick))
    #expect(sections.count == 2 && sections.allSatisfy { $0.key == "qrp" })
    let estimators = sections[0].rows, budget = sections[1].rows
    #expect(estimators.count == 12 + 3 && budget.count == 12)
    let fields = ["kind", "bits", "rho", "projections", "repetitions", "mle_mean", "k_var_mle", "k_var_mle_se", "k_var_fisher",
                  "linear_mean", "k_mse_linear", "k_mse_linear_se", "normalized_mean", "k_mse_normalized",
                  "k_mse_normalized_se", "k_mse_simhash", "bits_times_k_var_fisher", "research_k_var_mle", "research_k_var_fisher"]
    for row in estimators {
      #expect(row.members.map(\.0) == fields)
      #expect(row["repetitions"]?.number == 200 && row["projections"]?.number == 256)
    }
    for row in budget {
      #expect(row.members.map(\.0) == ["kind", "budget_bits", "bits", "projections", "rho", "repetitions", "budget_var_mle",
                                   "budget_var_mle_se", "budget_var_fisher", "budget_mse_normalized", "budget_mse_normalized_se"])
      #expect(row["budget_bits"]?.number == 768)
    }
    let oneBit = try #require(estimators.first { $0["bits"]?.number == 1 && $0["rho"]?.number == 0.9 })
    let mleVar = try #require(oneBit["k_var_mle"]?.number), linearMSE = try #require(oneBit["k_mse_linear"]?.number)
    // Research: k·Var(MLE) 0.233 vs k·MSE(linear) 9.44 (the linear estimator's bias (2/π)arcsin 0.9 − 0.9 = −0.187).
    #expect(mleVar < linearMSE / 10, "k·Var(MLE) \(mleVar) vs k·MSE(linear) \(linearMSE)")
    // 200 repetitions: SE of k·Var ≈ 10 %; the Fisher value 0.231 within 4 SE.
    let se = try #require(oneBit["k_var_mle_se"]?.number)
    #expect(abs(mleVar - 0.2310) < 4 * se, "\(mleVar) ± \(se)")
    // SimHash equals the 1-bit MLE.
    #expect(abs(try #require(oneBit["k_mse_simhash"]?.number) - mleVar) < 0.05 * mleVar)
    // The rows do not depend on the thread count.
    let single = try experiment.run(ExperimentSettings(seed: 3, threads: 1, scale: .quick))
    #expect(single.map(\.rows) == sections.map(\.rows))
    #expect(!sections[0].plots.isEmpty && sections[0].plots[0].render().contains("<svg"))
  }
}
