import Foundation
import Testing

/// Headless Chromium for the report pages: renders a page and returns the verdict its own script wrote
/// into `#render-check` after layout (one object per plot: id, lines, length, markers, labels, size).
enum ChromiumPage {
  static let executable: String? = ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap { name -> String? in
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
      let path = "\(dir)/\(name)"
      if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
  }.first

  static func renderedPlots(_ page: URL) throws -> [[String: Any]] {
    let profile = FileManager.default.temporaryDirectory.appendingPathComponent("vq-chromium-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: profile) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try #require(executable))
    process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--user-data-dir=\(profile.path)",
                         "--virtual-time-budget=5000", "--dump-dom", page.absoluteString]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let dom = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    let start = try #require(dom.range(of: "<pre id=\"render-check\""), "no render check in the DOM")
    let body = dom[start.upperBound...]
    let open = try #require(body.firstIndex(of: ">"))
    let close = try #require(body.range(of: "</pre>"))
    #expect(body[..<open].contains("data-done=\"true\""), "the page's check did not run")
    let text = String(body[body.index(after: open)..<close.lowerBound])
      .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
      .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
    return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
  }

  /// Every plot drew lines of some length, markers, both axis labels, at a sensible size.
  static func expectEveryPlotDrew(_ plots: [[String: Any]], sourceLocation: SourceLocation = #_sourceLocation) {
    for plot in plots {
      let id = plot["id"] as? String ?? "?"
      #expect((plot["lines"] as? Int ?? 0) > 0 && (plot["length"] as? Int ?? 0) > 100, "\(id): \(plot)", sourceLocation: sourceLocation)
      #expect(!(plot["xLabel"] as? String ?? "").isEmpty && !(plot["yLabel"] as? String ?? "").isEmpty, "\(id): \(plot)", sourceLocation: sourceLocation)
      #expect((plot["width"] as? Int ?? 0) > 300 && (plot["height"] as? Int ?? 0) > 150, "\(id): \(plot)", sourceLocation: sourceLocation)
    }
  }
}
