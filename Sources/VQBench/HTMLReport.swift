import Foundation
import VQ

/// `report.html`: one self-contained page (inline CSS and SVG, no network) with the plots and tables
/// of a bench run.
///
/// Plots: distortion vs bits per coordinate with the Lloyd–Max and Shannon (4^−b) curves, ip_var_d vs
/// bits, the 99.9th-percentile inner-product error vs bits, recall@10 vs bytes per vector, recall vs
/// re-rank depth, KV attention distortion per layer. A small inline script measures, once the page is
/// laid out, that every plot drew (path lengths, marker and label boxes) and writes the verdict into
/// `#render-check`: the Chromium test reads it from the rendered DOM.
public enum HTMLReport {
  static let palette = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22",
    "#393b79", "#ad494a", "#637939", "#8c6d31", "#7b4173", "#3182bd",
  ]

  public static func render(_ report: BenchReport) -> String {
    let rows = report.rows
    let families = uniqueFamilies(rows)
    let color = { (family: String) -> String in palette[(families.firstIndex(of: family) ?? 0) % palette.count] }
    let dash = { (family: String) -> String? in (families.firstIndex(of: family) ?? 0) >= palette.count ? "6 3" : nil }
    func series(_ value: (BenchRow) -> (Double, Double)?) -> [SVGPlot.Series] {
      families.compactMap { f in
        let pts = rows.filter { $0.family == f }.compactMap(value).map { (x: $0.0, y: $0.1) }
        return pts.isEmpty ? nil : SVGPlot.Series(name: f, color: color(f), points: pts, dash: dash(f))
      }
    }
    let bitRange = 1...8
    let lloyd = SVGPlot.Series(
      name: "Lloyd–Max D_b (theory)", color: "#000000",
      points: bitRange.map { (x: Double($0), y: Theory.lloydMax(bits: $0)) }, dash: "7 4", markers: false)
    let shannon = SVGPlot.Series(
      name: "Shannon 4^−b (bound)", color: "#555555",
      points: bitRange.map { (x: Double($0), y: Theory.shannon(bits: Double($0))) }, dash: "2 3", markers: false)
    let edenVariance = SVGPlot.Series(
      name: "D_b/(1−D_b) (unbiased theory)", color: "#000000",
      points: bitRange.map { b in let D = Theory.lloydMax(bits: b); return (x: Double(b), y: D / (1 - D)) },
      dash: "7 4", markers: false)
    let maxBits = 9.0
    let distortion = SVGPlot(
      id: "nmse-vs-bits", title: "Reconstruction error vs bits per coordinate",
      xLabel: "bits per coordinate (side data included)", yLabel: "NMSE  E‖x̂−x‖²/‖x‖²", yLog: true,
      series: series { $0.result.bitsPerCoordinate <= maxBits ? ($0.result.bitsPerCoordinate, $0.result.nmse) : nil } + [lloyd, shannon])
    let variance = SVGPlot(
      id: "ipvar-vs-bits", title: "Inner-product error variance vs bits per coordinate",
      xLabel: "bits per coordinate (side data included)", yLabel: "d · Var(est − ⟨q,x⟩)", yLog: true,
      series: series { $0.result.bitsPerCoordinate <= maxBits ? ($0.result.bitsPerCoordinate, $0.result.ipVarianceTimesDimension) : nil } + [edenVariance])
    let tail = SVGPlot(
      id: "tail-vs-bits", title: "High-probability inner-product error vs bits",
      xLabel: "bits per coordinate (side data included)", yLabel: "99.9th pct of |est − ⟨q,x⟩|·√d", yLog: true,
      series: series { $0.result.bitsPerCoordinate <= maxBits ? ($0.result.bitsPerCoordinate, $0.measurement.tail.p999) : nil })
    var recall = SVGPlot(
      id: "recall-vs-bytes", title: "Recall@10 vs bytes per vector (scan of the codes, no re-rank)",
      xLabel: "bytes per vector (log scale)", yLabel: "recall@10", xLog: true,
      series: series { $0.result.bytesPerVector > 0 ? (Double($0.result.bytesPerVector), $0.result.recallAt10) : nil })
    recall.yUpper = 1
    var plots = [distortion, variance, tail, recall]
    let depthWidths = preferredWidths(rows, [1, 2])
    for b in depthWidths {
      let members = rows.filter { $0.bitWidth == b }
      plots.append(SVGPlot(
        id: "recall-vs-rerank-b\(b)", title: "Recall@10 vs re-rank depth, \(b) bit\(b == 1 ? "" : "s") per coordinate",
        xLabel: "re-rank depth r (top r·10 by estimate, re-ranked exactly)", yLabel: "recall@10", xLog: true,
        series: members.map { r in
          SVGPlot.Series(name: r.spec.description, color: color(r.family),
                         points: r.result.recallAt10Rerank.byDepth.map { (x: Double($0.depth), y: $0.recall) }, dash: dash(r.family))
        }, xTicks: Evaluation.rerankDepths.map(Double.init), yUpper: 1))
    }
    if report.kvDataset != nil {
      for b in preferredWidths(rows.filter { $0.kv != nil }, [2, 4]) {
        let members = rows.filter { $0.bitWidth == b && $0.kv != nil }
        plots.append(SVGPlot(
          id: "kv-tv-by-layer-b\(b)", title: "KV cache: attention distortion per layer, \(b) bits",
          xLabel: "model layer", yLabel: "total variation of softmax(qKᵀ/√d)", yLog: true,
          series: members.map { r in
            SVGPlot.Series(name: r.spec.description, color: color(r.family),
                           points: r.kv!.totalVariationByLayer.map { (x: Double($0.layer), y: $0.value) }, dash: dash(r.family))
          }, xTicks: report.kvDataset!.layers.map(Double.init)))
      }
    }

    var html = """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>swift-vq bench: \(escape(report.dataset.name))</title>
      <style>\(css)</style>
      </head>
      <body>
      <header>
      <h1>swift-vq bench</h1>
      <p class="lede">Which quantizer for which criterion and bit budget: every method measured on the same data, \
      with the theory of the research notes beside the measurements.</p>
      \(summary(report))
      </header>
      <main>
      <section class="plots">

      """
    for plot in plots { html += "<figure>\(plot.render())</figure>\n" }
    html += "</section>\n"
    html += resultsTable(report)
    html += theoryTable(report)
    if report.kvDataset != nil { html += kvTable(report) }
    if !report.skipped.isEmpty {
      html += "<section><h2>Skipped</h2><ul>"
      for s in report.skipped { html += "<li><code>\(escape(s.spec))</code>: \(escape(s.reason))</li>" }
      html += "</ul></section>\n"
    }
    if let peer = report.peer { html += "<section><h2>Peer</h2><pre>\(escape(peer.rendered(pretty: true)))</pre></section>\n" }
    html += """
      </main>
      <footer>\(escape(report.tool)) \(escape(report.version)) · report.json holds every number on this page.</footer>
      <pre id="render-check" hidden></pre>
      <script>\(renderCheck)</script>
      </body>
      </html>

      """
    return html
  }

  /// Writes the page to `path` atomically.
  public static func write(_ report: BenchReport, to path: String) throws {
    let text = render(report)
    try AtomicFile.write(to: path) { sink in try sink.write(utf8: text) }
  }

  // MARK: Pieces

  static func uniqueFamilies(_ rows: [BenchRow]) -> [String] {
    var seen = Set<String>()
    return rows.map(\.family).filter { seen.insert($0).inserted }
  }

  /// The wanted bit widths that some row has; else the smallest width present.
  static func preferredWidths(_ rows: [BenchRow], _ wanted: [Int]) -> [Int] {
    let present = Set(rows.map(\.bitWidth))
    let chosen = wanted.filter { w in rows.filter { $0.bitWidth == w }.count >= 1 && present.contains(w) }
    if !chosen.isEmpty { return chosen }
    return present.min().map { [$0] } ?? []
  }

  static func summary(_ r: BenchReport) -> String {
    let m = r.machine, d = r.dataset
    var items = [
      ("data", "\(d.name): \(d.baseCount) base vectors, \(d.queryCount) queries, d = \(d.dimension), ground truth \(d.groundTruth), \(d.normalized ? "L2-normalized" : "norms kept")"),
    ]
    if let kv = r.kvDataset {
      items.append(("KV cache", "\(kv.name): layers \(kv.layers.map(String.init).joined(separator: ", ")), \(kv.kvHeads) KV heads, \(kv.queryHeads) query heads, \(kv.tokens) tokens, head size \(kv.headDimension), causal"))
    }
    var flags: [String] = []
    if let f = m.flags {
      if f.avx2 { flags.append("AVX2") }
      if f.fma { flags.append("FMA") }
      if f.avx512f { flags.append("AVX-512F") }
      if f.avx512vpopcntdq { flags.append("VPOPCNTDQ") }
    }
    items.append(("machine", "\(m.cpuModel ?? "unknown CPU"), \(m.cores) cores, \(flags.joined(separator: " ")), kernels \(m.kernelLevel)"))
    items.append(("build", "\(r.build.configuration), Swift \(r.build.swiftCompiler), \(r.build.date)"))
    items.append(("run", String(format: "%d specs in %.1f s, seed %@", r.rows.count, r.elapsedSeconds, r.seed.map(String.init) ?? "spec defaults")))
    return "<dl class=\"summary\">" + items.map { "<dt>\(escape($0.0))</dt><dd>\(escape($0.1))</dd>" }.joined() + "</dl>"
  }

  struct Column: Sendable {
    let title: String
    let key: String
    let value: @Sendable (BenchRow) -> Double
    let format: String
    let higherIsBetter: Bool?
    var absolute = false
  }

  static let columns: [Column] = [
    Column(title: "bits/coord", key: "bits_per_coordinate", value: { $0.result.bitsPerCoordinate }, format: "%.3f", higherIsBetter: nil),
    Column(title: "bytes", key: "bytes_per_vector", value: { Double($0.result.bytesPerVector) }, format: "%.0f", higherIsBetter: nil),
    Column(title: "nmse", key: "nmse", value: { $0.result.nmse }, format: "%.3e", higherIsBetter: false),
    Column(title: "cos loss", key: "cosine_loss", value: { $0.result.cosineLoss }, format: "%.3e", higherIsBetter: false),
    Column(title: "angle p99 (°)", key: "angle_p99_deg", value: { $0.result.angleP99Degrees }, format: "%.2f", higherIsBetter: false),
    Column(title: "ip bias", key: "ip_bias", value: { $0.result.ipBias }, format: "%+.2e", higherIsBetter: false, absolute: true),
    Column(title: "ip var·d", key: "ip_var_d", value: { $0.result.ipVarianceTimesDimension }, format: "%.3e", higherIsBetter: false),
    Column(title: "p99·√d", key: "ip_err_p99_sqrt_d", value: { $0.measurement.tail.p99 }, format: "%.3f", higherIsBetter: false),
    Column(title: "p99.9·√d", key: "ip_err_p999_sqrt_d", value: { $0.measurement.tail.p999 }, format: "%.3f", higherIsBetter: false),
    Column(title: "R@10", key: "recall_at_10", value: { $0.result.recallAt10 }, format: "%.3f", higherIsBetter: true),
    Column(title: "rr×1", key: "rr1", value: { $0.result.recallAt10Rerank.r1 }, format: "%.3f", higherIsBetter: true),
    Column(title: "rr×2", key: "rr2", value: { $0.result.recallAt10Rerank.r2 }, format: "%.3f", higherIsBetter: true),
    Column(title: "rr×4", key: "rr4", value: { $0.result.recallAt10Rerank.r4 }, format: "%.3f", higherIsBetter: true),
    Column(title: "rr×10", key: "rr10", value: { $0.result.recallAt10Rerank.r10 }, format: "%.3f", higherIsBetter: true),
    Column(title: "encode/s", key: "encode", value: { $0.measurement.speed?.encodeVectorsPerSecond ?? .nan }, format: "si", higherIsBetter: true),
    Column(title: "scan codes/s", key: "scan", value: { $0.measurement.speed?.scanCodesPerSecond ?? .nan }, format: "si", higherIsBetter: true),
    Column(title: "KV attn TV", key: "kv_tv", value: { $0.kv?.meanTotalVariation ?? .nan }, format: "%.4f", higherIsBetter: false),
    Column(title: "KV top-8", key: "kv_top8", value: { $0.kv?.meanTop8Overlap ?? .nan }, format: "%.3f", higherIsBetter: true),
    Column(title: "KV out err", key: "kv_out", value: { $0.kv?.meanOutputRelativeError ?? .nan }, format: "%.4f", higherIsBetter: false),
  ]

  static func resultsTable(_ report: BenchReport) -> String {
    let rows = report.rows
    let widths = Array(Set(rows.map(\.bitWidth))).sorted()
    var html = "<section><h2>All measurements</h2><p class=\"note\">Grouped by bit width b; <b>bold</b>: best at its bit width. "
      + "ip var·d: d × variance of estimated − true inner product; p99·√d, p99.9·√d: percentiles of |error|·√d; "
      + "rr×r: recall@10 after re-ranking the top r·10 with exact inner products; speeds on one thread.</p>"
    html += "<div class=\"scroll\"><table class=\"results\"><thead><tr><th>b</th><th>spec</th>"
    html += columns.map { "<th>\(escape($0.title))</th>" }.joined() + "</tr></thead><tbody>"
    for w in widths {
      let members = rows.filter { $0.bitWidth == w }
      for (i, r) in members.enumerated() {
        html += "<tr\(i == 0 ? " class=\"group\"" : "")><td>\(w)</td><td><code>\(escape(r.spec.description))</code></td>"
        for c in columns {
          let v = c.value(r)
          let best = c.higherIsBetter.map { TextReport.isBest(v, among: members.map(c.value), higherIsBetter: $0, absolute: c.absolute) } ?? false
          let text = c.format == "si" ? TextReport.si(v) : TextReport.format(v, c.format)
          html += best && members.count > 1 ? "<td class=\"best\">\(text)</td>" : "<td>\(text)</td>"
        }
        html += "</tr>"
      }
    }
    return html + "</tbody></table></div></section>\n"
  }

  static func theoryTable(_ report: BenchReport) -> String {
    let withTheory = report.rows.filter { !$0.theory.isEmpty }
    guard !withTheory.isEmpty else { return "" }
    var html = "<section><h2>Theory beside measurement</h2><p class=\"note\">Predictions of research/rotation.md §1 and §7 "
      + "(unit vectors, uniformly random rotation; n is the rotated dimension, a = ⟨q,x⟩ over the measured pairs). "
      + "ratio = measured / predicted; ✓ within the tolerance shown (for a predicted bias of 0: |bias| within that many standard errors).</p>"
    html += "<div class=\"scroll\"><table class=\"theory\"><thead><tr><th>spec</th><th>metric</th><th>measured</th><th>predicted</th><th>ratio</th><th>tolerance</th><th></th><th>formula</th></tr></thead><tbody>"
    for r in withTheory {
      for (i, t) in r.theory.enumerated() {
        let m = r.measured(t.metric)
        let ok = t.agrees(m, standardError: r.result.ipBiasStandardError)
        let ratio = t.ratio(m).map { String(format: "%.3f", $0) } ?? "–"
        let tol = t.predicted == 0 ? String(format: "%.0f SE", t.tolerance) : String(format: "±%.0f%%", 100 * t.tolerance)
        let measured = t.predicted == 0 ? String(format: "%+.2e ± %.1e", m, r.result.ipBiasStandardError) : String(format: "%.4e", m)
        html += "<tr\(i == 0 ? " class=\"group\"" : "")><td><code>\(i == 0 ? escape(r.spec.description) : "")</code></td><td>\(t.metric)</td>"
          + "<td>\(measured)</td><td>\(String(format: "%.4e", t.predicted))</td><td>\(ratio)</td><td>\(tol)</td>"
          + "<td class=\"\(ok ? "ok" : "off")\">\(ok ? "✓" : "✗")</td><td class=\"formula\">\(escape(t.source))</td></tr>"
      }
    }
    return html + "</tbody></table></div></section>\n"
  }

  static func kvTable(_ report: BenchReport) -> String {
    let rows = report.rows.filter { $0.kv != nil }
    guard let first = rows.first?.kv else { return "" }
    let heads = first.heads.map { "L\($0.layer) q\($0.queryHead)" }
    var html = "<section><h2>KV cache: attention total variation per layer and head</h2><p class=\"note\">Keys and values of each "
      + "(layer, KV head) quantized with the spec; attention softmax(q·Kᵀ/√d) under the causal mask from the estimated logits. "
      + "Mean over queries 8…T−1.</p><div class=\"scroll\"><table class=\"kv\"><thead><tr><th>b</th><th>spec</th>"
      + heads.map { "<th>\($0)</th>" }.joined() + "<th>mean TV</th><th>top-8</th><th>out err</th></tr></thead><tbody>"
    for r in rows.sorted(by: { $0.bitWidth < $1.bitWidth }) {
      let kv = r.kv!
      html += "<tr><td>\(r.bitWidth)</td><td><code>\(escape(r.spec.description))</code></td>"
        + kv.heads.map { "<td>\(String(format: "%.4f", $0.totalVariation))</td>" }.joined()
        + "<td>\(String(format: "%.4f", kv.meanTotalVariation))</td><td>\(String(format: "%.3f", kv.meanTop8Overlap))</td>"
        + "<td>\(String(format: "%.4f", kv.meanOutputRelativeError))</td></tr>"
    }
    return html + "</tbody></table></div></section>\n"
  }

  static let css = """
    :root { color-scheme: light; --ink: #1d1d1f; --muted: #5f6368; --rule: #d9dce1; --band: #f5f6f8; }
    * { box-sizing: border-box; }
    body { margin: 0 auto; max-width: 1360px; padding: 24px 28px 48px; color: var(--ink);
      font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
    h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px; }
    .lede { color: var(--muted); margin: 0 0 12px; }
    dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; font-size: 13px; }
    dl.summary dt { color: var(--muted); } dl.summary dd { margin: 0; }
    .plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(640px, 1fr)); gap: 18px; margin-top: 20px; }
    figure { margin: 0; padding: 8px; border: 1px solid var(--rule); border-radius: 6px; background: #fff; }
    svg.plot { display: block; width: 100%; height: auto; font-size: 11px; }
    svg .plot-title { font-size: 13px; font-weight: 600; fill: var(--ink); }
    svg .axis-label { font-size: 12px; fill: var(--ink); }
    svg .tick { fill: var(--muted); }
    svg .grid { stroke: #eceef1; stroke-width: 1; }
    svg .frame { fill: none; stroke: #9aa0a6; stroke-width: 1; }
    svg .line { fill: none; stroke-width: 1.8; stroke-linejoin: round; }
    svg .legend-text { font-size: 10.5px; fill: var(--ink); }
    .note { color: var(--muted); font-size: 12.5px; max-width: 1100px; }
    .scroll { overflow-x: auto; }
    table { border-collapse: collapse; font-size: 12px; font-variant-numeric: tabular-nums; }
    th, td { padding: 3px 8px; text-align: right; white-space: nowrap; border-bottom: 1px solid #eef0f2; }
    th { position: sticky; top: 0; background: var(--band); font-weight: 600; }
    td:nth-child(2), th:nth-child(2) { text-align: left; }
    tr.group td { border-top: 2px solid var(--rule); }
    td.best { font-weight: 700; color: #0b57d0; }
    td.ok { color: #188038; font-weight: 700; } td.off { color: #c5221f; font-weight: 700; }
    td.formula { text-align: left; color: var(--muted); }
    code { font: 12px ui-monospace, "SF Mono", Menlo, Consolas, monospace; }
    footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
    """

  /// Runs after layout: for every plot, the drawn length of its lines, its markers, and whether both
  /// axis labels have a box; the verdict goes into #render-check as JSON.
  static let renderCheck = """
    window.addEventListener('load', function () {
      var out = [];
      document.querySelectorAll('svg.plot').forEach(function (svg) {
        var length = 0, lines = 0, markers = 0;
        svg.querySelectorAll('path.line').forEach(function (p) { var l = p.getTotalLength(); if (l > 0) { lines++; length += l; } });
        svg.querySelectorAll('circle.marker').forEach(function (c) { var b = c.getBBox(); if (b.width > 0) markers++; });
        function label(cls) { var t = svg.querySelector('.' + cls); if (!t) return ''; var b = t.getBBox(); return b.width > 0 ? t.textContent : ''; }
        var box = svg.getBoundingClientRect();
        out.push({ id: svg.id, lines: lines, length: Math.round(length), markers: markers,
                   xLabel: label('x-label'), yLabel: label('y-label'), width: Math.round(box.width), height: Math.round(box.height) });
      });
      var pre = document.getElementById('render-check');
      pre.textContent = JSON.stringify(out);
      pre.setAttribute('data-done', 'true');
    });
    """
}
