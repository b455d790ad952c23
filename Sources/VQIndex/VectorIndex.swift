import VQ

/// How scores are compared. The index always ranks by a "larger is better" key derived from inner
/// products, so every metric shares one scan.
public enum IndexMetric: String, Sendable, CaseIterable {
  /// Inner product ⟨q, x⟩ (larger is better).
  case innerProduct = "ip"
  /// Cosine similarity: base vectors and queries are normalized, then inner product.
  case cosine
  /// Squared Euclidean distance ‖q − x‖² (smaller is better); ranked by 2⟨q, x⟩ − ‖x‖² with the
  /// exact ‖x‖² kept per vector.
  case l2
}

/// What `VectorIndex.build` needs besides the vectors.
public struct IndexConfiguration: Sendable {
  /// The quantizer that codes the vectors (IVF: the residuals to their list centroid).
  public var spec: QuantizerSpec
  public var metric: IndexMetric
  /// IVF lists (k-means centroids); 0 builds a flat index.
  public var lists: Int
  /// Keep the original vectors (for re-ranking). Without them `rerank` is ignored.
  public var keepOriginals: Bool
  /// Vectors the k-means sample holds (nil: min(count, max(256 · lists, 10 000)), FAISS's 256 points per list: on MiniLM 50k with 256 lists the 16 384-vector sample of 64 per list left IVF recall 0.005–0.009 below FAISS).
  public var trainingSampleSize: Int?
  public var kmeansIterations: Int
  /// Spherical k-means (unit centroids) for the ip and cosine metrics, as FAISS's IVF trains for inner
  /// product; ignored for l2. Off by default. On MiniLM 50k, IVF256, nprobe 32, with centre corrections,
  /// recall@10 at re-rank ×1/×2/×4/×10 goes from 0.8487/0.9541/0.9612/0.9614 (mean centroids) to
  /// 0.8332/0.9531/0.9656/0.9665 at 2 bits (FAISS 0.8323/0.9518/0.9643/0.9647), and from
  /// 0.7416/0.9032/0.9496/0.9608 to 0.7017/0.8727/0.9384/0.9628 at 1 bit: a higher ceiling (the lists a
  /// query probes hold more of its neighbours) for longer residuals (noisier codes), and about 6 % fewer
  /// QPS at equal nprobe.
  public var sphericalCentroids: Bool
  /// IVF with RaBitQ: store per-row centre corrections (4 bytes per vector) that centre the estimate on
  /// each row's list centroid (`VectorIndex.centreCorrections`).
  public var centreCorrections: Bool
  /// Seed of the training sample and of k-means++ (the quantizer has its own `seed` in the spec).
  public var seed: UInt64
  /// Threads for training and encoding (nil: all cores). Results never depend on it.
  public var threads: Int?
  /// IVF centroids trained beforehand (`KMeans.train`, `vq index train`): used as they are, `lists` is
  /// their count. Sharded builds pass the same centroids to every shard.
  public var centroids: VectorBatch?

  public init(
    spec: QuantizerSpec, metric: IndexMetric = .innerProduct, lists: Int = 0, keepOriginals: Bool = true,
    trainingSampleSize: Int? = nil, kmeansIterations: Int = 20, sphericalCentroids: Bool = false,
    centreCorrections: Bool = true, seed: UInt64 = 42, threads: Int? = nil, centroids: VectorBatch? = nil
  ) {
    self.centreCorrections = centreCorrections
    self.sphericalCentroids = sphericalCentroids
    self.centroids = centroids
    self.spec = spec
    self.metric = metric
    self.lists = lists
    self.keepOriginals = keepOriginals
    self.trainingSampleSize = trainingSampleSize
    self.kmeansIterations = kmeansIterations
    self.seed = seed
    self.threads = threads
  }
}

