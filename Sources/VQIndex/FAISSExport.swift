import VQ

/// Export of a `.vqx` index to a FAISS index file (`faiss.read_index` of faiss-cpu 1.15.1 opens it),
/// and of its decoded vectors to `.fvecs` / `.npy`.
///
/// FAISS's file format (faiss/impl/index_write.cpp; research/peers.md §1.4): a little-endian stream of
/// records, each opened by a four-character code; every index starts with the common header
/// `d:i32, ntotal:i64, 2 × i64 (unused, 1 << 20), is_trained:u8, metric:i32` (0 inner product, 1 L2);
/// vectors are `count:u64` followed by their elements. What is written:
///
/// - `.flat` (any index): `IxM2` (IndexIDMap2: the ids) around `IxFI` / `IxF2` (IndexFlatIP / IndexFlatL2)
///   over the live rows' vectors.
/// - `.ivfFlat` (IVF indexes; what `.automatic` picks for them): `IwFl` (IndexIVFFlat) with the same
///   centroids as its coarse quantizer (`IxFI` / `IxF2`), the same lists and, inside each list, the same
///   rows and ids in the same order; no direct map; `ilar` inverted lists stored "full".
/// - metric `cosine`: the index above inside `IxPT` (IndexPreTransform) with one `VNrm`
///   (NormalizationTransform, L2), so FAISS normalizes queries (and added vectors) as swift-vq does; the
///   stored vectors are already normalized.
///
/// The vectors are the index's originals when it keeps them, otherwise the decoded codes
/// (`quantizer.decode`, plus the list centroid for IVF). Deleted rows are left out. Over originals, FAISS
/// searches exactly what swift-vq's exact re-ranking scores, so its top-k equals
/// `VectorIndex.search` with `rerank` covering every probed row (and, for an `fp32` index, without
/// re-ranking); over decoded vectors it equals a search that scores ⟨q, decode(x)⟩.
///
/// - `.rabitq` (`rabitq:bits=B`, `centre=none`, flat or IVF): FAISS's own IndexRaBitQ /
///   IndexIVFRaBitQ over swift-vq's codes, behind the rotation as an explicit `LTra` matrix (see
///   `FAISSRaBitQ`): FAISS returns the top-k of swift-vq's estimator evaluated with the float query;
///   `VectorIndex.search` differs from it only by its randomized query rounding (`query-bits`).
///
/// Not exported as FAISS's own compressed indexes (export them as `flat` / `ivf-flat`, exact vectors):
/// - Scalar quantizer / TurboQuant (`IxSQ`) and EDEN (`IxEe` / `IwEe`): an exact mapping needs FAISS's
///   stored codebook, scale and norm conventions to equal swift-vq's (`turbo-mse`, `eden`), and FAISS
///   applies its own rotation inside these records; the layouts were not compared in this round, so
///   nothing is written that could silently rank differently.
public enum FAISSExport {
  /// Which FAISS index the export writes.
  public enum Structure: String, Sendable, CaseIterable {
    /// `ivf-flat` for an IVF index, `flat` for a flat one.
    case automatic = "auto"
    /// IndexIDMap2 over IndexFlat (any index).
    case flat
    /// IndexIVFFlat (IVF indexes only).
    case ivfFlat = "ivf-flat"
    /// IndexRaBitQ / IndexIVFRaBitQ behind the rotation (`rabitq`, `centre=none` only).
    case rabitq
  }

