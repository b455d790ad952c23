import VQ

/// Export of a RaBitQ index (`rabitq:bits=B`, B = 1…9, `centre=none`, flat or IVF) as FAISS's own
/// RaBitQ index: the same sign and extended bits, FAISS's per-vector factors computed from swift-vq's,
/// and the rotation as an explicit transform.
///
/// Written: `IxPT` (IndexPreTransform) with [`VNrm` for cosine,] `LTra` (a LinearTransform d → D whose
/// matrix A is swift-vq's rotation, padding included: A's column i is the rotation of the i-th unit
/// vector), then
/// - flat: `IxM2` (the ids) around `Ixrq` / `Ixrr` (IndexRaBitQ, 1 bit / multi-bit) in the rotated
///   space, centre 0;
/// - IVF: `Iwrq` / `Iwrr` (IndexIVFRaBitQ, by residual) whose coarse quantizer holds the rotated
///   centroids P·c (the residual of P·x to P·c is P·(x − c), what swift-vq codes).
/// `qb = 0`: FAISS then scores with the float query.
///
/// Bits: FAISS's sign bit j is bit j % 8 of byte j / 8 and its extended plane is one LSB-first stream of
/// (B − 1)-bit values with e_j flipped for negative coordinates: exactly swift-vq's layout, so the bytes
/// are copied; FAISS's code value x̄_j = b_j·2^(B−1) + e_j − (2^B − 1)/2 is swift-vq's.
///
/// Factors. Sign stage: FAISS estimates ⟨q − c, r⟩ by dp_multiplier·⟨s, P(q − c)⟩/√D (s = ±1), which
/// is swift-vq's sign estimate when dp_multiplier = signRescale·√D/2 (B = 1: rescale). Its additive
/// per-vector constant F (`or_minus_c_l2sqr`) is chosen as −‖c‖² − 2·est⟨c, r⟩ (ip, cosine) or
/// ‖x‖² − ‖c‖² − 2·est⟨c, r⟩ (l2, with the exact ‖x‖² the index keeps), which makes FAISS's score
/// swift-vq's estimate ⟨q, c⟩ + rescale·⟨x̄, P·q⟩ (l2: ‖q‖² − 2·estimate + ‖x‖²). B ≥ 2: FAISS's full
/// distance is q_base + f_add_ex + f_rescale_ex·⟨x̄, P(q − c)⟩; f_rescale_ex = rescale (ip) or
/// −2·rescale (l2) and f_add_ex = rescale·⟨x̄, P·c⟩ (ip) or ‖x‖² − ‖c‖² − 2·rescale·⟨x̄, P·c⟩ (l2) give
/// swift-vq's full estimate; with the index's centre corrections κ (IVF) every est⟨c, r⟩ above becomes the
/// exact ⟨c, r⟩ = κ + rescale·⟨x̄, P·c⟩, which are FAISS's native centred factors and make FAISS's score the
/// corrected estimate; `f_error` is FAISS's own bound formula (ε0 = 1.9) on the sign estimate,
/// which FAISS uses to skip the full estimate of rows that cannot enter the top k.
///
/// Guarantee: FAISS returns the top-k of swift-vq's estimator evaluated with the float query (up to
/// float rounding and, for B ≥ 2, rows FAISS's probabilistic bound skips). `VectorIndex.search`
/// rounds the query to `query-bits` bits at random (unbiased), so its ids differ from FAISS's only by
/// that rounding noise. `centre=mean` is refused (FAISS's `center` would carry it, not verified).
enum FAISSRaBitQ {
  static func check(_ index: VectorIndex) throws -> RaBitQ {
    guard let rabitq = index.quantizer as? RaBitQ else {
      throw VQError.invalidArgument("faiss index type 'rabitq' needs a rabitq index; this one is \(index.spec.description)")
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

    // Per live row, FAISS's code: sign bytes, the sign factors (F, dp_multiplier[, f_error]), and for
    // B ≥ 2 the extended plane and its factors (f_add_ex, f_rescale_ex).
    let signBytes = rabitq.signBytes, exBits = rabitq.extendedBits, exBytes = rabitq.extendedBytes
    let multiBit = exBits > 0
    let codeSize = signBytes + (multiBit ? 12 + exBytes + 8 : 8)
    var codes = [UInt8](repeating: 0, count: n * codeSize)
    let norms = rabitq.storesNorm ? index.codes.side(RaBitQ.Field.norm) : nil
    let signRescales = index.codes.side(multiBit ? RaBitQ.Field.signRescale : RaBitQ.Field.rescale)
    let rescales = index.codes.side(RaBitQ.Field.rescale)
    let rootD = Double(D).squareRoot()
    let half = Double((1 << rabitq.bits) - 1) / 2, high = 1 << exBits
    index.codes.withUnsafeCodes { all in
      let stride = index.codes.layout.bytesPerCode
      for (i, row) in live.enumerated() {
        let code = UnsafeBufferPointer(rebasing: all[(row * stride)..<(row * stride + stride)])
        let out = i * codeSize
        for b in 0..<signBytes { codes[out + b] = code[b] }
        if multiBit { for b in 0..<exBytes { codes[out + signBytes + 12 + b] = code[signBytes + b] } }
        // est⟨c, r⟩ of the sign stage (x̄ = s/2) and of the full code (x̄ = b·2^(B−1) + e − (2^B − 1)/2).
        var signDot = 0.0, fullDot = 0.0
        let list = listOfRow[row]
        if let rotatedCentroids {
          rotatedCentroids.withUnsafeBufferPointer { c in
            for j in 0..<D {
              let v = Double(c[list * D + j])
              let bit = code[j >> 3] & (1 << UInt8(j & 7)) != 0
              signDot += bit ? 0.5 * v : -0.5 * v
              if multiBit {
                var e = 0
                for k in 0..<exBits {
                  let position = j * exBits + k
                  if code[signBytes + (position >> 3)] & (1 << UInt8(position & 7)) != 0 { e |= 1 << k }
                }
                fullDot += (Double((bit ? high : 0) + e) - half) * v
              }
            }
          }
        }
        let centreSquares = centroidSquares[rotatedCentroids == nil ? 0 : list]
        let norm = Double(norms?[row] ?? .nan)
        let squaredNorm: Double = index.metric == .l2 ? (index.squaredNorms.map { Double($0[row]) } ?? norm * norm) : 0
        let signRescale = Double(signRescales[row]), rescale = Double(rescales[row])
        // With centre corrections κ the index's estimate uses the exact ⟨c, r⟩ = κ + rescale·⟨x̄, P·c⟩ in
        // place of the code's estimate of it, in both stages: FAISS's own centred factors.
        let kappa = index.centreCorrections.map { Double($0[row]) }
        let signCentreDot = kappa.map { $0 + rescale * (multiBit ? fullDot : signDot) } ?? signRescale * signDot
        let fullCentreDot = rescale * fullDot + (kappa ?? 0)
        func put(_ value: Double, at offset: Int) {
          withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { for (k, byte) in $0.enumerated() { codes[out + offset + k] = byte } }
        }
        put(squaredNorm - centreSquares - 2 * signCentreDot, at: signBytes)  // or_minus_c_l2sqr (F)
        put(signRescale * rootD / 2, at: signBytes + 4)  // dp_multiplier
        if multiBit {
          // FAISS's bound of the sign estimate (RaBitQ's ε0 = 1.9): ‖r‖·ε0·√((ratio² − 1)/(D − 1)),
          // ratio² = ‖r‖²·(D/4)/⟨x̄, y⟩² with ⟨x̄, y⟩ = ‖r‖²/signRescale; doubled for L2.
          var error = 0.0
          let signInner = signRescale > 0 ? norm * norm / signRescale : 0
          if signInner > 0 {
            let ratioSquared = norm * norm * Double(D) / 4 / (signInner * signInner)
            if ratioSquared > 1 { error = norm * 1.9 * ((ratioSquared - 1) / Double(max(D - 1, 1))).squareRoot() }
          }
          put(index.metric == .l2 ? 2 * error : error, at: signBytes + 8)
          let ex = signBytes + 12 + exBytes
          if index.metric == .l2 {
            put(squaredNorm - centreSquares - 2 * fullCentreDot, at: ex)  // f_add_ex
            put(-2 * rescale, at: ex + 4)  // f_rescale_ex
          } else {
            put(fullCentreDot, at: ex)
            put(rescale, at: ex + 4)
          }
        }
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
      try FAISSRecord.header(&sink, code: multiBit ? "Iwrr" : "Iwrq", dimension: D, count: n, metric: metric)
      try sink.write(littleEndian: UInt64(nlist))
      try sink.write(littleEndian: UInt64(1))  // nprobe
      try FAISSRecord.flat(&sink, rotatedCentroids, metric: metric)
      try sink.write(littleEndian: UInt8(0))  // no direct map
      try sink.write(littleEndian: UInt64(0))
      try quantizer(&sink, dimension: D, codeSize: codeSize, metric: metric, bits: rabitq.bits)
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
      try FAISSRecord.header(&sink, code: multiBit ? "Ixrr" : "Ixrq", dimension: D, count: n, metric: metric)
      try quantizer(&sink, dimension: D, codeSize: codeSize, metric: metric, bits: rabitq.bits)
      try sink.write(littleEndian: UInt64(codes.count))
      try sink.write(codes)
      try sink.write(littleEndian: UInt64(D))  // center: the origin
      try sink.write(littleEndian: [Float](repeating: 0, count: D))
      try sink.write(littleEndian: UInt8(0))  // qb = 0: float query
      try sink.write(littleEndian: UInt64(n))
      try sink.write(littleEndian: ids)
    }
  }

  /// RaBitQuantizer's fields: d, code_size, metric, and nb_bits in the multi-bit records.
  static func quantizer(_ sink: inout FileSink, dimension: Int, codeSize: Int, metric: Int32, bits: Int) throws {
    try sink.write(littleEndian: UInt64(dimension))
    try sink.write(littleEndian: UInt64(codeSize))
    try sink.write(littleEndian: metric)
    if bits > 1 { try sink.write(littleEndian: UInt64(bits)) }
  }
}