/// A compressed nearest-neighbour index: vectors coded by any registered quantizer, scanned with a
/// prepared query, the best `rerank · k` re-scored with the originals.
///
/// Flat (one list) or IVF (k-means lists; each vector's residual to its list centroid is coded and
/// ⟨q, x⟩ is estimated as ⟨q, c⟩ + est⟨q, x − c⟩, so one prepared query serves every list; for RaBitQ a
/// stored per-row correction centres that estimate on the list, see `centreCorrections(...)`). Rows are
/// kept in list order; ids are stable `UInt64`s; `delete` sets a tombstone, `compact` drops them, `add`
/// codes only the new vectors. Value semantics: a copy is independent (storage is copy-on-write), and a
/// loaded index may borrow its codes and originals from a memory-mapped file (`IndexFile`).
public struct VectorIndex: Sendable {
  public let spec: QuantizerSpec
  public let dimension: Int
  public let metric: IndexMetric
  /// The seed the IVF training used (recorded in the file).
  public let seed: UInt64
  /// The quantizer, fitted (its learnt numbers are stored in the file).
  public let quantizer: any VectorQuantizer
  /// IVF centroids (`lists × dimension`), nil for a flat index.
  public let centroids: VectorBatch?

  /// `listOffsets[l]..<listOffsets[l + 1]` are the rows of list `l` (a flat index has one list).
  var listOffsets: [Int]
  var codes: CodeBuffer
  var ids: [UInt64]
  var originals: VectorBatch?
  /// Exact ‖x‖² per row (metric l2 only).
  var squaredNorms: [Float]?
  /// IVF with RaBitQ only (see `centreCorrections(...)`): per row κ = ⟨r, c⟩ − r̂·⟨x̄, P·c⟩, added to every
  /// estimate so that it is centred on the row's list centroid c.
  var centreCorrections: [Float]?
  /// One bit per row: deleted.
  var tombstones: [UInt64]
  public private(set) var deletedCount: Int
  /// The live row of each id.
  var rowOfID: [UInt64: Int]
  /// Set on a shard of a sharded build (`build(...shard:)`): which part of the base it holds.
  public internal(set) var shard: ShardInfo?
  /// RaBitQ only: each list's codes in FastScan blocks and the per-row bound terms (derived from `codes`,
  /// never stored).
  let fastScan: FastScanState?
  /// BlockQuant with 16 codewords per block only: each list's codes in FastScan blocks (derived, never
  /// stored).
  let blockQuantFastScan: BlockQuantFastScanState?

  init(
    spec: QuantizerSpec, dimension: Int, metric: IndexMetric, seed: UInt64, quantizer: any VectorQuantizer,
    centroids: VectorBatch?, listOffsets: [Int], codes: CodeBuffer, ids: [UInt64], originals: VectorBatch?,
    squaredNorms: [Float]?, centreCorrections: [Float]?, tombstones: [UInt64]
  ) {
    self.spec = spec
    self.dimension = dimension
    self.metric = metric
    self.seed = seed
    self.quantizer = quantizer
    self.centroids = centroids
    self.listOffsets = listOffsets
    self.codes = codes
    self.ids = ids
    self.originals = originals
    self.squaredNorms = squaredNorms
    self.centreCorrections = centreCorrections
    self.tombstones = tombstones
    var deleted = 0
    for w in tombstones { deleted += w.nonzeroBitCount }
    deletedCount = deleted
    var rows = [UInt64: Int](minimumCapacity: ids.count)
    for (row, id) in ids.enumerated() where tombstones[row >> 6] & (1 << UInt64(row & 63)) == 0 { rows[id] = row }
    rowOfID = rows
    fastScan = (quantizer as? RaBitQ).map { FastScanState($0, codes: codes, listOffsets: listOffsets) }
    blockQuantFastScan = BlockQuantFastScanState(quantizer, codes: codes, listOffsets: listOffsets)
  }

  // MARK: Facts