  /// Writes `index` as a FAISS index file at `path`, atomically (nothing is left behind on error).
  public static func write(_ index: VectorIndex, to path: String, structure: Structure = .automatic) throws {
    #if !_endian(little)
      throw VQError.invalidArgument("FAISS files are written on little-endian machines only")
    #endif
    let resolved: Structure = structure == .automatic ? (index.isFlat ? .flat : .ivfFlat) : structure
    let rabitq = resolved == .rabitq ? try FAISSRaBitQ.check(index) : nil
    switch resolved {
    case .ivfFlat where index.isFlat:
      throw VQError.invalidArgument("\(path): faiss index type 'ivf-flat' needs an IVF index; this one is flat (use 'flat')")
    default: break
    }
    guard index.count > 0 else { throw VQError.invalidArgument("\(path): the index holds no live vectors to export") }
    for (row, id) in index.ids.enumerated() where id > UInt64(Int64.max) && !index.isDeleted(row: row) {
      throw VQError.outOfRange("id \(id) (row \(row)) is beyond FAISS's largest id \(Int64.max)")
    }
    let metric: Int32 = index.metric == .l2 ? 1 : 0
    let d = index.dimension
    if let rabitq {
      try AtomicFile.write(to: path) { sink in try FAISSRaBitQ.write(&sink, index: index, rabitq: rabitq, metric: metric) }
      return
    }
    let exported = try liveVectors(index)
    try AtomicFile.write(to: path) { sink in
      if index.metric == .cosine {
        try FAISSRecord.header(&sink, code: "IxPT", dimension: d, count: exported.ids.count, metric: metric)
        try sink.write(littleEndian: Int32(1))  // transforms in the chain
        try FAISSRecord.normalization(&sink, dimension: d)
      }
      if resolved == .flat {
        try FAISSRecord.header(&sink, code: "IxM2", dimension: d, count: exported.ids.count, metric: metric)
        try FAISSRecord.flat(&sink, exported.vectors, metric: metric)
        try sink.write(littleEndian: UInt64(exported.ids.count))
        try sink.write(littleEndian: exported.ids.map { Int64($0) })
      } else {
        try writeIVFFlat(&sink, index: index, exported: exported, metric: metric)
      }
    }
  }

  private static func writeIVFFlat(
    _ sink: inout FileSink, index: VectorIndex, exported: (vectors: VectorBatch, ids: [UInt64], lists: [Int]),
    metric: Int32
  ) throws {
    let d = index.dimension, centroids = index.centroids!
    let nlist = centroids.count
    try FAISSRecord.header(&sink, code: "IwFl", dimension: d, count: exported.ids.count, metric: metric)
    try sink.write(littleEndian: UInt64(nlist))
    try sink.write(littleEndian: UInt64(1))  // nprobe (a search parameter; callers set their own)
    try FAISSRecord.flat(&sink, centroids, metric: metric)
    try sink.write(littleEndian: UInt8(0))  // direct map: none
    try sink.write(littleEndian: UInt64(0))  // its (empty) array
    try sink.write(FAISSRecord.fourcc("ilar"))
    try sink.write(littleEndian: UInt64(nlist))
    try sink.write(littleEndian: UInt64(4 * d))  // code size: a float vector
    try sink.write(FAISSRecord.fourcc("full"))
    var sizes = [UInt64](repeating: 0, count: nlist)
    for l in exported.lists { sizes[l] += 1 }
    try sink.write(littleEndian: UInt64(nlist))
    try sink.write(littleEndian: sizes)
    // Live rows are in list order already: each list is one contiguous run.
    var start = 0
    try exported.vectors.withUnsafeBufferPointer { values in
      for l in 0..<nlist {
        let end = start + Int(sizes[l])
        guard end > start else { continue }
        try sink.write(littleEndian: UnsafeBufferPointer(rebasing: values[(start * d)..<(end * d)]))
        try sink.write(littleEndian: exported.ids[start..<end].map { Int64($0) })
        start = end
      }
    }
  }

