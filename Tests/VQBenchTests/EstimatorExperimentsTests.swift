import Foundation
import Testing
@testable import VQBench

/// Every experiment of `vq bench --estimators` at quick scale, through the real report: the six
/// report.json keys of issue 11, rows whose field names agree within each section, finite numbers where
/// the table prints them, and a page whose plots all draw in Chromium. The experiments' own suites test
/// what the numbers mean; this one tests that they arrive.
@Suite("Estimator experiments (quick, end to end)", .serialized)
struct EstimatorExperimentsTests {
  static let expectedKeys = ["qrp", "mean_estimation", "dme", "sgd", "scaling", "lowrank"]

  static let report: Result<ExperimentReport, any Error> = Result {
    try ExperimentReport.run(Experiments.all, settings: ExperimentSettings(seed: 3, threads: 2, scale: .quick))
  }

  @Test("report.json has one non-empty list per issue-11 key, rows with one set of field names per section")
  func keysAndRows() throws {
    let report = try Self.report.get()
    guard case .object(let members) = report.jsonValue else { Issue.record("report is not an object"); return }
    let keys = members.map(\.0)
    #expect(Array(keys.suffix(Self.expectedKeys.count)) == Self.expectedKeys, "\(keys)")
    for section in report.sections {
      #expect(!section.rows.isEmpty, "\(section.key): no rows")
      #expect(!section.table.isEmpty, "\(section.key): no table")
      var fieldSets = Set<[String]>()
      for row in section.rows {
        guard case .object(let fields) = row else { Issue.record("\(section.key): a row is not an object"); continue }
        fieldSets.insert(fields.map(\.0))
        #expect(!fields.isEmpty)
      }
      #expect(fieldSets.count == 1, "\(section.key) '\(section.title)': rows disagree on their fields: \(fieldSets)")
    }
  }

  @Test("the same seed gives the same rows with 1 and 2 threads")
  func threadCountDoesNotMatter() throws {
    let two = try Self.report.get()
    let one = try ExperimentReport.run(Experiments.all, settings: ExperimentSettings(seed: 3, threads: 1, scale: .quick))
    for (a, b) in zip(one.sections, two.sections) {
      #expect(a.rows == b.rows, "\(a.key) '\(a.title)' differs between 1 and 2 threads")
    }
  }

  @Test(.enabled(if: ChromiumPage.executable != nil, "SKIPPED LOUDLY: chromium is not installed (apt-get install -y chromium; .ci/run does it)"))
  func everyPlotDraws() throws {
    let report = try Self.report.get()
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vq-estimators-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(at: folder) }
    let paths = try report.write(folder: folder.path)
    let plots = try ChromiumPage.renderedPlots(URL(fileURLWithPath: paths.html))
    let ids = report.sections.flatMap(\.plots).map(\.id)
    #expect(!ids.isEmpty && Set(ids).count == ids.count, "plot ids must be unique: \(ids)")
    #expect(Set(plots.compactMap { $0["id"] as? String }) == Set(ids))
    ChromiumPage.expectEveryPlotDrew(plots)
  }
}