  /// Rows stored, deleted ones included (until `compact`).
  public var rowCount: Int { ids.count }
  /// Live vectors.
  public var count: Int { ids.count - deletedCount }
  /// IVF lists (1 for a flat index).
  public var listCount: Int { listOffsets.count - 1 }
  public var isFlat: Bool { centroids == nil }
  public var hasOriginals: Bool { originals != nil }
  /// Code bytes per vector, side data included (what the compressed scan reads).
  public var bytesPerVector: Int { codes.layout.bytesPerVector + (centreCorrections == nil ? 0 : 4) }
  /// The live ids, in row order.
  public var liveIDs: [UInt64] { (0..<ids.count).filter { !isDeleted(row: $0) }.map { ids[$0] } }
  public func contains(id: UInt64) -> Bool { rowOfID[id] != nil }
  /// Rows per list (deleted ones included).
  public var listSizes: [Int] { (0..<listCount).map { listOffsets[$0 + 1] - listOffsets[$0] } }

  @inline(__always)
  func isDeleted(row: Int) -> Bool { tombstones[row >> 6] & (1 << UInt64(row & 63)) != 0 }

  static func emptyTombstones(rows: Int) -> [UInt64] { [UInt64](repeating: 0, count: (rows + 63) / 64) }

  // MARK: Build

  /// Rows per encode chunk: fixed, so codes never depend on the thread count.
  static let encodeChunkRows = 4096

  /// Builds an index over `base` (ids `0..<count` unless given; they must be distinct).
  public static func build(
    _ base: VectorBatch, ids: [UInt64]? = nil, configuration: IndexConfiguration,
    registry: QuantizerRegistry = .standard
  ) throws -> VectorIndex {
    guard base.count > 0 else { throw VQError.invalidArgument("cannot build an index from an empty base set") }
    guard configuration.lists >= 0 else {
      throw VQError.outOfRange("lists = \(configuration.lists) is out of range: lists must be 0 (flat) or more")
    }
    guard configuration.kmeansIterations >= 0 else {
      throw VQError.outOfRange("k-means iterations = \(configuration.kmeansIterations) is out of range: 0 or more")
    }
    let ids = ids ?? (0..<base.count).map { UInt64($0) }
    guard ids.count == base.count else {
      throw VQError.invalidArgument("\(ids.count) ids given for \(base.count) base vectors")
    }
    try checkDistinct(ids)
    let metric = configuration.metric
    try base.validateFinite(source: "base")
    let prepared = metric == .cosine ? try base.normalized(source: "base") : base
    var quantizer = try registry.makeQuantizer(configuration.spec, dimension: base.dimension)

    var centroids: VectorBatch?
    var lists = [Int](repeating: 0, count: base.count)
    if let given = configuration.centroids {
      guard given.dimension == base.dimension else {
        throw VQError.dimensionMismatch(expected: base.dimension, got: given.dimension, what: "centroids")
      }
      guard given.count > 0 else { throw VQError.invalidArgument("the centroid set is empty") }
      try given.validateFinite(source: "centroids")
      centroids = given
      lists = try KMeans.assign(prepared, to: given, threads: configuration.threads).assignment
    } else if configuration.lists > 0 {
      let trained = try trainCentroids(prepared: prepared, configuration: configuration)
      centroids = trained
      lists = try KMeans.assign(prepared, to: trained, threads: configuration.threads).assignment
    }
    let listCount = max(centroids?.count ?? 0, 1)
    let order = listOrder(lists, listCount: listCount)
    let ordered = prepared.gather(order.rows)
    let residuals = centroids.map { subtractCentroids(ordered, centroids: $0, lists: order.rows.map { lists[$0] }) } ?? ordered
    try quantizer.fit(residuals.slice(0..<min(residuals.count, configuration.trainingSampleSize ?? 100_000)))
    let codes = try encode(residuals, with: quantizer, threads: configuration.threads)
    let corrections = configuration.centreCorrections
      ? centroids.flatMap { centreCorrections(quantizer: quantizer, codes: codes, residuals: residuals, centroids: $0, lists: order.rows.map { lists[$0] }) }
      : nil
    return VectorIndex(
      spec: quantizer.spec, dimension: base.dimension, metric: metric, seed: configuration.seed, quantizer: quantizer,
      centroids: centroids, listOffsets: order.offsets, codes: codes, ids: order.rows.map { ids[$0] },
      originals: configuration.keepOriginals ? ordered : nil,
      squaredNorms: metric == .l2 ? ordered.squaredNorms() : nil, centreCorrections: corrections,
      tombstones: emptyTombstones(rows: base.count))
  }

