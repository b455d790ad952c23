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

  private static func isBest(_ v: Double, among values: [Double], higherIsBetter: Bool, absolute: Bool) -> Bool {
    guard !v.isNaN else { return false }
    let key = { (x: Double) in absolute ? abs(x) : x }
    let finite = values.filter { !$0.isNaN }.map(key)
    let best = higherIsBetter ? finite.max()! : finite.min()!
    return key(v) == best
  }

  static func format(_ value: Double, _ spec: String) -> String {
    value.isNaN ? "nan" : String(format: spec, value)
  }
}
