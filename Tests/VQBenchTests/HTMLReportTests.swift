import Foundation
import Testing
import VQ
import VQData
import VQTestSupport
@testable import VQBench

/// A small bench run rendered as report.html.
enum SmallReport {
  static func make() throws -> BenchReport {
    let base = TestData.unitSphere(count: 600, dimension: 32, seed: 5)
    let e = try Evaluation(base: base)
    let dir = try #require(EmbeddedData.directory("kv-small"))
    let cache = try KVCache(folder: dir.path, tokens: 48)
    let specs = try ["fp16", "eden:bits=1", "eden:bits=2", "eden:bits=4", "turbo-mse:bits=2", "rabitq:bits=1", "rabitq:bits=2", "int:bits=2"]
      .map { try QuantizerSpec($0) }
    let outcome = try Bench.measure(specs, on: e, requested: Set(specs), options: BenchOptions(timing: true, kvCache: cache))
    return BenchReport(
      dataset: DatasetInfo(name: "sphere-32", evaluation: e), elapsedSeconds: 1, outcome: outcome, seed: 7,
      kvDataset: KVDatasetInfo(name: "kv-small", cache: cache))
  }
}

@Suite struct HTMLReportTests {
  static let plotIDs = ["nmse-vs-bits", "ipvar-vs-bits", "tail-vs-bits", "recall-vs-bytes", "recall-vs-rerank-b1",
                        "recall-vs-rerank-b2", "kv-tv-by-layer-b2", "kv-tv-by-layer-b4"]

  @Test func pageIsSelfContainedWithEveryPlot() throws {
    let html = HTMLReport.render(try SmallReport.make())
    #expect(html.hasPrefix("<!DOCTYPE html>"))
    // Nothing fetched: no external URL other than the SVG namespace.
    let urls = html.components(separatedBy: "http").dropFirst().filter { !$0.hasPrefix("://www.w3.org/2000/svg") }
    #expect(urls.isEmpty, "external references: \(urls.map { String($0.prefix(40)) })")
    for id in Self.plotIDs {
      let start = try #require(html.range(of: "<svg class=\"plot\" id=\"\(id)\""), "plot \(id) missing")
      let svg = html[start.lowerBound..<html[start.lowerBound...].range(of: "</svg>")!.upperBound]
      #expect(svg.contains("class=\"axis-label x-label\"") && svg.contains("class=\"axis-label y-label\""), "\(id)")
      #expect(svg.contains("<path class=\"line\" d=\"M"), "\(id): no line drawn")
    }
    // The theory curves are on the distortion plot, the theory table below.
    #expect(html.contains("Lloyd–Max D_b (theory)") && html.contains("Shannon 4^−b (bound)"))
    #expect(html.contains("Theory beside measurement"))
  }

  @Test func reportJSONHasTheBenchKeys() throws {
    let report = try SmallReport.make()
    let object = try #require(try JSONSerialization.jsonObject(with: Data(report.jsonString().utf8)) as? [String: Any])
    #expect(object["seed"] as? String == "7")
    let results = try #require(object["results"] as? [[String: Any]])
    let eden = try #require(results.first { $0["spec"] as? String == "eden:bits=2" })
    for key in EvaluationResult.jsonKeys + ["bit_width", "family", "ip_err_p99_sqrt_d", "ip_err_p999_sqrt_d",
                                            "encode_vectors_per_s", "scan_codes_per_s", "theory", "kv"] {
      #expect(eden[key] != nil, "\(key) missing")
    }
    let theory = try #require(eden["theory"] as? [String: [String: Any]])
    #expect(Set(theory.keys) == ["nmse", "cosine_loss", "ip_bias", "ip_var_d"])
    let kv = try #require(object["kv"] as? [String: Any])
    #expect((kv["results"] as? [Any])?.count == 8)
    // The vq-eval part reads back as before.
    let back = try JSONDecoder().decode(BenchReport.self, from: Data(report.jsonString().utf8))
    #expect(back.results == report.results && back.seed == 7)
  }

  static var chromium: String? { ChromiumPage.executable }

  /// Renders the page in headless Chromium and reads the verdict the page's own script wrote after
  /// layout: every plot has drawn lines of positive length (or markers) and both axis labels.
  @Test(.enabled(if: chromium != nil, "SKIPPED LOUDLY: chromium is not installed (apt-get install -y chromium; .ci/run does it)"))
  func everyPlotDrawsInChromium() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vq-html-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(at: folder) }
    let page = folder.appendingPathComponent("report.html")
    try HTMLReport.write(try SmallReport.make(), to: page.path)
    let plots = try ChromiumPage.renderedPlots(page)
    #expect(Set(plots.compactMap { $0["id"] as? String }) == Set(Self.plotIDs))
    for plot in plots {
      let id = plot["id"] as? String ?? "?"
      #expect((plot["lines"] as? Int ?? 0) > 0 && (plot["length"] as? Int ?? 0) > 100, "\(id): \(plot)")
      #expect((plot["markers"] as? Int ?? 0) > 0, "\(id): \(plot)")
      #expect(!(plot["xLabel"] as? String ?? "").isEmpty && !(plot["yLabel"] as? String ?? "").isEmpty, "\(id): \(plot)")
      #expect((plot["width"] as? Int ?? 0) > 300 && (plot["height"] as? Int ?? 0) > 150, "\(id): \(plot)")
    }
  }
}
