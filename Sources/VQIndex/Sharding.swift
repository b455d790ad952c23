import VQ

/// Which part of a base file a shard holds: shard `index` of `count` covers the contiguous rows
/// `ShardInfo.rows(index:count:totalRows:)`, with ids equal to the global row numbers.
public struct ShardInfo: Sendable, Equatable {
  public var index: Int
  public var count: Int
  public var totalRows: Int

  public init(index: Int, count: Int, totalRows: Int) throws {
    guard count >= 1, index >= 0, index < count else {
      throw VQError.outOfRange("shard \(index)/\(count) is out of range: need 0 ≤ i < n")
    }
    guard totalRows >= count else {
      throw VQError.outOfRange("\(count) shards for \(totalRows) rows: every shard needs at least one row")
    }
    self.index = index
    self.count = count
    self.totalRows = totalRows
  }

  /// Parses "i/n" (0-based i).
  public init(parsing text: String, totalRows: Int) throws {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
      throw VQError.invalidArgument("--shard must look like i/n (shard i of n, 0-based), got '\(text)'")
    }
    try self.init(index: i, count: n, totalRows: totalRows)
  }

  /// The rows of shard `index`: ⌊total·i/n⌋ ..< ⌊total·(i+1)/n⌋.
  public var rows: Range<Int> { (totalRows * index / count)..<(totalRows * (index + 1) / count) }
}

extension VectorIndex {
  /// Builds one shard of a sharded build from `vectors`, the rows `shard.rows` of the base. The merged
  /// shards (`merge`) are byte-identical to `build` over the whole base with the same configuration, so
  /// the configuration must not learn from the data: IVF needs `configuration.centroids` (trained once,
  /// `vq index train`), and a spec whose `fit` learns (rabitq centre=mean) is refused.
  public static func buildShard(_ vectors: VectorBatch, shard: ShardInfo, configuration: IndexConfiguration) throws -> VectorIndex {
    guard vectors.count == shard.rows.count else {
      throw VQError.invalidArgument("shard \(shard.index)/\(shard.count) holds rows \(shard.rows) (\(shard.rows.count)), given \(vectors.count) vectors")
    }
    guard configuration.lists == 0 || configuration.centroids != nil else {
      throw VQError.invalidArgument("a sharded IVF build needs centroids trained once for every shard (vq index train, then --centroids)")
    }
    let ids = shard.rows.map { UInt64($0) }
    var index = try build(vectors, ids: ids, configuration: configuration)
    if let fitted = index.quantizer as? any FittedStateQuantizer, !fitted.fittedState.isEmpty {
      throw VQError.invalidArgument("\(index.spec.description) learns from the data it codes, so shards would differ from one build; use a data-oblivious spec")
    }
    index.shard = shard
    return index
  }

  /// Joins the shards of one sharded build (any order) into the index a single build would have made,
  /// byte for byte. Refuses shards of different specs, metrics, seeds, dimensions, centroids or shard
  /// counts, a missing or repeated shard, and changed shards (deletions), naming the problem.
  public static func merge(_ shards: [VectorIndex]) throws -> VectorIndex {
    guard let first = shards.first else { throw VQError.invalidArgument("no shards to merge") }
    for (position, s) in shards.enumerated() {
      guard let info = s.shard else {
        throw VQError.invalidArgument("input \(position + 1) is not a shard (built without --shard, or changed since)")
      }
      let f = first.shard!
      guard s.spec == first.spec else {
        throw VQError.invalidArgument("shard \(info.index) was built with \(s.spec.description), shard \(f.index) with \(first.spec.description)")
      }
      guard s.dimension == first.dimension else {
        throw VQError.dimensionMismatch(expected: first.dimension, got: s.dimension, what: "shard \(info.index)")
      }
      guard s.metric == first.metric, s.seed == first.seed, s.hasOriginals == first.hasOriginals,
            (s.centreCorrections == nil) == (first.centreCorrections == nil) else {
        throw VQError.invalidArgument("shard \(info.index) differs from shard \(f.index) in metric, seed, kept originals or centre corrections")
      }
      guard info.count == f.count, info.totalRows == f.totalRows else {
        throw VQError.invalidArgument("shard \(info.index) is one of \(info.count) over \(info.totalRows) rows, shard \(f.index) one of \(f.count) over \(f.totalRows)")
      }
      guard sameCentroids(s.centroids, first.centroids) else {
        throw VQError.invalidArgument("shard \(info.index) was built with other IVF centroids than shard \(f.index)")
      }
      guard s.deletedCount == 0 else { throw VQError.invalidArgument("shard \(info.index) has deletions; merge fresh shards") }
    }
    let total = first.shard!.count
    let byIndex = Dictionary(grouping: shards, by: { $0.shard!.index })
    for i in 0..<total {
      guard let group = byIndex[i] else { throw VQError.invalidArgument("shard \(i)/\(total) is missing") }
      guard group.count == 1 else { throw VQError.invalidArgument("shard \(i)/\(total) is given \(group.count) times") }
    }
    let ordered = (0..<total).map { byIndex[$0]![0] }
    // Rows of list l: shard 0's rows of l, then shard 1's, ... (a single build orders by list, then by
    // base row, and shard i's rows precede shard i+1's).
    var starts = [0]
    for s in ordered { starts.append(starts.last! + s.rowCount) }
    var order: [Int] = []
    order.reserveCapacity(starts.last!)
    var offsets = [0]
    for l in 0..<first.listCount {
      for (k, s) in ordered.enumerated() {
        order.append(contentsOf: (s.listOffsets[l]..<s.listOffsets[l + 1]).map { starts[k] + $0 })
      }
      offsets.append(order.count)
    }
    let ids = ordered.flatMap(\.ids)
    return VectorIndex(
      spec: first.spec, dimension: first.dimension, metric: first.metric, seed: first.seed, quantizer: first.quantizer,
      centroids: first.centroids, listOffsets: offsets,
      codes: CodeBuffer.concatenated(ordered.map(\.codes), layout: first.codes.layout).gather(order),
      ids: order.map { ids[$0] },
      originals: first.hasOriginals
        ? VectorBatch.concatenated(ordered.map { $0.originals! }, dimension: first.dimension).gather(order) : nil,
      squaredNorms: first.squaredNorms == nil ? nil : {
        let all = ordered.flatMap { $0.squaredNorms! }
        return order.map { all[$0] }
      }(),
      centreCorrections: first.centreCorrections == nil ? nil : {
        let all = ordered.flatMap { $0.centreCorrections! }
        return order.map { all[$0] }
      }(),
      tombstones: emptyTombstones(rows: order.count))
  }

  static func sameCentroids(_ a: VectorBatch?, _ b: VectorBatch?) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case let (a?, b?):
      return a.count == b.count && a.dimension == b.dimension
        && a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in x.elementsEqual(y) { $0.bitPattern == $1.bitPattern } } }
    default: return false
    }
  }
}