  /// The IVF centroids `build` would train on `base` with `configuration` (`configuration.lists` of
  /// them): k-means++ and Lloyd on a seeded sample, after normalizing for the cosine metric. Train once
  /// and pass them as `configuration.centroids` to every shard of a sharded build.
  public static func trainCentroids(_ base: VectorBatch, configuration: IndexConfiguration) throws -> VectorBatch {
    guard base.count > 0 else { throw VQError.invalidArgument("cannot train on an empty base set") }
    guard configuration.lists >= 1 else {
      throw VQError.outOfRange("lists = \(configuration.lists) is out of range: training needs 1 or more lists")
    }
    try base.validateFinite(source: "base")
    let prepared = configuration.metric == .cosine ? try base.normalized(source: "base") : base
    return try trainCentroids(prepared: prepared, configuration: configuration)
  }

  static func trainCentroids(prepared: VectorBatch, configuration: IndexConfiguration) throws -> VectorBatch {
    let sampleSize = min(prepared.count, configuration.trainingSampleSize ?? max(256 * configuration.lists, 10_000))
    guard sampleSize >= configuration.lists else {
      throw VQError.outOfRange(
        "lists = \(configuration.lists) is out of range: the training sample has only \(sampleSize) vectors (need at least one per list)")
    }
    let sample = prepared.gather(sampleRows(count: prepared.count, size: sampleSize, seed: configuration.seed))
    let kmeans = KMeans(
      clusters: configuration.lists, iterations: configuration.kmeansIterations, seed: configuration.seed,
      threads: configuration.threads, spherical: configuration.sphericalCentroids && configuration.metric != .l2)
    return try kmeans.train(sample)
  }

  static func checkDistinct(_ ids: [UInt64]) throws {
    var seen = Set<UInt64>(minimumCapacity: ids.count)
    for (i, id) in ids.enumerated() where !seen.insert(id).inserted {
      throw VQError.invalidArgument("id \(id) appears twice (second time at position \(i)); ids must be distinct")
    }
  }

  /// `size` distinct rows of `0..<count`, drawn by a seeded partial Fisher–Yates shuffle, sorted.
  static func sampleRows(count: Int, size: Int, seed: UInt64) -> [Int] {
    guard size < count else { return Array(0..<count) }
    var generator = SeededGenerator(seed: seed, stream: 0x7361_6D70_6C65)  // "sample"
    var pool = Array(0..<count)
    for i in 0..<size {
      let j = i + Int(generator.next() % UInt64(count - i))
      pool.swapAt(i, j)
    }
    return pool[0..<size].sorted()
  }

  /// Rows sorted by list (stable: input order within a list) and each list's start.
  static func listOrder(_ lists: [Int], listCount: Int) -> (rows: [Int], offsets: [Int]) {
    var sizes = [Int](repeating: 0, count: listCount)
    for l in lists { sizes[l] += 1 }
    var offsets = [Int](repeating: 0, count: listCount + 1)
    for l in 0..<listCount { offsets[l + 1] = offsets[l] + sizes[l] }
    var next = Array(offsets.dropLast())
    var rows = [Int](repeating: 0, count: lists.count)
    for (row, l) in lists.enumerated() {
      rows[next[l]] = row
      next[l] += 1
    }
    return (rows, offsets)
  }

