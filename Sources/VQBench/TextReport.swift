import Foundation
import VQ

/// Plain-text tables for the terminal.
public enum TextReport {
  // MARK: vq eval

  /// The metrics of one evaluation, one per line, with what was measured above them.
  public static func evaluation(_ r: EvaluationResult, on evaluation: Evaluation) -> String {
    let queries: String
    switch evaluation.queryOrigin {
    case .given: queries = "\(evaluation.queries.count) from \(evaluation.sources.queries)"
    case .heldOutLast: queries = "\(evaluation.queries.count) held out (the last rows of the base file)"
    case .heldOutRandom(let seed): queries = "\(evaluation.queries.count) held out (random rows, seed \(seed))"
    }
    let truth = evaluation.groundTruthGiven
      ? "\(evaluation.sources.groundTruth) (first \(Evaluation.k) ids per query)"
      : "exact, computed (inner products in Double, ties to the smaller id)"
    let inputs = evaluation.isNormalized
      ? "L2-normalized" : "norms kept (--no-normalize): errors are for the vectors as given"
    var lines: [(String, String)] = [
      ("spec", r.spec),
      ("base", "\(r.count) vectors, d = \(r.dimension), from \(evaluation.sources.base)"),
      ("queries", queries),
      ("ground truth", truth),
      ("inputs", inputs),
      ("", ""),
      ("bytes_per_vector", "\(r.bytesPerVector)"),
      ("bits_per_coordinate", format(r.bitsPerCoordinate, "%.4f")),
      ("nmse", format(r.nmse, "%.6e")),
      ("cosine_loss", format(r.cosineLoss, "%.6e")),
      ("angle_p99_deg", format(r.angleP99Degrees, "%.4f")),
      ("ip_bias", format(r.ipBias, "%+.3e") + " ± " + format(r.ipBiasStandardError, "%.1e") + " (standard error)"),
      ("ip_var_d", format(r.ipVarianceTimesDimension, "%.6e")),
      ("recall_at_10", format(r.recallAt10, "%.4f")),
    ]
    for (depth, recall) in r.recallAt10Rerank.byDepth {
      lines.append(("recall_at_10_rerank[\(depth)]", format(recall, "%.4f") + "  (re-rank top \(depth * Evaluation.k))"))
    }
    let width = lines.map(\.0.count).max()!
    return lines.map { key, value in
      key.isEmpty ? "" : key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value
    }.joined(separator: "\n")
  }

  // MARK: vq bench

  /// Bit width a result is compared at: the spec's `bits`, or the whole bits per coordinate of a fixed
  /// format (`mxfp4` at 4.25 compares with 4-bit methods).
  public static func bitWidth(of spec: QuantizerSpec, result: EvaluationResult) -> Int {
    spec.has("bits") ? spec.int("bits") : Int(result.bitsPerCoordinate.rounded(.down))
  }

