import VQ

/// Export of a 1-bit RaBitQ index (`rabitq:bits=1`, `centre=none`) as FAISS's own RaBitQ index: the
/// same sign bits, FAISS's two per-vector factors computed from swift-vq's, and the rotation as an
/// explicit transform.
///
/// Written: `IxPT` (IndexPreTransform) with [`VNrm` for cosine,] `LTra` (a LinearTransform d → D whose
/// matrix A is swift-vq's rotation, padding included: A's column i is the rotation of the i-th unit
/// vector), then
/// - flat: `IxM2` (the ids) around `Ixrq` (IndexRaBitQ, 1 bit) in the rotated space, centre 0;
/// - IVF: `Iwrq` (IndexIVFRaBitQ, by residual) whose coarse quantizer holds the rotated centroids P·c
///   (the residual of P·x to P·c is P·(x − c), what swift-vq codes).
/// `qb = 0`: FAISS then scores with the float query.
///
/// Factors. FAISS stores per vector `or_minus_c_l2sqr` (F) and `dp_multiplier`; with the float query
/// it estimates ⟨q − c, r⟩ by dp_multiplier·⟨s, P(q − c)⟩/√D (s = ±1 the signs), which is swift-vq's
/// rescale·⟨x̄, ·⟩ (x̄ = s/2) when dp_multiplier = rescale·√D/2. F enters as an additive constant per
/// vector; choosing F = −‖c‖² − 2·est⟨c, r⟩ (ip, cosine) or ‖x‖² − ‖c‖² − 2·est⟨c, r⟩ (l2, with the
/// exact ‖x‖² the index keeps) makes FAISS's score equal swift-vq's estimate ⟨q, c⟩ + rescale·⟨x̄, P·q⟩
/// (ranking key for l2: ‖q‖² − 2·estimate + ‖x‖²). So FAISS returns the top-k of swift-vq's estimator
/// evaluated with the exact query. `VectorIndex.search` rounds the query to `query-bits` bits at random
/// (unbiased), so its ids differ from FAISS's only by that rounding noise.
///
/// Not exported this way: B ≥ 2 (FAISS's extended factors come with its own rescale search and an error
/// factor; the ex-plane layout matches but the stored factors were not mapped in this round) and
/// `centre=mean` (FAISS's `center` is exported, but not verified).
enum FAISSRaBitQ {
  static func check(_ index: VectorIndex) throws -> RaBitQ {
    guard let rabitq = index.quantizer as? RaBitQ else {
      throw VQError.invalidArgument("faiss index type 'rabitq' needs a rabitq index; this one is \(index.spec.description)")
    }
    guard rabitq.bits == 1 else {
      throw VQError.invalidArgument(
        "faiss index type 'rabitq' exports rabitq:bits=1 only (this index has bits=\(rabitq.bits): FAISS's multi-bit factors are not mapped); use 'flat' or 'ivf-flat'")
    }
    guard rabitq.centre == nil else {
      throw VQError.invalidArgument("faiss index type 'rabitq' exports centre=none only (this index has centre=mean); use 'flat' or 'ivf-flat'")
    }
    return rabitq
  }

  /// The rotation as FAISS's row-major D × d matrix A (y = A·x).
  static func matrix(_ rotation: any Rotation) -> [Float] {
    let d = rotation.inputDimension, D = rotation.outputDimension
    var identity = [Float](repeating: 0, count: d * d)
    for i in 0..<d { identity[i * d + i] = 1 }
    var columns = [Float](repeating: 0, count: d * D)
    identity.withUnsafeBufferPointer { e in
      columns.withUnsafeMutableBufferPointer { out in rotation.apply(e.baseAddress!, count: d, into: out.baseAddress!) }
    }
    var a = [Float](repeating: 0, count: D * d)
    for i in 0..<d {
      for j in 0..<D { a[j * d + i] = columns[i * D + j] }
    }
    return a
  }

