import Foundation
import VQ

/// `vq bench --estimators` (or `--qrp`, `--dme`, …): report.json with the machine, the build, the seed and
/// one top-level key per section (`qrp`, `mean_estimation`, `dme`, `sgd`, `scaling`, `lowrank`), and a
/// self-contained report.html with each section's notes, plots and table.
public struct ExperimentReport: Sendable {
  public var machine: MachineInfo
  public var build: BuildInfo
  public var settings: ExperimentSettings
  public var elapsedSeconds: Double
  public var sections: [ExperimentSection]

  public init(
    machine: MachineInfo = .current(), build: BuildInfo = .current(), settings: ExperimentSettings,
    elapsedSeconds: Double, sections: [ExperimentSection]
  ) {
    self.machine = machine
    self.build = build
    self.settings = settings
    self.elapsedSeconds = elapsedSeconds
    self.sections = sections
  }

  /// Runs the experiments in order and collects their sections.
  public static func run(_ experiments: [Experiment], settings: ExperimentSettings) throws -> ExperimentReport {
    let started = Date()
    var sections: [ExperimentSection] = []
    for e in experiments { sections += try e.run(settings) }
    return ExperimentReport(settings: settings, elapsedSeconds: Date().timeIntervalSince(started), sections: sections)
  }

  public var jsonValue: JSONValue {
    var members: [(String, JSONValue)] = [
      ("tool", .string("swift-vq")), ("version", .string(VQBenchVersion.version)), ("machine", machine.jsonValue),
      ("build", build.jsonValue), ("seed", .string(String(settings.seed))), ("scale", .string(settings.scale.rawValue)),
      ("elapsed_seconds", .double(elapsedSeconds)),
    ]
    // Two sections with one key (none today) would share one list, in order.
    var keys: [String] = []
    for s in sections where !keys.contains(s.key) { keys.append(s.key) }
    for key in keys { members.append((key, .array(sections.filter { $0.key == key }.flatMap(\.rows)))) }
    return .object(members)
  }

  /// The terminal text: each section's title, table and notes.
  public var text: String {
    var out = ""
    for s in sections {
      out += "\(s.title)\n\(s.table)"
      if !s.table.hasSuffix("\n") { out += "\n" }
      for n in s.notes { out += "  \(n)\n" }
      out += "\n"
    }
    out += "\(sections.count) sections in \(String(format: "%.1f", elapsedSeconds)) s (\(build.configuration) build, seed \(settings.seed), \(settings.scale.rawValue) scale)"
    return out
  }

  public func html() -> String {
    var body = ""
    for s in sections {
      body += "<section id=\"\(escape(s.key))-\(escape(slug(s.title)))\"><h2>\(escape(s.title))</h2>\n"
      for n in s.notes { body += "<p>\(escape(n))</p>\n" }
      if !s.plots.isEmpty {
        body += "<div class=\"plots\">"
        for p in s.plots { body += "<figure>\(p.render())</figure>\n" }
        body += "</div>\n"
      }
      body += Self.htmlTable(s.rows)
      body += "</section>\n"
    }
    return """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>swift-vq bench: estimators and streams</title>
      <style>\(HTMLReport.css)</style>
      </head>
      <body>
      <header>
      <h1>swift-vq bench: estimators and streams</h1>
      <p class="lede">Quantized random projections, 1-bit mean estimation, distributed mean estimation and \
      compressed SGD, precision scaling, low-rank streams: each measured beside its theory.</p>
      <p class="meta">\(escape(machine.cpuModel ?? "unknown CPU")), \(machine.cores) cores, \(escape(build.configuration)) build, \
      Swift \(escape(build.swiftCompiler)), seed \(settings.seed), \(escape(settings.scale.rawValue)) scale, \
      \(String(format: "%.1f", elapsedSeconds)) s.</p>
      </header>
      <main>
      \(body)
      </main>
      <footer>swift-vq \(escape(VQBenchVersion.version)) · report.json holds every number on this page.</footer>
      <pre id="render-check" hidden></pre>
      <script>\(HTMLReport.renderCheck)</script>
      </body>
      </html>

      """
  }

  /// Writes report.json and report.html into `folder`, each atomically.
  public func write(folder: String) throws -> (json: String, html: String) {
    let jsonPath = folder + "/report.json", htmlPath = folder + "/report.html"
    let json = jsonValue.rendered(pretty: true) + "\n"
    try AtomicFile.write(to: jsonPath) { sink in try sink.write(utf8: json) }
    let page = html()
    try AtomicFile.write(to: htmlPath) { sink in try sink.write(utf8: page) }
    return (jsonPath, htmlPath)
  }

  /// A table whose columns are the keys of the first row.
  static func htmlTable(_ rows: [JSONValue]) -> String {
    guard case .object(let first)? = rows.first else { return "" }
    let columns = first.map(\.0)
    // Wide tables scroll inside their own box instead of widening the page.
    var out = "<div style=\"overflow-x: auto\"><table class=\"results\"><thead><tr>"
    for c in columns { out += "<th>\(escape(c))</th>" }
    out += "</tr></thead><tbody>\n"
    for row in rows {
      guard case .object = row else { continue }
      out += "<tr>"
      for c in columns { out += "<td>\(escape(cell(row[c] ?? .null)))</td>" }
      out += "</tr>\n"
    }
    return out + "</tbody></table></div>\n"
  }

  static func cell(_ v: JSONValue) -> String {
    switch v {
    case .null: return "–"
    case .bool(let b): return b ? "yes" : "no"
    case .int(let i): return String(i)
    case .double(let d): return d.isFinite ? String(format: abs(d) >= 1e4 || (abs(d) < 1e-3 && d != 0) ? "%.3e" : "%.4g", d) : "–"
    case .string(let s): return s
    case .array, .object: return v.rendered()
    }
  }

  func slug(_ s: String) -> String {
    String(s.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(40))
  }
}