  /// Results grouped by bit width (ascending), the best value of each metric within a bit width marked
  /// with `*` (lowest error, smallest |bias|, highest recall; marked only where several compete).
  public static func bench(_ rows: [(spec: QuantizerSpec, result: EvaluationResult)]) -> String {
    struct Column {
      let title: String
      let value: (EvaluationResult) -> Double
      let format: String
      /// Larger is better (recall) or smaller is better (errors); `nil`: not ranked.
      let higherIsBetter: Bool?
    }
    let columns: [Column] = [
      Column(title: "bits/coord", value: \.bitsPerCoordinate, format: "%.3f", higherIsBetter: nil),
      Column(title: "bytes", value: { Double($0.bytesPerVector) }, format: "%.0f", higherIsBetter: nil),
      Column(title: "nmse", value: \.nmse, format: "%.3e", higherIsBetter: false),
      Column(title: "cos_loss", value: \.cosineLoss, format: "%.3e", higherIsBetter: false),
      Column(title: "angle99°", value: \.angleP99Degrees, format: "%.2f", higherIsBetter: false),
      Column(title: "ip_bias", value: \.ipBias, format: "%+.2e", higherIsBetter: false),
      Column(title: "ip_var·d", value: \.ipVarianceTimesDimension, format: "%.3e", higherIsBetter: false),
      Column(title: "R@10", value: \.recallAt10, format: "%.3f", higherIsBetter: true),
      Column(title: "rr×2", value: \.recallAt10Rerank.r2, format: "%.3f", higherIsBetter: true),
      Column(title: "rr×4", value: \.recallAt10Rerank.r4, format: "%.3f", higherIsBetter: true),
      Column(title: "rr×10", value: \.recallAt10Rerank.r10, format: "%.3f", higherIsBetter: true),
    ]
    let grouped = Dictionary(grouping: rows.indices) { bitWidth(of: rows[$0].spec, result: rows[$0].result) }
    var table: [[String]] = [["b", "spec"] + columns.map { $0.title + " " }]  // the space lines up with the marks
    var separators: [Int] = []
    for width in grouped.keys.sorted() {
      let members = grouped[width]!
      separators.append(table.count)
      for i in members {
        var cells = ["\(width)", rows[i].spec.description]
        for column in columns {
          let v = column.value(rows[i].result)
          var cell = format(v, column.format)
          if let higher = column.higherIsBetter, members.count > 1, isBest(v, among: members.map { column.value(rows[$0].result) }, higherIsBetter: higher, absolute: column.title == "ip_bias") {
            cell += "*"
          } else {
            cell += " "
          }
          cells.append(cell)
        }
        table.append(cells)
      }
    }
    let widths = (0..<table[0].count).map { c in table.map { $0[c].count }.max()! }
    var out: [String] = []
    for (r, cells) in table.enumerated() {
      if separators.contains(r) {
        out.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
      }
      let line = cells.enumerated().map { c, cell in
        c == 1 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
          : String(repeating: " ", count: widths[c] - cell.count) + cell
      }
      out.append(line.joined(separator: "  "))
    }
    out.append("* best at its bit width (b); rr×r: recall@10 after re-ranking the top r·10 with exact inner products")
    return out.joined(separator: "\n")
  }

  static func isBest(_ v: Double, among values: [Double], higherIsBetter: Bool, absolute: Bool) -> Bool {
    guard !v.isNaN else { return false }
    let key = { (x: Double) in absolute ? abs(x) : x }
    let finite = values.filter { !$0.isNaN }.map(key)
    let best = higherIsBetter ? finite.max()! : finite.min()!
    return key(v) == best
  }

  /// A rate with an SI suffix: 1.23M, 456k.
  static func si(_ v: Double) -> String {
    guard v.isFinite else { return "–" }
    let units: [(Double, String)] = [(1e9, "G"), (1e6, "M"), (1e3, "k")]
    for (scale, suffix) in units where v >= scale { return String(format: v / scale >= 100 ? "%.0f%@" : "%.3g%@", v / scale, suffix) }
    return String(format: "%.0f", v)
  }

  // MARK: vq bench, full rows

  /// The criteria `--criteria` accepts, in table order.
  public static let criteria = ["nmse", "cosine_loss", "angle_p99", "ip_bias", "ip_var_d", "ip_tail", "recall", "rerank", "speed", "kv"]

  struct RowColumn: Sendable {
    let title: String
    let criterion: String?
    let value: @Sendable (BenchRow) -> Double
    let format: String
    let higherIsBetter: Bool?
    var absolute = false
  }

