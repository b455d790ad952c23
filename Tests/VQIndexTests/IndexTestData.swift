import Foundation
import VQ
import VQData
import VQIndex

/// The embedded real data (2,000 MiniLM sentence embeddings, d = 384; 100 held-out queries; exact
/// top-100 ground truth by inner product), loaded once for the index tests.
enum IndexTestData {
  struct MiniLM: Sendable {
    let base: VectorBatch
    let queries: VectorBatch
    let truth: IntMatrix
  }

  static let miniLM: MiniLM? = {
    guard let set = EmbeddedData.miniLMSmall,
          let base = try? VectorIO.readVectors(at: set.base.path),
          let queries = try? VectorIO.readVectors(at: set.queries.path),
          let truth = try? VectorIO.readIntVectors(at: set.groundTruth.path) else { return nil }
    return MiniLM(base: base, queries: queries, truth: truth)
  }()

  /// Mean recall@k of `results` against the first k ground-truth ids of each query.
  static func recall(_ results: [[SearchHit]], truth: IntMatrix, k: Int) -> Double {
    var total = 0.0
    for (q, hits) in results.enumerated() {
      let expected = (0..<k).map { Int(truth.values[q * truth.columns + $0]) }
      total += Recall.fraction(found: hits.prefix(k).map { Int($0.id) }, truth: expected)
    }
    return total / Double(results.count)
  }

  /// Exact top-k ids by the metric among `allowed` rows (ids = row numbers), best first, ties by id.
  static func bruteForce(
    _ base: VectorBatch, query: [Float], k: Int, metric: IndexMetric, allowed: (Int) -> Bool = { _ in true }
  ) -> [UInt64] {
    var q = query
    if metric == .cosine {
      let norm = q.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
      q = q.map { Float(Double($0) / norm) }
    }
    var scored: [(Double, Int)] = []
    for i in 0..<base.count where allowed(i) {
      let row = base[row: i]
      var score = 0.0
      switch metric {
      case .innerProduct:
        for j in 0..<row.count { score += Double(q[j]) * Double(row[j]) }
      case .cosine:
        var dot = 0.0, norm = 0.0
        for j in 0..<row.count { dot += Double(q[j]) * Double(row[j]); norm += Double(row[j]) * Double(row[j]) }
        score = dot / norm.squareRoot()
      case .l2:
        for j in 0..<row.count { let t = Double(q[j]) - Double(row[j]); score -= t * t }
      }
      scored.append((score, i))
    }
    scored.sort { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
    return scored.prefix(k).map { UInt64($0.1) }
  }
}
