import VQKernels

/// The RaBitQ estimator: ⟨o, q⟩ ≈ ⟨c, q⟩ + ⟨r, c⟩ + rescale·⟨x̄, q̃⟩, with ⟨x̄, q̃⟩ from integer kernels
/// (research/rotation.md §3.1 step 3, §3.4); q̃ quantizes P·(q − c), and ⟨r, c⟩ is the code's exact
/// `centreDot` (both terms with c vanish without a centre).
///
/// With the quantized query q̃_i = lo + Δ·u_i and the code x̄_i = h·b_i + e_i − C
/// (h = 2^{B−1}, C = (2^B − 1)/2; at B = 1, x̄_i = b_i − ½):
///   ⟨x̄, q̃⟩ = Δ·(h·⟨b, u⟩ + ⟨e, u⟩ − C·Σu) + lo·(h·popcount(b) + Σe − C·D),
/// where ⟨b, u⟩ = Σ_j 2^j popcount(b AND plane_j) (`Kernels.rabitqSignDot`) and ⟨e, u⟩, Σe come from
/// `Kernels.rabitqExDot`. The sign stage alone (`Stage.sign`) uses x̄ = b − ½ with its own rescale: a
/// cheaper, noisier estimate for a first pass.
extension RaBitQ {
  /// Which part of a code an estimate uses.
  public enum Stage: Sendable {
    /// The sign plane only (the 1-bit estimator; for B = 1 this is the whole code).
    case sign
    /// Sign plane and extended bits.
    case full
  }

  /// Codes per kernel call: the integer results of one chunk live in a stack buffer.
  static var scanChunk: Int { 256 }

