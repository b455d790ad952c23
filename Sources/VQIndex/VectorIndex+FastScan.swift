import HeapModule
import VQ

/// The RaBitQ scan of the index, in two stages (as RaBitQ-Library searches):
///
/// 1. FastScan over the sign plane of every probed row (32 rows per `vpshufb` table lookup) gives an
///    estimate and an interval [lower, upper] that holds with RaBitQ's ε0 guarantee widened by the
///    LUT-quantization term. The `depth`-th largest lower bound so far is a threshold: a row whose upper
///    bound is below it cannot be among the best `depth` and is dropped at once.
/// 2. The survivors, in decreasing order of their upper bound, get the quantizer's full estimate (sign
///    plane and extended bits, with the b-bit query), until the next upper bound cannot beat the
///    `depth`-th best full estimate.
///
/// For B ≥ 2 most rows never touch their extended bits. For B = 1 the FastScan estimate ranks directly
/// (it is the 1-bit estimate up to the table rounding).
/// What the FastScan path of a RaBitQ index derives from its flat codes once.
struct FastScanState: Sendable {
  /// Each list's codes in FastScan blocks.
  var lists: [FastScanCodes]
  /// Per row: ‖o‖·√(1/γ² − 1)·ε0/√(D − 1), the query-independent factor of RaBitQ's sign-stage bound
  /// (γ = min(1, ‖o‖ / (r·√D/2))); the half-width of a row's interval is ‖q‖·width + r·(LUT bound).
  var widths: [Float]
  /// Per row: the sign stage's rescale r.
  var rescales: [Float]

  init(_ rabitq: RaBitQ, codes: CodeBuffer, listOffsets: [Int]) {
    lists = (0..<(listOffsets.count - 1)).map { l in rabitq.makeFastScanCodes(codes.slice(listOffsets[l]..<listOffsets[l + 1])) }
    let norms = codes.side(RaBitQ.Field.norm)
    rescales = codes.side(rabitq.bits == 1 ? RaBitQ.Field.rescale : RaBitQ.Field.signRescale)
    let D = Double(rabitq.paddedDimension)
    let boundScale = rabitq.epsilon / max(D - 1, 1).squareRoot()
    let halfCodeNorm = D.squareRoot() / 2
    widths = zip(norms, rescales).map { norm, rescale in
      let norm = Double(norm), rescale = Double(rescale)
      guard norm > 0, rescale > 0 else { return 0 }
      let gamma = min(1, norm / (rescale * halfCodeNorm))
      return Float(norm * max(0, 1 / (gamma * gamma) - 1).squareRoot() * boundScale)
    }
  }
}

/// A row that passed stage 1: its upper bound (as a ranking key), id and list's ⟨q, centroid⟩. In stage 2's
/// queue `a < b` when a comes later (smaller upper bound, or the same bound and a larger id).
struct Survivor: Comparable {
  var upper: Float
  var id: UInt64
  var row: Int
  var offset: Float

  static func < (a: Survivor, b: Survivor) -> Bool { a.upper < b.upper || (a.upper == b.upper && a.id > b.id) }
  static func == (a: Survivor, b: Survivor) -> Bool { a.upper == b.upper && a.id == b.id }
}

extension VectorIndex {
  /// The RaBitQ FastScan scan of `query` (validated, normalized for cosine). The 1-bit case needs only the
  /// tables; B ≥ 2 also prepares the quantized query for stage 2.
  func scanFast(
    _ rabitq: RaBitQ, query: [Float], state: FastScanState, probes: [(list: Int, offset: Float)],
    filter: IDFilter?, into best: inout BestCandidates
  ) throws {
    let prepared = rabitq.bits == 1 ? nil : try query.withUnsafeBufferPointer { try rabitq.prepare(query: $0) }
    let fastQuery = try prepared.map { rabitq.prepareFastScan($0) }
      ?? query.withUnsafeBufferPointer { try rabitq.prepareFastScan(query: $0) }
    let estimate = { (codes: FastScanCodes, blocks: Range<Int>, out: UnsafeMutableBufferPointer<Float>) in
      rabitq.estimateInnerProductsFastScan(fastQuery, codes: codes, blockRange: blocks, into: out)
    }
    if rabitq.bits == 1 {
      // The code is the sign plane: the FastScan estimate is the 1-bit estimate up to the LUT rounding
      // (≤ r·M·Δ/2), so it ranks directly, as FAISS's IndexRaBitQFastScan does; re-ranking with the
      // originals, when asked for, makes the final order exact.
      forEachFastScanChunk(lists: state.lists, probes: probes, estimate: estimate) { e, rows, offset in
        scanBlock(e, rows: rows, offset: offset, filter: filter, into: &best)
      }
      return
    }
    let depth = best.capacity
    let l2 = metric == .l2
    // Stage 1: survivors (row, upper key) and the running depth-th best lower key.
    var lowerBounds = BestCandidates(capacity: depth)
    var survivors: [Survivor] = []
    forEachFastScanChunk(lists: state.lists, probes: probes, estimate: estimate) { e, rows, offset in
      screen(
        e, rows: rows, offset: offset, queryNorm: fastQuery.queryNorm, lutBound: fastQuery.lutErrorBound, state: state,
        l2: l2, filter: filter, lowerBounds: &lowerBounds, survivors: &survivors)
    }
    guard !survivors.isEmpty else { return }
    let threshold = lowerBounds.isFull ? lowerBounds.worst.key : -.infinity
    // Stage 2 visits survivors in decreasing order of the upper bound (ties: smaller id first) and
    // usually stops after a small fraction of them: a heap (built in linear time) hands them out in that
    // order on demand, where sorting them all took longer than the FastScan pass at B = 2.
    survivors.removeAll { $0.upper < threshold }
    var queue = Heap(survivors)

    // Stage 2: full estimates in decreasing order of the upper bound, a few rows per call (their codes
    // gathered into one small buffer), until the next upper bound cannot beat the depth-th best.
    var full = [Float](repeating: 0, count: Self.refineChunk)
    var chunk: [Survivor] = []
    chunk.reserveCapacity(Self.refineChunk)
    while let next = queue.max {
      if best.isFull && next.upper < best.worst.key { break }
      chunk.removeAll(keepingCapacity: true)
      while chunk.count < Self.refineChunk, let survivor = queue.popMax() { chunk.append(survivor) }
      let gathered = codes.gather(chunk.map(\.row))
      full.withUnsafeMutableBufferPointer { out in
        quantizer.estimateInnerProducts(prepared!, codes: gathered, range: 0..<chunk.count, into: out)
      }
      for (k, survivor) in chunk.enumerated() {
        if best.isFull && survivor.upper < best.worst.key { break }
        let row = survivor.row
        var key = full[k] + survivor.offset
        if let centreCorrections { key += centreCorrections[row] }
        if l2 { key = 2 * key - squaredNorms![row] }
        if key.isNaN { key = -.infinity }
        let id = ids[row]
        if best.admits(key: key, id: id) { best.insert(Candidate(key: key, id: id, row: row)) }
      }
    }
  }