  static let accuracyColumns: [RowColumn] = [
    RowColumn(title: "bits/coord", criterion: nil, value: { $0.result.bitsPerCoordinate }, format: "%.3f", higherIsBetter: nil),
    RowColumn(title: "bytes", criterion: nil, value: { Double($0.result.bytesPerVector) }, format: "%.0f", higherIsBetter: nil),
    RowColumn(title: "nmse", criterion: "nmse", value: { $0.result.nmse }, format: "%.3e", higherIsBetter: false),
    RowColumn(title: "cos_loss", criterion: "cosine_loss", value: { $0.result.cosineLoss }, format: "%.3e", higherIsBetter: false),
    RowColumn(title: "angle99°", criterion: "angle_p99", value: { $0.result.angleP99Degrees }, format: "%.2f", higherIsBetter: false),
    RowColumn(title: "ip_bias", criterion: "ip_bias", value: { $0.result.ipBias }, format: "%+.2e", higherIsBetter: false, absolute: true),
    RowColumn(title: "ip_var·d", criterion: "ip_var_d", value: { $0.result.ipVarianceTimesDimension }, format: "%.3e", higherIsBetter: false),
    RowColumn(title: "p99·√d", criterion: "ip_tail", value: { $0.measurement.tail.p99 }, format: "%.3f", higherIsBetter: false),
    RowColumn(title: "p99.9·√d", criterion: "ip_tail", value: { $0.measurement.tail.p999 }, format: "%.3f", higherIsBetter: false),
    RowColumn(title: "R@10", criterion: "recall", value: { $0.result.recallAt10 }, format: "%.3f", higherIsBetter: true),
    RowColumn(title: "rr×2", criterion: "rerank", value: { $0.result.recallAt10Rerank.r2 }, format: "%.3f", higherIsBetter: true),
    RowColumn(title: "rr×4", criterion: "rerank", value: { $0.result.recallAt10Rerank.r4 }, format: "%.3f", higherIsBetter: true),
    RowColumn(title: "rr×10", criterion: "rerank", value: { $0.result.recallAt10Rerank.r10 }, format: "%.3f", higherIsBetter: true),
  ]

  static let speedAndKVColumns: [RowColumn] = [
    RowColumn(title: "bytes", criterion: nil, value: { Double($0.result.bytesPerVector) }, format: "%.0f", higherIsBetter: nil),
    RowColumn(title: "encode/s", criterion: "speed", value: { $0.measurement.speed?.encodeVectorsPerSecond ?? .nan }, format: "si", higherIsBetter: true),
    RowColumn(title: "scan/s", criterion: "speed", value: { $0.measurement.speed?.scanCodesPerSecond ?? .nan }, format: "si", higherIsBetter: true),
    RowColumn(title: "kv_tv", criterion: "kv", value: { $0.kv?.meanTotalVariation ?? .nan }, format: "%.4f", higherIsBetter: false),
    RowColumn(title: "kv_top8", criterion: "kv", value: { $0.kv?.meanTop8Overlap ?? .nan }, format: "%.3f", higherIsBetter: true),
    RowColumn(title: "kv_out_err", criterion: "kv", value: { $0.kv?.meanOutputRelativeError ?? .nan }, format: "%.4f", higherIsBetter: false),
  ]

  /// The terminal report of `vq bench`: the accuracy table, the speed and KV table, and the theory
  /// table, each grouped by bit width with the best per criterion and bit width marked `*`.
  public static func benchReport(_ rows: [BenchRow], criteria: Set<String>? = nil) -> String {
    let keep = { (c: RowColumn) in c.criterion.map { criteria?.contains($0) ?? true } ?? true }
    var parts: [String] = []
    let accuracy = accuracyColumns.filter(keep)
    if accuracy.contains(where: { $0.criterion != nil }) {
      parts.append(table(rows, columns: accuracy))
      parts.append("* best at its bit width (b); p99·√d, p99.9·√d: percentiles of |est − true|·√d; rr×r: recall@10 after re-ranking the top r·10 exactly")
    }
    let speedKV = speedAndKVColumns.filter(keep).filter { c in
      c.criterion != "kv" || rows.contains { $0.kv != nil }
    }
    if speedKV.contains(where: { $0.criterion != nil }) {
      parts.append("")
      parts.append(table(rows, columns: speedKV))
      parts.append("speeds on one thread; kv_*: attention total variation, top-8 overlap and output relative error, mean over layers and heads")
    }
    let theory = theoryTable(rows, criteria: criteria)
    if !theory.isEmpty {
      parts.append("")
      parts.append(theory)
    }
    return parts.joined(separator: "\n")
  }