  public func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    scan(query, codes: codes, range: range, stage: .full, epsilon: epsilon, estimates: out, lower: nil, upper: nil)
  }

  /// The full estimates of the codes `rows` (in their order; rows may repeat), the same values
  /// `estimateInnerProducts` gives for them, without copying them into a `CodeBuffer` first: the index
  /// refines a few scattered rows per call this way.
  public func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, rows: UnsafeBufferPointer<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    scan(query, codes: codes, range: 0..<rows.count, rows: rows, stage: .full, epsilon: epsilon,
         estimates: out, lower: nil, upper: nil)
  }

  /// Copies one code: whole 8-byte words while they last (codes are short; a `memmove` call per row
  /// cost more than the copy), then the bytes.
  @inline(__always)
  static func copyCode(from source: UnsafePointer<UInt8>, to target: UnsafeMutablePointer<UInt8>, bytes: Int) {
    let words = bytes / 8
    let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(target)
    for w in 0..<words { to.storeBytes(of: from.loadUnaligned(fromByteOffset: 8 * w, as: UInt64.self), toByteOffset: 8 * w, as: UInt64.self) }
    for b in (8 * words)..<bytes { target[b] = source[b] }
  }

  /// Estimates with the per-vector error bound of RaBitQ (Thm 3.2), for re-ranking.
  ///
  /// For code i, `lower[i] ≤ ⟨o_i, q⟩ ≤ upper[i]` holds with probability ≥ 1 − 2·exp(−c0·ε0²) over the
  /// rotation (about 94 % per pair at ε0 = 1.9 when ⟨o, q⟩ ≈ 0, more for larger cosines:
  /// rotation.md §3.2). The half-width is
  ///   √( (‖r‖·‖q‖·√((1−γ²)/γ²)·ε0/√(D−1))² + (ε0·(Δ/2)·‖r‖/γ)² ),
  /// the paper's bound for the exact query, plus in quadrature the bound on the query's randomized
  /// rounding (each coordinate's rounding error has variance ≤ Δ²/4, so rescale·⟨x̄, e⟩ has standard
  /// deviation ≤ (Δ/2)·‖r‖/γ). r = o − centre, γ the stored cosine of the stage's code, D the rotated
  /// dimension, Δ the query's quantization step.
  ///
  /// Use: keep the exact top-k of re-ranked candidates, and skip any candidate whose `upper` is below
  /// the current k-th exact score; with `stage: .sign` this screens codes before their extended bits
  /// are read (as FAISS's multi-bit search does). `epsilon` overrides the spec's ε0.
  public func estimateWithBounds(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, stage: Stage = .full, epsilon: Double? = nil,
    estimates: UnsafeMutableBufferPointer<Float>, lower: UnsafeMutableBufferPointer<Float>,
    upper: UnsafeMutableBufferPointer<Float>
  ) {
    scan(query, codes: codes, range: range, stage: stage, epsilon: epsilon ?? self.epsilon,
         estimates: estimates, lower: lower, upper: upper)
  }

  /// Estimates and bounds for every code, as arrays (see the pointer version).
  public func estimateWithBounds(
    _ query: PreparedQuery, codes: CodeBuffer, stage: Stage = .full, epsilon: Double? = nil
  ) -> (estimates: [Float], lower: [Float], upper: [Float]) {
    var e = [Float](repeating: 0, count: codes.count), l = e, u = e
    e.withUnsafeMutableBufferPointer { eb in
      l.withUnsafeMutableBufferPointer { lb in
        u.withUnsafeMutableBufferPointer { ub in
          estimateWithBounds(query, codes: codes, range: 0..<codes.count, stage: stage, epsilon: epsilon,
                             estimates: eb, lower: lb, upper: ub)
        }
      }
    }
    return (e, l, u)
  }

  /// The full code's estimate r·⟨x̄, y⟩ of ⟨o − c, v⟩ for each of `rows` (in their order), with the float
  /// rotated vector y = P·v (`rotated`, D coordinates; no query quantization), summed in Double: what the
  /// estimator gives for an exactly represented query. The IVF index uses it with its list centroids
  /// (v = centroid) to centre the estimate per list (`VectorIndex`'s centre corrections).
  public func exactEstimates(_ codes: CodeBuffer, rows: some Sequence<Int>, rotated y: [Float]) -> [Double] {
    precondition(codes.layout == layout, "codes were made by another quantizer (layout \(codes.layout))")
    precondition(y.count == paddedDimension, "rotated vector has \(y.count) coordinates, not \(paddedDimension)")
    let D = paddedDimension, bytesPerCode = layout.bytesPerCode
    return codes.withUnsafeCodes { codeBytes in
      codes.withUnsafeSide(codes.sideIndex(Field.rescale)) { rescales in
        rows.map { i in
          precondition(i >= 0 && i < codes.count, "row \(i) outside 0..<\(codes.count)")
          let code = codeBytes.baseAddress! + i * bytesPerCode
          var dot = 0.0
          for j in 0..<D { dot += Double(codeValue(code, j)) * Double(y[j]) }
          return Double(rescales[i]) * dot
        }
      }
    }
  }

  /// Coordinate j of the code vector x̄ of the code at `code`: ±(k_j + ½), the sign from the sign plane and
  /// k_j from the extended plane (e_j = k_j for a positive coordinate, 2^{B−1} − 1 − k_j for a negative one).
  @inline(__always)
  func codeValue(_ code: UnsafePointer<UInt8>, _ j: Int) -> Float {
    let positive = (code[j >> 3] >> UInt8(j & 7)) & 1 == 1
    var level = 0
    if bits > 1 {
      let e = Int(PackReference.code(code + signBytes, j, bits: bits - 1))
      level = positive ? e : Int(maxLevel) - e
    }
    let magnitude = Float(level) + 0.5
    return positive ? magnitude : -magnitude
  }

  /// The cosine γ = ⟨x̄, y⟩/(‖x̄‖·‖y‖) between each rotated vector and its code (RaBitQ's ⟨ō, o⟩):
  /// E γ ≈ √(2/π) at one bit, → 1 with more bits. 0 for a zero vector; NaN without ‖r‖ (`bound=none`).
  public func cosines(_ codes: CodeBuffer, stage: Stage = .full) -> [Float] {
    precondition(codes.layout == layout, "codes were made by another quantizer (layout \(codes.layout))")
    if bits > 1, stage == .full { return codes.side(Field.cosine) }
    guard storesNorm else { return [Float](repeating: .nan, count: codes.count) }
    let norms = codes.side(Field.norm)
    let rescales = codes.side(bits == 1 ? Field.rescale : Field.signRescale)
    let half = Double(paddedDimension).squareRoot() / 2
    return (0..<codes.count).map { i in
      rescales[i] > 0 ? Float(min(1, Double(norms[i]) / (Double(rescales[i]) * half))) : 0
    }
  }

  // MARK: - The scan

  /// The estimates (and with `lower` and `upper`, the bounds) of the codes `range`, or, with `rows`, of
  /// the codes `rows[range]` (each chunk's codes and side values gathered into scratch first).
  func scan(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, rows: UnsafeBufferPointer<Int>? = nil,
    stage: Stage, epsilon: Double,
    estimates: UnsafeMutableBufferPointer<Float>, lower: UnsafeMutableBufferPointer<Float>?,
    upper: UnsafeMutableBufferPointer<Float>?
  ) {
    precondition(codes.layout == layout, "codes were made by another quantizer (layout \(codes.layout))")
    precondition(range.lowerBound >= 0 && range.upperBound <= (rows?.count ?? codes.count),
                 "range \(range) outside 0..<\(rows?.count ?? codes.count)")
    if let rows {
      for row in rows[range] { precondition(row >= 0 && row < codes.count, "row \(row) outside 0..<\(codes.count)") }
    }
    precondition(estimates.count >= range.count && (lower?.count ?? range.count) >= range.count
                 && (upper?.count ?? range.count) >= range.count, "output buffers shorter than the range")
    let D = paddedDimension
    let planeBytes = (queryBits * signBytes + 7) / 8 * 8
    precondition(query.quantized.count == planeBytes + 2 * D && query.factors.count == 6,
                 "query was not prepared by this quantizer")
    guard !range.isEmpty else { return }

    let full = bits > 1 && stage == .full
    let lo = query.factors[0], step = query.factors[1]
    let total = Double(query.factors[2]) * 65536 + Double(query.factors[3])
    let queryNorm = Double(query.factors[4]), centreDot = query.factors[5]
    // Sign stage: ⟨b − ½, q̃⟩ = Δ·dot + lo·pop − (Δ·Σu + lo·D)/2.
    let signOffset = Float((Double(step) * total + Double(lo) * Double(D)) / 2)
    // Full code: see the extension's documentation.
    let shift = Int64(bits - 1)
    let centreLevel = (Double(1 << bits) - 1) / 2
    let fullOffset = centreLevel * (Double(step) * total + Double(lo) * Double(D))
    let rescaleField = layout.sideFields.firstIndex(of: full || bits == 1 ? Field.rescale : Field.signRescale)!
    let cosineField = full ? layout.sideFields.firstIndex(of: Field.cosine)! : rescaleField
    let centreDotField = layout.sideFields.firstIndex(of: Field.centreDot)
    let normField = layout.sideFields.firstIndex(of: Field.norm)
    let withBounds = lower != nil && upper != nil
    let boundScale = epsilon / Double(max(D - 1, 1)).squareRoot()
    let halfCodeNorm = Double(D).squareRoot() / 2
    let roundingTerm = epsilon * Double(step) / 2
    let chunk = Self.scanChunk
    let bytesPerCode = layout.bytesPerCode, signBytes = signBytes, extendedBits = extendedBits

    codes.withUnsafeCodes { codeBytes in
      codes.withUnsafeSide(normField ?? 0) { allNorms in
        codes.withUnsafeSide(rescaleField) { allRescales in
          codes.withUnsafeSide(cosineField) { allCosines in
           codes.withUnsafeSide(centreDotField ?? 0) { allCentreDots in
            query.quantized.withUnsafeBufferPointer { q in
              let planes = q.baseAddress!
              let values = UnsafeRawPointer(planes + planeBytes).assumingMemoryBound(to: UInt16.self)
              withUnsafeTemporaryAllocation(of: Int64.self, capacity: 4 * chunk) { scratch in
               // With `rows`: one chunk's codes and its four side values, gathered.
               withUnsafeTemporaryAllocation(of: UInt8.self, capacity: rows == nil ? 0 : chunk * bytesPerCode) { gatheredCodes in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: rows == nil ? 0 : 4 * chunk) { gatheredSides in
                let dot = scratch.baseAddress!, pop = dot + chunk, exDot = pop + chunk, exSum = exDot + chunk
                var start = range.lowerBound
                while start < range.upperBound {
                  let n = min(chunk, range.upperBound - start)
                  // The chunk's codes and side values, indexed 0..<n.
                  let first: UnsafePointer<UInt8>
                  let norms: UnsafePointer<Float>, rescales: UnsafePointer<Float>
                  let cosines: UnsafePointer<Float>, centreDots: UnsafePointer<Float>
                  if let rows {
                    let g = gatheredSides.baseAddress!
                    for k in 0..<n {
                      let row = rows[start + k]
                      Self.copyCode(from: codeBytes.baseAddress! + row * bytesPerCode,
                                    to: gatheredCodes.baseAddress! + k * bytesPerCode, bytes: bytesPerCode)
                      g[chunk + k] = allRescales[row]
                      if withBounds {
                        g[k] = allNorms[row]
                        g[2 * chunk + k] = allCosines[row]
                      }
                      if centreDotField != nil { g[3 * chunk + k] = allCentreDots[row] }
                    }
                    first = UnsafePointer(gatheredCodes.baseAddress!)
                    (norms, rescales, cosines, centreDots) = (
                      UnsafePointer(g), UnsafePointer(g + chunk), UnsafePointer(g + 2 * chunk), UnsafePointer(g + 3 * chunk))
                  } else {
                    first = UnsafePointer(codeBytes.baseAddress! + start * bytesPerCode)
                    (norms, rescales, cosines, centreDots) = (
                      allNorms.baseAddress! + start, allRescales.baseAddress! + start,
                      allCosines.baseAddress! + start, allCentreDots.baseAddress! + start)
                  }
                  Kernels.rabitqSignDot(
                    codes: first, stride: bytesPerCode, count: n, bytes: signBytes,
                    planes: planes, planeCount: queryBits, dot: dot, popcount: pop)
                  let out = estimates.baseAddress! + (start - range.lowerBound)
                  if full {
                    if extendedBits == 1 {
                      // One extended bit per coordinate is another bit plane (same bit order as the
                      // sign plane): ⟨e, u⟩ and Σe by the AND + popcount kernel, the same integers.
                      Kernels.rabitqSignDot(
                        codes: first + signBytes, stride: bytesPerCode, count: n, bytes: signBytes,
                        planes: planes, planeCount: queryBits, dot: exDot, popcount: exSum)
                    } else {
                      Kernels.rabitqExDot(
                        codes: first, stride: bytesPerCode, offset: signBytes, count: n, dimension: D,
                        bits: extendedBits, query: values, dot: exDot, sum: exSum)
                    }
                    for k in 0..<n {
                      let a = (dot[k] << shift) + exDot[k], b = (pop[k] << shift) + exSum[k]
                      let inner = Double(step) * Double(a) + Double(lo) * Double(b) - fullOffset
                      out[k] = Float(Double(rescales[k]) * inner) + centreDot
                    }
                  } else {
                    // out[k] = rescale·(step·dot + lo·pop − signOffset) + centreDot, vectorized in C.
                    Kernels.rabitqSignEstimates(
                      dot: dot, popcount: pop, count: n, scale: rescales, step: step, lo: lo,
                      offset: signOffset, add: centreDot, into: out)
                  }
                  if centreDotField != nil {
                    for k in 0..<n { out[k] += centreDots[k] }
                  }
                  if withBounds {
                    let lowOut = lower!.baseAddress! + (start - range.lowerBound)
                    let highOut = upper!.baseAddress! + (start - range.lowerBound)
                    for k in 0..<n {
                      // Without ‖r‖ (`bound=none`) there is no bound: the interval is (−∞, ∞).
                      let norm = normField == nil ? Double.nan : Double(norms[k])
                      var halfWidth = normField == nil ? Double.infinity : 0.0
                      if norm > 0 {
                        let gamma = full
                          ? Double(cosines[k])
                          : min(1, norm / (Double(rescales[k]) * halfCodeNorm))
                        let spread = (max(0, 1 / (gamma * gamma) - 1)).squareRoot()
                        let main = norm * queryNorm * spread * boundScale
                        let rounding = roundingTerm * norm / gamma
                        halfWidth = (main * main + rounding * rounding).squareRoot()
                      }
                      lowOut[k] = Float(Double(out[k]) - halfWidth)
                      highOut[k] = Float(Double(out[k]) + halfWidth)
                    }
                  }
                  start += n
                }
                }
               }
              }
            }
           }
          }
        }
      }
    }
  }
}