  /// FastScan estimates of the probed lists, `scanBlockRows` rows (whole blocks) at a time: `estimate`
  /// fills the buffer for a list's block range (RaBitQ's or BlockQuant's FastScan), `body` gets the
  /// estimates, the global rows they belong to and the list's ⟨q, centroid⟩.
  func forEachFastScanChunk(
    lists: [FastScanCodes], probes: [(list: Int, offset: Float)],
    estimate: (FastScanCodes, Range<Int>, UnsafeMutableBufferPointer<Float>) -> Void,
    _ body: (UnsafeMutableBufferPointer<Float>, Range<Int>, Float) -> Void
  ) {
    let chunkBlocks = Self.scanBlockRows / FastScanCodes.blockSize
    var estimates = [Float](repeating: 0, count: Self.scanBlockRows)
    for (list, offset) in probes {
      let codes = lists[list]
      let firstRow = listOffsets[list]
      var block = 0
      while block < codes.blockCount {
        let blocks = block..<min(codes.blockCount, block + chunkBlocks)
        estimates.withUnsafeMutableBufferPointer { e in
          estimate(codes, blocks, e)
          let first = firstRow + FastScanCodes.blockSize * blocks.lowerBound
          let last = firstRow + min(codes.count, FastScanCodes.blockSize * blocks.upperBound)
          body(e, first..<last, offset)
        }
        block = blocks.upperBound
      }
    }
  }

  /// Survivors whose full estimate is computed per call in stage 2.
  static let refineChunk = 32

  /// Stage 1 for one chunk: bounds to keys, tombstones and the filter, the threshold, the survivors.
  @inline(never)
  func screen(
    _ estimates: UnsafeMutableBufferPointer<Float>, rows: Range<Int>, offset: Float, queryNorm: Float, lutBound: Float,
    state: FastScanState, l2: Bool, filter: IDFilter?, lowerBounds: inout BestCandidates, survivors: inout [Survivor]
  ) {
    let n = rows.count, first = rows.lowerBound
    // Pass 1 (branch-free, vectorizes): upper bounds as ranking keys, in place of the estimates; the
    // half-widths go to `halfWidths`.
    withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { halfWidths in
      state.widths.withUnsafeBufferPointer { widths in
        state.rescales.withUnsafeBufferPointer { rescales in
          for k in 0..<n {
            halfWidths[k] = queryNorm * widths[first + k] + rescales[first + k] * lutBound
          }
        }
      }
      if l2 {
        squaredNorms!.withUnsafeBufferPointer { norms in
          for k in 0..<n { estimates[k] = 2 * (estimates[k] + offset + halfWidths[k]) - norms[first + k] }
        }
      } else {
        for k in 0..<n { estimates[k] = estimates[k] + offset + halfWidths[k] }
      }
      // Pass 2: most rows fail the threshold test; the rest go through tombstones, the filter and the
      // running threshold (lower key = upper key − 2·half-width, or − 4·half-width for l2's 2⟨q,x⟩).
      let widthToLower: Float = l2 ? 4 : 2
      var threshold = lowerBounds.isFull ? lowerBounds.worst.key : -.infinity
      ids.withUnsafeBufferPointer { ids in
        tombstones.withUnsafeBufferPointer { tombstones in
          // A NaN upper bound counts as +∞ (the row survives): `.!(x .< t)` holds for NaN lanes.
          Self.forEachRow(of: UnsafeBufferPointer(rebasing: estimates[0..<n]), passing: { .!($0 .< SIMD16(repeating: threshold)) }) { k in
            var up = estimates[k]
            if up.isNaN { up = .infinity }
            if up < threshold { return }
            let row = first + k
            if tombstones[row >> 6] & (1 << UInt64(row & 63)) != 0 { return }
            let id = ids[row]
            if let filter, !filter.contains(id) { return }
            survivors.append(Survivor(upper: up, id: id, row: row, offset: offset))
            var lo = up - widthToLower * halfWidths[k]
            if lo.isNaN { lo = -.infinity }
            if lowerBounds.admits(key: lo, id: id) {
              lowerBounds.insert(Candidate(key: lo, id: id, row: row))
              if lowerBounds.isFull { threshold = lowerBounds.worst.key }
            }
          }
        }
      }
    }
  }
}