  /// Per-list centring of the IVF estimate (RaBitQ; nil for other quantizers). The index estimates
  /// ⟨q, o⟩ = ⟨q, c⟩ + ⟨q, r⟩ (r = o − c) with one rotated query for every list, so est⟨q, r⟩ = r̂·⟨x̄, P·q⟩
  /// also estimates the part ⟨c, r⟩ with the code's noise, which scales with ‖q‖. Adding
  /// κ = ⟨r, c⟩ − r̂·⟨x̄, P·c⟩ (exact, per row) turns it into ⟨q, c⟩ + ⟨r, c⟩ + r̂·⟨x̄, P·(q − c)⟩: the
  /// centred estimate FAISS's IVF computes with a table per list, here for 4 bytes per vector and no
  /// per-list work at search time. Still unbiased (κ is fixed per row; E r̂·⟨x̄, P·v⟩ = ⟨r, v⟩ for every v).
  static func centreCorrections(
    quantizer: any VectorQuantizer, codes: CodeBuffer, residuals: VectorBatch, centroids: VectorBatch, lists: [Int]
  ) -> [Float]? {
    guard let rabitq = quantizer as? RaBitQ, !rabitq.isCentred else { return nil }
    let d = residuals.dimension
    var corrections = [Float](repeating: 0, count: codes.count)
    var rowsOfList = [[Int]](repeating: [], count: centroids.count)
    for (row, list) in lists.enumerated() { rowsOfList[list].append(row) }
    for (list, rows) in rowsOfList.enumerated() where !rows.isEmpty {
      let centre = centroids[row: list]
      guard let rotated = try? centre.withUnsafeBufferPointer({ try rabitq.rotate(query: $0).rotated }) else { continue }
      // One call per list: the codes' side values are read once, not once per row.
      let estimates = rabitq.exactEstimates(codes, rows: rows, rotated: rotated)
      for (row, estimate) in zip(rows, estimates) {
        var exact = 0.0
        residuals.withRow(row) { r in for j in 0..<d { exact += Double(r[j]) * Double(centre[j]) } }
        corrections[row] = Float(exact - estimate)
      }
    }
    return corrections
  }

  /// `x[i] − centroids[lists[i]]` for every row.
  static func subtractCentroids(_ x: VectorBatch, centroids: VectorBatch, lists: [Int]) -> VectorBatch {
    var out = x
    let d = x.dimension
    out.withUnsafeMutableBufferPointer { o in
      centroids.withUnsafeBufferPointer { c in
        for (i, l) in lists.enumerated() {
          for j in 0..<d { o[i * d + j] -= c[l * d + j] }
        }
      }
    }
    return out
  }

  /// Encodes `x` in fixed chunks of `encodeChunkRows`, concurrently, concatenated in order.
  static func encode(_ x: VectorBatch, with quantizer: any VectorQuantizer, threads: Int?) throws -> CodeBuffer {
    let chunks = max(1, (x.count + encodeChunkRows - 1) / encodeChunkRows)
    let parts = try Parallel.mapChunks(count: x.count, chunks: chunks, threads: threads) { range in
      try quantizer.encode(x.slice(range))
    }
    return parts.count == 1 ? parts[0] : CodeBuffer.concatenated(parts, layout: quantizer.layout)
  }

  // MARK: Add, delete, compact

