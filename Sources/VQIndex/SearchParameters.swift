import VQ

/// What one search asks for: how many neighbours, how deep to re-rank, how many IVF lists to visit,
/// and which ids may be returned.
public struct SearchParameters: Sendable {
  /// Neighbours to return (≥ 1).
  public var k: Int
  /// Oversampling factor: the best `rerank · k` candidates by estimate are re-scored with the original
  /// vectors (when the index keeps them); 1 with originals re-ranks only the top `k` (it reorders them),
  /// 0 means "codes only".
  public var rerank: Int
  /// IVF lists visited per query (ignored by a flat index); clamped to the number of lists.
  public var nprobe: Int
  /// Only ids in this set may be returned (nil: every live id).
  public var filter: IDFilter?
  /// How codes are scanned.
  public var scan: ScanMode

  public init(k: Int = 10, rerank: Int = 0, nprobe: Int = 1, filter: IDFilter? = nil, scan: ScanMode = .auto) {
    self.k = k
    self.rerank = rerank
    self.nprobe = nprobe
    self.filter = filter
    self.scan = scan
  }

  /// Throws `outOfRange` naming the parameter when a value is not allowed.
  public func validate() throws {
    guard k >= 1 else { throw VQError.outOfRange("k = \(k) is out of range: k must be 1 or more") }
    guard rerank >= 0 else { throw VQError.outOfRange("rerank = \(rerank) is out of range: rerank must be 0 or more") }
    guard nprobe >= 1 else { throw VQError.outOfRange("nprobe = \(nprobe) is out of range: nprobe must be 1 or more") }
  }
}

/// How the index scans codes.
public enum ScanMode: String, Sendable, CaseIterable {
  /// FastScan where the quantizer has it (RaBitQ; BlockQuant with bits*block = 4), the quantizer's own
  /// estimator otherwise.
  case auto
  /// The quantizer's estimator over the flat codes (`estimateInnerProducts`), every row.
  case codes
  /// RaBitQ: 4-bit-LUT FastScan of the sign plane with error bounds, then the full estimate only for rows
  /// whose upper bound can still enter the top candidates. BlockQuant with bits*block = 4: its per-block
  /// tables quantized to bytes, the estimate ranks directly. Refused for other quantizers.
  case fastScan = "fastscan"
}

/// One search result: a stable id and its score (the exact inner product after re-ranking, the
/// estimate otherwise). Results are ordered best first: larger score, then smaller id.
public struct SearchHit: Hashable, Sendable {
  public var id: UInt64
  public var score: Float

  public init(id: UInt64, score: Float) {
    self.id = id
    self.score = score
  }
}

/// An allow-list over ids as a bitmap: the ids a search may return. Ids at or beyond `capacity` are
/// not allowed.
public struct IDFilter: Sendable, Equatable {
  private var words: [UInt64]
  /// One more than the largest id the bitmap can hold.
  public let capacity: UInt64

  /// An empty allow-list for ids `0..<capacity`.
  public init(capacity: UInt64) {
    self.capacity = capacity
    words = [UInt64](repeating: 0, count: Int((capacity + 63) / 64))
  }

  /// An allow-list holding exactly `ids`.
  public init<S: Sequence>(allowing ids: S) where S.Element == UInt64 {
    let ids = Array(ids)
    self.init(capacity: (ids.max() ?? 0) + 1)
    for id in ids { insert(id) }
  }

  public mutating func insert(_ id: UInt64) {
    precondition(id < capacity, "id \(id) beyond the filter's capacity \(capacity)")
    words[Int(id >> 6)] |= 1 << (id & 63)
  }

  @inline(__always)
  public func contains(_ id: UInt64) -> Bool {
    id < capacity && words[Int(id >> 6)] & (1 << (id & 63)) != 0
  }

  /// Number of allowed ids.
  public var count: Int {
    var total = 0
    for w in words { total += w.nonzeroBitCount }
    return total
  }
}
