import Foundation
import Testing
@testable import VQBench

/// The `--dme` experiment at `.quick` scale: two sections (`dme`, `sgd`) whose rows carry the
/// documented fields, identical with 1 and 2 threads.
@Suite struct DMEExperimentTests {
  static let dmeFields = [
    "distribution", "method", "family", "unbiased", "dimension", "bits_per_coordinate", "message_bits", "repetitions",
    "vnmse", "vnmse_se", "vnmse_theory", "clients", "nmse_distinct", "nmse_distinct_se", "nmse_distinct_theory",
    "nmse_same", "nmse_same_se", "nmse_same_theory",
  ]
  static let sgdFields = [
    "problem", "method", "compressor", "period", "workers", "dimension", "steps", "batch", "learning_rate", "repeats",
    "bits_per_coordinate_per_message", "rounds", "bits_per_worker", "bits_fraction_of_fp32", "initial_loss", "optimal_loss",
    "final_loss", "final_loss_se", "excess_loss", "excess_loss_se", "test_accuracy",
  ]

  @Test func quickRowsHaveTheDocumentedFieldsAndDoNotDependOnThreads() throws {
    let one = try DMEExperiment.run(ExperimentSettings(seed: 3, threads: 1, scale: .quick))
    let two = try DMEExperiment.run(ExperimentSettings(seed: 3, threads: 2, scale: .quick))
    #expect(one.map(\.key) == ["dme", "sgd"])
    let dme = one[0], sgd = one[1]
    #expect(dme.rows.count == 2 * 15)   // 2 distributions × 15 compressors
    #expect(sgd.rows.count == 2 * 8)    // 2 problems × 8 methods
    for row in dme.rows { #expect(row.members.map(\.0) == Self.dmeFields) }
    for row in sgd.rows { #expect(row.members.map(\.0) == Self.sgdFields) }
    #expect(dme.plots.count == 1 && sgd.plots.count == 2)
    #expect(one.map { $0.rows.map { $0.rendered() } } == two.map { $0.rows.map { $0.rendered() } })
    // Sanity: the EDEN 1-bit single-client vNMSE is near π/2 − 1 even at quick scale (12 repetitions,
    // SE ≈ 0.0075 observed: the 0.03 margin is 4 SE).
    let eden1 = dme.rows.first { $0["bits_per_coordinate"]?.number.map { $0 < 1.1 } == true && !$0.members.isEmpty
      && $0.rendered().contains("\"EDEN 1-bit\"") }
    #expect(eden1.flatMap { $0["vnmse"]?.number }.map { abs($0 - 0.5708) < 0.03 } == true)
    // Every SGD method lowers the loss.
    for row in sgd.rows {
      let final = try #require(row["final_loss"]?.number), initial = try #require(row["initial_loss"]?.number)
      #expect(final < initial, "\(row.rendered())")
    }
    #expect(!dme.table.isEmpty && !sgd.table.isEmpty)
  }
}
