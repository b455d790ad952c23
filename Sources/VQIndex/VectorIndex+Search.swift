import HeapModule
import VQ
import VQKernels

/// A candidate in the scan's bounded heap. `a < b` means a ranks below b: smaller key, or the same key
/// and a larger id (ties go to the smaller id, as the ground truth files order them).
struct Candidate: Comparable {
  var key: Float
  var id: UInt64
  var row: Int

  @inline(__always)
  static func < (a: Candidate, b: Candidate) -> Bool { a.key < b.key || (a.key == b.key && a.id > b.id) }
  static func == (a: Candidate, b: Candidate) -> Bool { a.key == b.key && a.id == b.id }
}

/// The best `capacity` candidates seen so far: a min-max heap (swift-collections) whose minimum is the
/// one to evict, with the eviction threshold cached so most rows cost one comparison.
struct BestCandidates {
  private(set) var heap = Heap<Candidate>()
  let capacity: Int
  /// The worst kept candidate once the heap is full (everything must beat it).
  private(set) var worst = Candidate(key: -.infinity, id: .max, row: -1)
  private(set) var isFull = false

  init(capacity: Int) { self.capacity = capacity }

  /// Whether a row with this key and id would be kept (a cheap test before the tombstone and filter).
  @inline(__always)
  func admits(key: Float, id: UInt64) -> Bool {
    !isFull || key > worst.key || (key == worst.key && id < worst.id)
  }

  @inline(__always)
  mutating func insert(_ candidate: Candidate) {
    if heap.count < capacity {
      heap.insert(candidate)
      if heap.count == capacity {
        isFull = true
        worst = heap.min!
      }
    } else {
      heap.replaceMin(with: candidate)
      worst = heap.min!
    }
  }

  /// Best first.
  func sortedBestFirst() -> [Candidate] { heap.unordered.sorted(by: >) }
}

extension VectorIndex {
  /// Rows estimated per call into the quantizer (the protocol is crossed once per block).
  static let scanBlockRows = 1024

  /// The `parameters.k` best live ids for `query` (fewer when fewer pass the filter), best first. The
  /// score is the metric's value: the inner product (ip, cosine) or the squared distance (l2); exact
  /// for re-ranked results, estimated from codes otherwise.
  public func search(_ query: UnsafeBufferPointer<Float>, parameters: SearchParameters) throws -> [SearchHit] {
    try parameters.validate()
    var scratch = [Float](repeating: 0, count: Self.scanBlockRows)
    return try search(query, row: 0, parameters: parameters, scratch: &scratch)
  }

  public func search(_ query: [Float], parameters: SearchParameters) throws -> [SearchHit] {
    try query.withUnsafeBufferPointer { try search($0, parameters: parameters) }
  }

  /// Searches every row of `queries`, split over `threads` (nil: all cores); the results are the same
  /// for every thread count.
  public func search(_ queries: VectorBatch, parameters: SearchParameters, threads: Int? = nil) throws -> [[SearchHit]] {
    try parameters.validate()
    guard queries.dimension == dimension else {
      throw VQError.dimensionMismatch(expected: dimension, got: queries.dimension, what: "queries")
    }
    let chunks = min(queries.count, 64)
    let parts = try Parallel.mapChunks(count: queries.count, chunks: chunks, threads: threads) { range in
      var scratch = [Float](repeating: 0, count: Self.scanBlockRows)
      return try queries.withUnsafeBufferPointer { all in
        try range.map { i in
          try self.search(
            UnsafeBufferPointer(rebasing: all[(i * self.dimension)..<((i + 1) * self.dimension)]), row: i,
            parameters: parameters, scratch: &scratch)
        }
      }
    }
    return parts.flatMap { $0 }
  }