  /// The live rows' vectors (originals, else decoded codes plus the list centroid), their ids and lists,
  /// in row order (list by list).
  public static func liveVectors(_ index: VectorIndex) throws -> (vectors: VectorBatch, ids: [UInt64], lists: [Int]) {
    let live = (0..<index.rowCount).filter { !index.isDeleted(row: $0) }
    var listOfRow = [Int](repeating: 0, count: index.rowCount)
    for l in 0..<index.listCount {
      for row in index.listOffsets[l]..<index.listOffsets[l + 1] { listOfRow[row] = l }
    }
    let lists = live.map { listOfRow[$0] }
    let vectors: VectorBatch
    if let originals = index.originals {
      vectors = originals.gather(live)
    } else {
      var decoded = try index.quantizer.decode(index.codes.gather(live))
      if let centroids = index.centroids {
        let d = index.dimension
        decoded.withUnsafeMutableBufferPointer { out in
          centroids.withUnsafeBufferPointer { c in
            for (i, l) in lists.enumerated() {
              for j in 0..<d { out[i * d + j] += c[l * d + j] }
            }
          }
        }
      }
      vectors = decoded
    }
    return (vectors, live.map { index.ids[$0] }, lists)
  }

  /// The decoded vectors of the live rows (`quantizer.decode` of the codes, plus the list centroid for
  /// IVF; the originals are not used), sorted by ascending id, with those ids.
  public static func decodedVectors(_ index: VectorIndex) throws -> (vectors: VectorBatch, ids: [UInt64]) {
    let live = (0..<index.rowCount).filter { !index.isDeleted(row: $0) }.sorted { index.ids[$0] < index.ids[$1] }
    var decoded = try index.quantizer.decode(index.codes.gather(live))
    if let centroids = index.centroids {
      var listOfRow = [Int](repeating: 0, count: index.rowCount)
      for l in 0..<index.listCount {
        for row in index.listOffsets[l]..<index.listOffsets[l + 1] { listOfRow[row] = l }
      }
      let d = index.dimension
      decoded.withUnsafeMutableBufferPointer { out in
        centroids.withUnsafeBufferPointer { c in
          for (i, row) in live.enumerated() {
            let l = listOfRow[row]
            for j in 0..<d { out[i * d + j] += c[l * d + j] }
          }
        }
      }
    }
    return (decoded, live.map { index.ids[$0] })
  }
}

/// The pieces of FAISS's index file format both the export and the import use.
enum FAISSRecord {
  static func fourcc(_ code: String) -> [UInt8] {
    let bytes = Array(code.utf8)
    precondition(bytes.count == 4, "a fourcc has four ASCII characters")
    return bytes
  }

  /// The fourcc and the common index header.
  static func header(_ sink: inout FileSink, code: String, dimension: Int, count: Int, metric: Int32) throws {
    try sink.write(fourcc(code))
    try sink.write(littleEndian: Int32(dimension))
    try sink.write(littleEndian: Int64(count))
    try sink.write(littleEndian: Int64(1 << 20))
    try sink.write(littleEndian: Int64(1 << 20))
    try sink.write(littleEndian: UInt8(1))  // is_trained
    try sink.write(littleEndian: metric)
  }

  /// NormalizationTransform (L2) of d-dimensional vectors.
  static func normalization(_ sink: inout FileSink, dimension d: Int) throws {
    try sink.write(fourcc("VNrm"))
    try sink.write(littleEndian: Float(2))  // the L2 norm
    try sink.write(littleEndian: Int32(d))  // d_in
    try sink.write(littleEndian: Int32(d))  // d_out
    try sink.write(littleEndian: UInt8(1))  // is_trained
  }

  /// IndexFlatIP (metric 0) or IndexFlatL2 (metric 1) holding `vectors`.
  static func flat(_ sink: inout FileSink, _ vectors: VectorBatch, metric: Int32) throws {
    try header(&sink, code: metric == 1 ? "IxF2" : "IxFI", dimension: vectors.dimension, count: vectors.count, metric: metric)
    // The float codes as a byte vector whose length is written in 4-byte words (FAISS's "xb" vector).
    try sink.write(littleEndian: UInt64(vectors.count * vectors.dimension))
    try vectors.withUnsafeBufferPointer { try sink.write(littleEndian: $0) }
  }
}