  static func write(_ sink: inout FileSink, index: VectorIndex, rabitq: RaBitQ, metric: Int32) throws {
    let d = index.dimension, D = rabitq.paddedDimension
    let live = (0..<index.rowCount).filter { !index.isDeleted(row: $0) }
    let n = live.count
    var listOfRow = [Int](repeating: 0, count: index.rowCount)
    for l in 0..<index.listCount {
      for row in index.listOffsets[l]..<index.listOffsets[l + 1] { listOfRow[row] = l }
    }
    // The rotated centroids (D-dimensional) and their squared norms.
    let rotatedCentroids = index.centroids.map { rabitq.rotation.apply($0) }
    let centroidSquares: [Double] = rotatedCentroids.map { c in
      c.withUnsafeBufferPointer { v in (0..<c.count).map { l in (0..<D).reduce(0.0) { $0 + Double(v[l * D + $1]) * Double(v[l * D + $1]) } } }
    } ?? [0]

    // Per live row: sign bytes, then F and dp_multiplier (FAISS's code of one vector).
    let signBytes = rabitq.signBytes
    let codeSize = signBytes + 8
    var codes = [UInt8](repeating: 0, count: n * codeSize)
    let rescales = index.codes.side(RaBitQ.Field.rescale)
    let norms = index.codes.side(RaBitQ.Field.norm)
    let rootD = Double(D).squareRoot()
    index.codes.withUnsafeCodes { all in
      let stride = index.codes.layout.bytesPerCode
      for (i, row) in live.enumerated() {
        let code = UnsafeBufferPointer(rebasing: all[(row * stride)..<(row * stride + signBytes)])
        for b in 0..<signBytes { codes[i * codeSize + b] = code[b] }
        let rescale = Double(rescales[row])
        // est⟨c, r⟩ = rescale·⟨s/2, P·c⟩.
        var centreEstimate = 0.0
        let list = listOfRow[row]
        if let rotatedCentroids {
          rotatedCentroids.withUnsafeBufferPointer { c in
            var signed = 0.0
            for j in 0..<D {
              let v = Double(c[list * D + j])
              signed += code[j >> 3] & (1 << UInt8(j & 7)) != 0 ? v : -v
            }
            centreEstimate = rescale * 0.5 * signed
          }
        }
        let base = -centroidSquares[rotatedCentroids == nil ? 0 : list] - 2 * centreEstimate
        let squaredNorm: Double = index.metric == .l2
          ? Double(index.squaredNorms?[row] ?? norms[row] * norms[row]) : 0
        let f = Float(base + squaredNorm)
        let dp = Float(rescale * rootD / 2)
        withUnsafeBytes(of: f.bitPattern.littleEndian) { for (k, byte) in $0.enumerated() { codes[i * codeSize + signBytes + k] = byte } }
        withUnsafeBytes(of: dp.bitPattern.littleEndian) { for (k, byte) in $0.enumerated() { codes[i * codeSize + signBytes + 4 + k] = byte } }
      }
    }

    // The transform chain.
    try FAISSRecord.header(&sink, code: "IxPT", dimension: d, count: n, metric: metric)
    try sink.write(littleEndian: Int32(index.metric == .cosine ? 2 : 1))
    if index.metric == .cosine { try FAISSRecord.normalization(&sink, dimension: d) }
    try sink.write(FAISSRecord.fourcc("LTra"))
    try sink.write(littleEndian: UInt8(0))  // have_bias
    try sink.write(littleEndian: UInt64(D * d))
    try sink.write(littleEndian: matrix(rabitq.rotation))
    try sink.write(littleEndian: UInt64(0))  // b (no bias)
    try sink.write(littleEndian: Int32(d))
    try sink.write(littleEndian: Int32(D))
    try sink.write(littleEndian: UInt8(1))  // is_trained

    let ids = live.map { Int64(index.ids[$0]) }
    if let rotatedCentroids {
      let nlist = rotatedCentroids.count
      try FAISSRecord.header(&sink, code: "Iwrq", dimension: D, count: n, metric: metric)
      try sink.write(littleEndian: UInt64(nlist))
      try sink.write(littleEndian: UInt64(1))  // nprobe
      try FAISSRecord.flat(&sink, rotatedCentroids, metric: metric)
      try sink.write(littleEndian: UInt8(0))  // no direct map
      try sink.write(littleEndian: UInt64(0))
      try quantizer(&sink, dimension: D, codeSize: codeSize, metric: metric)
      try sink.write(littleEndian: UInt64(codeSize))
      try sink.write(littleEndian: UInt8(1))  // by_residual
      try sink.write(littleEndian: UInt8(0))  // qb = 0: float query
      try sink.write(FAISSRecord.fourcc("ilar"))
      try sink.write(littleEndian: UInt64(nlist))
      try sink.write(littleEndian: UInt64(codeSize))
      try sink.write(FAISSRecord.fourcc("full"))
      var sizes = [UInt64](repeating: 0, count: nlist)
      for row in live { sizes[listOfRow[row]] += 1 }
      try sink.write(littleEndian: UInt64(nlist))
      try sink.write(littleEndian: sizes)
      var start = 0
      for l in 0..<nlist where sizes[l] > 0 {
        let end = start + Int(sizes[l])
        try codes.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[(start * codeSize)..<(end * codeSize)])) }
        try sink.write(littleEndian: Array(ids[start..<end]))
        start = end
      }
    } else {
      try FAISSRecord.header(&sink, code: "IxM2", dimension: D, count: n, metric: metric)
      try FAISSRecord.header(&sink, code: "Ixrq", dimension: D, count: n, metric: metric)
      try quantizer(&sink, dimension: D, codeSize: codeSize, metric: metric)
      try sink.write(littleEndian: UInt64(codes.count))
      try sink.write(codes)
      try sink.write(littleEndian: UInt64(D))  // center: the origin
      try sink.write(littleEndian: [Float](repeating: 0, count: D))
      try sink.write(littleEndian: UInt8(0))  // qb = 0: float query
      try sink.write(littleEndian: UInt64(n))
      try sink.write(littleEndian: ids)
    }
  }

  /// RaBitQuantizer's fields as the 1-bit records store them: d, code_size, metric.
  static func quantizer(_ sink: inout FileSink, dimension: Int, codeSize: Int, metric: Int32) throws {
    try sink.write(littleEndian: UInt64(dimension))
    try sink.write(littleEndian: UInt64(codeSize))
    try sink.write(littleEndian: metric)
  }
}