  private func search(
    _ rawQuery: UnsafeBufferPointer<Float>, row queryRow: Int, parameters: SearchParameters, scratch: inout [Float]
  ) throws -> [SearchHit] {
    guard rawQuery.count == dimension else {
      throw VQError.dimensionMismatch(expected: dimension, got: rawQuery.count, what: "query")
    }
    var query = Array(rawQuery)
    for (j, v) in query.enumerated() where !v.isFinite {
      throw VQError.nonFinite(source: "query", row: queryRow, column: j, value: v)
    }
    if metric == .cosine {
      var squares: Float = 0
      for v in query { squares += v * v }
      guard squares > 0 else { throw VQError.zeroVector(source: "query", row: queryRow) }
      let inverse = 1 / squares.squareRoot()
      for j in 0..<dimension { query[j] *= inverse }
    }
    let rerank = originals != nil && parameters.rerank > 0
    var best = BestCandidates(capacity: rerank ? max(parameters.k, parameters.rerank * parameters.k) : parameters.k)
    let probes = probes(query, nprobe: parameters.nprobe)
    switch parameters.scan {
    case .codes:
      let prepared = try quantizer.prepare(query: query)
      scanCodes(prepared, probes: probes, filter: parameters.filter, scratch: &scratch, into: &best)
    case .auto, .fastScan:
      if let rabitq = quantizer as? RaBitQ, let state = fastScan {
        try scanFast(rabitq, query: query, state: state, probes: probes, filter: parameters.filter, into: &best)
      } else if let blockQuant = quantizer as? BlockQuant, let state = blockQuantFastScan {
        let prepared = try quantizer.prepare(query: query)
        scanFast(blockQuant, prepared, state: state, probes: probes, filter: parameters.filter, into: &best)
      } else if parameters.scan == .fastScan {
        throw VQError.invalidArgument(
          "scan=fastscan needs a rabitq index or a blockquant index with bits*block = 4; this one is \(spec.description)")
      } else {
        let prepared = try quantizer.prepare(query: query)
        scanCodes(prepared, probes: probes, filter: parameters.filter, scratch: &scratch, into: &best)
      }
    }

    var chosen = best.sortedBestFirst()
    if rerank {
      chosen = query.withUnsafeBufferPointer { q in
        originals!.withUnsafeBufferPointer { x in
          // The candidates' originals are scattered rows (1.5 KB each at d = 384), usually out of cache:
          // ask for the next `lookahead` while one is scored, so their memory latencies overlap.
          let rowBytes = dimension * MemoryLayout<Float>.stride, lookahead = 8
          return chosen.map(\.row).withUnsafeBufferPointer { rows in
            func prefetch(_ range: Range<Int>) {
              Kernels.prefetchRows(x.baseAddress!, stride: rowBytes, rows: UnsafeBufferPointer(rebasing: rows[range]), bytes: rowBytes)
            }
            prefetch(0..<min(lookahead, rows.count))
            return chosen.enumerated().map { k, c in
              if k + lookahead < rows.count { prefetch((k + lookahead)..<(k + lookahead + 1)) }
              let ip = DotProduct.dot(q.baseAddress!, x.baseAddress! + c.row * dimension, count: dimension)
              return Candidate(key: rankingKey(innerProduct: ip, row: c.row), id: c.id, row: c.row)
            }
          }
        }
      }.sorted(by: >)
    }
    let queryNorm = metric == .l2 ? query.reduce(Float(0)) { $0 + $1 * $1 } : 0
    return chosen.prefix(parameters.k).map { c in
      SearchHit(id: c.id, score: metric == .l2 ? queryNorm - c.key : c.key)
    }
  }

  /// Every row of the probed lists through the quantizer's estimator, a block at a time.
  func scanCodes(
    _ prepared: PreparedQuery, probes: [(list: Int, offset: Float)], filter: IDFilter?, scratch: inout [Float],
    into best: inout BestCandidates
  ) {
    for (list, offset) in probes {
      var start = listOffsets[list]
      let end = listOffsets[list + 1]
      while start < end {
        let block = start..<min(end, start + Self.scanBlockRows)
        scratch.withUnsafeMutableBufferPointer { out in
          quantizer.estimateInnerProducts(prepared, codes: codes, range: block, into: out)
          scanBlock(out, rows: block, offset: offset, filter: filter, into: &best)
        }
        start = block.upperBound
      }
    }
  }

  /// Larger is better: ⟨q, x⟩, or 2⟨q, x⟩ − ‖x‖² for l2 (so ‖q − x‖² = ‖q‖² − key).
  @inline(__always)
  func rankingKey(innerProduct: Float, row: Int) -> Float {
    metric == .l2 ? 2 * innerProduct - squaredNorms![row] : innerProduct
  }