  static func table(_ rows: [BenchRow], columns: [RowColumn]) -> String {
    let grouped = Dictionary(grouping: rows.indices) { rows[$0].bitWidth }
    var cellsTable: [[String]] = [["b", "spec"] + columns.map { $0.title + " " }]
    var separators: [Int] = []
    for width in grouped.keys.sorted() {
      let members = grouped[width]!
      separators.append(cellsTable.count)
      for i in members {
        var cells = ["\(width)", rows[i].spec.description]
        for column in columns {
          let v = column.value(rows[i])
          var cell = column.format == "si" ? si(v) : format(v, column.format)
          if let higher = column.higherIsBetter, members.count > 1,
             isBest(v, among: members.map { column.value(rows[$0]) }, higherIsBetter: higher, absolute: column.absolute) {
            cell += "*"
          } else {
            cell += " "
          }
          cells.append(cell)
        }
        cellsTable.append(cells)
      }
    }
    return aligned(cellsTable, separators: separators)
  }

  /// One line per spec with a prediction: measured, predicted and their ratio for nmse and ip_var·d,
  /// the cosine-loss ratio, the bias against its prediction, and whether all agree.
  static func theoryTable(_ rows: [BenchRow], criteria: Set<String>?) -> String {
    var cells: [[String]] = [["b", "spec", "nmse", "theory", "ratio", "cos ratio", "ip_var·d", "theory", "ratio", "ip_bias", "theory", "agree"]]
    var separators: [Int] = []
    var lastWidth: Int?
    for r in rows.sorted(by: { $0.bitWidth < $1.bitWidth }) where !r.theory.isEmpty {
      if r.bitWidth != lastWidth { separators.append(cells.count); lastWidth = r.bitWidth }
      func value(_ metric: String) -> TheoryValue? { r.theory.first { $0.metric == metric } }
      func triple(_ metric: String, _ f: String) -> [String] {
        guard let t = value(metric) else { return ["-", "-", "-"] }
        let m = r.measured(metric)
        return [format(m, f), format(t.predicted, f), t.ratio(m).map { String(format: "%.3f", $0) } ?? "-"]
      }
      let cos = value("cosine_loss").flatMap { $0.ratio(r.result.cosineLoss) }.map { String(format: "%.3f", $0) } ?? "-"
      let bias = value("ip_bias")
      cells.append(["\(r.bitWidth)", r.spec.description] + triple("nmse", "%.4e") + [cos] + triple("ip_var_d", "%.4e")
        + [String(format: "%+.1e±%.0e", r.result.ipBias, r.result.ipBiasStandardError),
           bias.map { String(format: "%+.1e", $0.predicted) } ?? "-", r.theoryAgrees ? "yes" : "NO"])
    }
    guard cells.count > 1 else { return "" }
    return "theory beside measurement (research/rotation.md §1, §7; report.html and report.json give each formula): agree = "
      + "ratios within ±5% (nmse, cos_loss) and ±10% (ip_var·d), bias within 10% or 4 standard errors\n"
      + aligned(cells, separators: separators)
  }

  static func aligned(_ table: [[String]], separators: [Int], leftColumns: Set<Int> = [1]) -> String {
    let widths = (0..<table[0].count).map { c in table.map { $0[c].count }.max()! }
    var out: [String] = []
    for (r, cells) in table.enumerated() {
      if separators.contains(r) {
        out.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
      }
      let line = cells.enumerated().map { c, cell in
        leftColumns.contains(c) ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
          : String(repeating: " ", count: widths[c] - cell.count) + cell
      }
      out.append(line.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
    }
    return out.joined(separator: "\n")
  }

  static func format(_ value: Double, _ spec: String) -> String {
    value.isNaN ? "nan" : String(format: spec, value)
  }
}
