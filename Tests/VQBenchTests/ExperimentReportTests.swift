import Foundation
import Testing
@testable import VQBench

@Suite("ExperimentReport")
struct ExperimentReportTests {
  static func sampleSections() -> [ExperimentSection] {
    let plot = SVGPlot(
      id: "sample-plot", title: "sample", xLabel: "x", yLabel: "y", yLog: true,
      series: [SVGPlot.Series(name: "a<b", color: "#000000", points: [(1, 1), (2, 0.5), (4, 0.25)])])
    return [
      ExperimentSection(
        key: "qrp", title: "First & second",
        rows: [.object([("bits", .int(1)), ("k_var", .double(2.1))]), .object([("bits", .int(2)), ("k_var", .double(.nan))])],
        table: "bits k_var\n1 2.1\n2 –", notes: ["a note with <markup>"], plots: [plot]),
      ExperimentSection(key: "dme", title: "Third", rows: [.object([("method", .string("eden"))])], table: "method\neden"),
      ExperimentSection(key: "qrp", title: "More qrp rows", rows: [.object([("bits", .int(3)), ("k_var", .double(0.8))])], table: "3 0.8"),
    ]
  }

  @Test("report.json: run facts first, then one key per section key in order, rows of sections with one key joined")
  func json() throws {
    let report = ExperimentReport(settings: ExperimentSettings(seed: 9, scale: .quick), elapsedSeconds: 1.5, sections: Self.sampleSections())
    guard case .object(let members) = report.jsonValue else { Issue.record("not an object"); return }
    #expect(members.map(\.0) == ["tool", "version", "machine", "build", "seed", "scale", "elapsed_seconds", "qrp", "dme"])
    let object = try #require(try JSONSerialization.jsonObject(with: Data(report.jsonValue.rendered().utf8)) as? [String: Any])
    let qrp = try #require(object["qrp"] as? [[String: Any]])
    #expect(qrp.map { $0["bits"] as? Int } == [1, 2, 3])
    #expect(qrp[1]["k_var"] is NSNull, "NaN is written as null")
    #expect(object["seed"] as? String == "9" && object["scale"] as? String == "quick")
  }

  @Test("report.html escapes text, has one table per section, and the text report carries every table")
  func html() {
    let report = ExperimentReport(settings: ExperimentSettings(), elapsedSeconds: 0, sections: Self.sampleSections())
    let page = report.html()
    #expect(page.contains("First &amp; second") && page.contains("a note with &lt;markup&gt;"))
    #expect(!page.contains("<markup>"))
    #expect(page.components(separatedBy: "<table class=\"results\">").count == 4)
    #expect(page.contains("<td>–</td>"), "NaN shows as a dash")
    #expect(report.text.contains("bits k_var") && report.text.contains("method\neden"))
  }

  @Test(.enabled(if: ChromiumPage.executable != nil, "SKIPPED LOUDLY: chromium is not installed (apt-get install -y chromium; .ci/run does it)"))
  func plotsDrawInChromium() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vq-exp-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(at: folder) }
    let report = ExperimentReport(settings: ExperimentSettings(), elapsedSeconds: 0, sections: Self.sampleSections())
    let paths = try report.write(folder: folder.path)
    #expect(FileManager.default.fileExists(atPath: paths.json))
    let plots = try ChromiumPage.renderedPlots(URL(fileURLWithPath: paths.html))
    #expect(plots.compactMap { $0["id"] as? String } == ["sample-plot"])
    ChromiumPage.expectEveryPlotDrew(plots)
  }
}