  /// The lists to scan with ⟨q, centroid⟩ (0 for a flat index): the `nprobe` best centroids by the
  /// metric (inner product, or distance for l2), best first.
  func probes(_ query: [Float], nprobe: Int) -> [(list: Int, offset: Float)] {
    guard let centroids else { return [(0, 0)] }
    let lists = centroids.count
    var innerProducts = [Float](repeating: 0, count: lists)
    var ranking = [Float](repeating: 0, count: lists)
    query.withUnsafeBufferPointer { q in
      centroids.withUnsafeBufferPointer { c in
        innerProducts.withUnsafeMutableBufferPointer {
          Kernels.dotRows(q.baseAddress!, rows: c.baseAddress!, count: lists, dimension: dimension, into: $0.baseAddress!)
        }
        for l in 0..<lists {
          let centre = c.baseAddress! + l * dimension
          if metric == .l2 {
            var distance: Float = 0
            for j in 0..<dimension { let t = q[j] - centre[j]; distance += t * t }
            ranking[l] = -distance
          } else {
            ranking[l] = innerProducts[l]
          }
        }
      }
    }
    return TopK.largest(ranking, k: min(nprobe, lists)).map { ($0, innerProducts[$0]) }
  }

  /// Offers the estimated rows of one block to `best`: keys from the estimates (one branch-free pass),
  /// then one comparison with the running threshold per row; only rows that pass it look at tombstones,
  /// the filter and the heap. A NaN estimate never enters.
  @inline(never)
  func scanBlock(
    _ estimates: UnsafeMutableBufferPointer<Float>, rows: Range<Int>, offset: Float, filter: IDFilter?,
    into best: inout BestCandidates
  ) {
    let n = rows.count, first = rows.lowerBound
    // Side arrays from pointers at the block's first row: indexing with `first + k` (overflow-checked)
    // kept these loops scalar.
    if let centreCorrections {
      centreCorrections.withUnsafeBufferPointer { all in
        let kappa = all.baseAddress! + first
        for k in 0..<n { estimates[k] = (estimates[k] + offset) + kappa[k] }
      }
      if metric == .l2 {
        squaredNorms!.withUnsafeBufferPointer { all in
          let norms = all.baseAddress! + first
          for k in 0..<n { estimates[k] = 2 * estimates[k] - norms[k] }
        }
      }
    } else if metric == .l2 {
      squaredNorms!.withUnsafeBufferPointer { all in
        let norms = all.baseAddress! + first
        for k in 0..<n { estimates[k] = 2 * (estimates[k] + offset) - norms[k] }
      }
    } else if offset != 0 {
      for k in 0..<n { estimates[k] += offset }
    }
    var threshold = best.isFull ? best.worst.key : -Float.infinity
    ids.withUnsafeBufferPointer { ids in
      tombstones.withUnsafeBufferPointer { tombstones in
        Self.forEachRow(of: UnsafeBufferPointer(rebasing: estimates[0..<n]), passing: { $0 .>= SIMD16(repeating: threshold) }) { k in
          let key = estimates[k]
          if !(key >= threshold) { return }
          let row = first + k
          let id = ids[row]
          guard best.admits(key: key, id: id) else { return }
          if tombstones[row >> 6] & (1 << UInt64(row & 63)) != 0 { return }
          if let filter, !filter.contains(id) { return }
          best.insert(Candidate(key: key, id: id, row: row))
          if best.isFull { threshold = best.worst.key }
        }
      }
    }
  }

  /// Calls `body` with every index of `values` whose group of 16 has a lane for which `passing` holds
  /// (and every index of a last, shorter group). Once the heap is full almost every row of a scan fails
  /// the threshold; testing 16 at a time in one vector compare costs a fraction of a branch per row
  /// (a scalar compare-and-branch per row took half as long as the FastScan kernel at d = 384).
  /// `passing` must hold for a lane whenever `body` could act on that row; it is re-evaluated per group,
  /// so it may read state that `body` changes.
  @inline(__always)
  static func forEachRow(
    of values: UnsafeBufferPointer<Float>, passing: (SIMD16<Float>) -> SIMDMask<SIMD16<Int32>>, _ body: (Int) -> Void
  ) {
    let n = values.count
    var k = 0
    while k + 16 <= n {
      let group = UnsafeRawPointer(values.baseAddress! + k).loadUnaligned(as: SIMD16<Float>.self)
      if any(passing(group)) {
        for j in k..<(k + 16) { body(j) }
      }
      k += 16
    }
    while k < n {
      body(k)
      k += 1
    }
  }
}