  /// Codes and adds `x` (ids continue after the largest id ever stored unless given; given ids must be
  /// new or deleted) and returns their ids. The quantizer and the centroids stay as trained.
  @discardableResult
  public mutating func add(_ x: VectorBatch, ids given: [UInt64]? = nil, threads: Int? = nil) throws -> [UInt64] {
    guard x.dimension == dimension else { throw VQError.dimensionMismatch(expected: dimension, got: x.dimension, what: "added vectors") }
    guard x.count > 0 else { return [] }
    try x.validateFinite(source: "added vectors")
    let newIDs: [UInt64]
    if let given {
      guard given.count == x.count else { throw VQError.invalidArgument("\(given.count) ids given for \(x.count) vectors") }
      try Self.checkDistinct(given)
      for id in given where rowOfID[id] != nil {
        throw VQError.invalidArgument("id \(id) is already in the index (delete it first)")
      }
      newIDs = given
    } else {
      let start = (ids.max() ?? 0) &+ (ids.isEmpty ? 0 : 1)
      guard start <= UInt64.max - UInt64(x.count) else { throw VQError.invalidArgument("no ids left after \(start)") }
      newIDs = (0..<x.count).map { start + UInt64($0) }
    }
    let prepared = metric == .cosine ? try x.normalized(source: "added vectors") : x
    var lists = [Int](repeating: 0, count: x.count)
    if let centroids { lists = try KMeans.assign(prepared, to: centroids, threads: threads).assignment }
    let residuals = centroids.map { Self.subtractCentroids(prepared, centroids: $0, lists: lists) } ?? prepared
    let newCodes = try Self.encode(residuals, with: quantizer, threads: threads)
    let newCorrections = centreCorrections == nil ? nil : centroids.flatMap {
      Self.centreCorrections(quantizer: quantizer, codes: newCodes, residuals: residuals, centroids: $0, lists: lists)
    }

    // New row order: each list's old rows, then its new rows (rows ≥ rowCount are the new ones).
    let old = rowCount
    var order: [Int] = []
    order.reserveCapacity(old + x.count)
    var offsets = [0]
    for l in 0..<listCount {
      order.append(contentsOf: listOffsets[l]..<listOffsets[l + 1])
      for (i, list) in lists.enumerated() where list == l { order.append(old + i) }
      offsets.append(order.count)
    }
    let allIDs = ids + newIDs
    var newTombstones = Self.emptyTombstones(rows: order.count)
    for (row, source) in order.enumerated() where source < old && isDeleted(row: source) {
      newTombstones[row >> 6] |= 1 << UInt64(row & 63)
    }
    self = VectorIndex(
      spec: spec, dimension: dimension, metric: metric, seed: seed, quantizer: quantizer, centroids: centroids,
      listOffsets: offsets,
      codes: CodeBuffer.concatenated([codes, newCodes], layout: codes.layout).gather(order),
      ids: order.map { allIDs[$0] },
      originals: originals.map { VectorBatch.concatenated([$0, prepared], dimension: dimension).gather(order) },
      squaredNorms: squaredNorms.map { norms in
        let all = norms + prepared.squaredNorms()
        return order.map { all[$0] }
      },
      centreCorrections: centreCorrections.map { corrections in
        let all = corrections + newCorrections!
        return order.map { all[$0] }
      },
      tombstones: newTombstones)
    return newIDs
  }

  /// Marks `ids` deleted; searches skip them at once. Throws, changing nothing, when an id is not a live
  /// member. Returns how many were deleted.
  @discardableResult
  public mutating func delete(_ ids: [UInt64]) throws -> Int {
    try Self.checkDistinct(ids)
    let rows = try ids.map { id -> Int in
      guard let row = rowOfID[id] else { throw VQError.invalidArgument("id \(id) is not in the index") }
      return row
    }
    for (id, row) in zip(ids, rows) {
      tombstones[row >> 6] |= 1 << UInt64(row & 63)
      rowOfID[id] = nil
    }
    deletedCount += rows.count
    return rows.count
  }

  /// Drops deleted rows from storage (codes, ids, originals); the live set and every search result stay
  /// the same.
  public mutating func compact() {
    guard deletedCount > 0 else { return }
    var keep: [Int] = []
    keep.reserveCapacity(count)
    var offsets = [0]
    for l in 0..<listCount {
      for row in listOffsets[l]..<listOffsets[l + 1] where !isDeleted(row: row) { keep.append(row) }
      offsets.append(keep.count)
    }
    self = VectorIndex(
      spec: spec, dimension: dimension, metric: metric, seed: seed, quantizer: quantizer, centroids: centroids,
      listOffsets: offsets, codes: codes.gather(keep), ids: keep.map { ids[$0] },
      originals: originals?.gather(keep), squaredNorms: squaredNorms.map { n in keep.map { n[$0] } },
      centreCorrections: centreCorrections.map { k in keep.map { k[$0] } }, tombstones: Self.emptyTombstones(rows: keep.count))
  }
}
