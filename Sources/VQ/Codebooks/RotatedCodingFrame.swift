import RealModule
import VQKernels

/// The batch loops every rotate-then-quantize method shares (EDEN, TurboQuant-MSE, TurboQuant-Prod):
/// rotate rows in chunks into one scratch buffer, code each rotated row, and undo the rotation on decode.
///
/// The rotation comes from the spec's shared keys (`rotation`, `rounds`, `seed`); a randomized Hadamard
/// zero-pads to its `outputDimension` n, and every one of the n coordinates is coded. Nothing is
/// allocated per vector: one scratch buffer per batch (`chunkRows` rotated rows plus `scratchFloats`
/// floats for the codec), side values gathered in one array and stored at the end.
struct RotatedCodingFrame: Sendable {
  let dimension: Int
  let rotation: any Rotation
  /// Coordinates per code: the rotation's output dimension.
  var n: Int { rotation.outputDimension }

  static let chunkRows = 64

  init(spec: QuantizerSpec, dimension: Int) {
    self.dimension = dimension
    rotation = Rotations.make(spec, dimension: dimension)
  }

  /// Encodes every row of `x`: `encodeRow(rotatedRow, squaredNorm, code, side, scratch)` codes one
  /// rotated row of n floats (with its squared norm ‖Πx‖² = ‖x‖², computed here) into `code`
  /// (`layout.bytesPerCode` bytes) and writes its `layout.sideFields.count` side values to `side`;
  /// `scratch` holds `scratchFloats` floats. `codes` is replaced only on success.
  ///
  /// Input validation costs one pass less than `validateInput`: a NaN or ±Inf anywhere in a row makes
  /// its rotated squared norm non-finite, so only then is the row scanned (and `nonFinite` thrown with
  /// row and column); a finite row whose squared norm overflows Float
  /// (|x| ≳ 1.8e19) throws `outOfRange`.
  @inline(__always)
  func encode(
    _ x: VectorBatch, layout: CodeLayout, scratchFloats: Int, into codes: inout CodeBuffer,
    _ encodeRow: (UnsafeMutablePointer<Float>, Float, UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void
  ) throws {
    guard x.dimension == dimension else {
      throw VQError.dimensionMismatch(expected: dimension, got: x.dimension, what: "input")
    }
    var result = CodeBuffer(layout: layout, count: x.count)
    guard x.count > 0 else { codes = result; return }
    let n = n, bytes = layout.bytesPerCode, fields = layout.sideFields.count
    let rows = Swift.min(Self.chunkRows, x.count)
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: rows * n + Swift.max(scratchFloats, 1))
    defer { scratch.deallocate() }
    // Side values row-major here (fields per row), transposed into the buffer's per-field arrays below.
    var side = [Float](repeating: 0, count: Swift.max(fields * x.count, 1))
    try x.withUnsafeBufferPointer { src in
      try result.withUnsafeMutableCodes { dst in
        try side.withUnsafeMutableBufferPointer { sideOut in
          let input = src.baseAddress!, output = dst.baseAddress!, sideBase = sideOut.baseAddress!
          let rotated = scratch, work = scratch + rows * n
          var start = 0
          while start < x.count {
            let m = Swift.min(rows, x.count - start)
            rotation.apply(input + start * dimension, count: m, into: rotated)
            for r in 0..<m {
              let y = rotated + r * n
              let squaredNorm = CodecMath.squaredNorm(y, count: n)
              if !squaredNorm.isFinite { try Self.reject(x, row: start + r) }
              encodeRow(y, squaredNorm, output + (start + r) * bytes, sideBase + (start + r) * fields, work)
            }
            start += m
          }
        }
      }
    }
    for f in 0..<fields {
      result.withUnsafeMutableSide(f) { out in
        for i in 0..<x.count { out[i] = side[i * fields + f] }
      }
    }
    codes = result
  }

  /// Throws for row `row` of `x`, whose squared norm came out non-finite.
  static func reject(_ x: VectorBatch, row: Int) throws -> Never {
    try x.withRow(row) { values in
      for (column, v) in values.enumerated() where !v.isFinite {
        throw VQError.nonFinite(source: "input", row: row, column: column, value: v)
      }
    }
    throw VQError.outOfRange("input row \(row): its squared norm overflows Float (entries beyond ~1.8e19); scale the data down")
  }

  /// Decodes every code: `decodeRow(index, code, rotatedOut, scratch)` writes the row's n reconstructed
  /// rotated coordinates; the frame then applies the inverse rotation, chunk by chunk.
  @inline(__always)
  func decode(
    _ codes: CodeBuffer, scratchFloats: Int, into out: inout VectorBatch,
    _ decodeRow: (Int, UnsafePointer<UInt8>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void
  ) {
    out = VectorBatch(dimension: dimension, count: codes.count)
    guard codes.count > 0 else { return }
    let n = n, bytes = codes.layout.bytesPerCode
    let rows = Swift.min(Self.chunkRows, codes.count)
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: rows * n + Swift.max(scratchFloats, 1))
    defer { scratch.deallocate() }
    codes.withUnsafeCodes { src in
      out.withUnsafeMutableBufferPointer { dst in
        let input = src.baseAddress!, output = dst.baseAddress!
        let rotated = scratch, work = scratch + rows * n
        var start = 0
        while start < codes.count {
          let m = Swift.min(rows, codes.count - start)
          for r in 0..<m { decodeRow(start + r, input + (start + r) * bytes, rotated + r * n, work) }
          rotation.applyInverse(rotated, count: m, into: output + start * dimension)
          start += m
        }
      }
    }
  }

  /// Decodes codes whose rotated coordinates are `table[code_j] · scale_i`, with `scale_i` the first side
  /// value (EDEN's scale, TurboQuant-MSE's norm).
  func decodeScaledCodebook(_ codes: CodeBuffer, bits: Int, table: [Float], into out: inout VectorBatch) {
    let n = n
    let scales = codes.withUnsafeSide(0) { Array($0) }
    table.withUnsafeBufferPointer { t in
      decode(codes, scratchFloats: 0, into: &out) { i, code, y, _ in
        Kernels.unpackDequantize(code, count: n, bits: bits, table: t.baseAddress!, scale: scales[i], into: y)
      }
    }
  }

  /// `out[i] = scale_i · Σ_j q_j · table[code_j]` for the codes in `range` (the kernel's fixed summation
  /// order), for codes laid out as in `decodeScaledCodebook`.
  func estimateScaledCodebook(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, bits: Int, table: [Float],
    into out: UnsafeMutablePointer<Float>
  ) {
    precondition(query.transformed.count == n, "query prepared for another quantizer")
    Self.scaledCodebookEstimates(query.transformed, codes: codes, range: range, count: n, bits: bits, table: table, into: out)
  }

  /// `out[i − range.lowerBound] = side₀[i] · Σ_j q[j] · table[code_j]` over the `count` fields of `bits` bits
  /// of each code in `range` (`Kernels.unpackDot`'s fixed order): the estimate of every method whose code
  /// is one table index per coordinate times one per-vector scale (EDEN, TurboQuant-MSE, sub-bit EDEN, QJL).
  static func scaledCodebookEstimates(
    _ q: [Float], codes: CodeBuffer, range: Range<Int>, count: Int, bits: Int, table: [Float],
    into out: UnsafeMutablePointer<Float>
  ) {
    let bytes = codes.layout.bytesPerCode
    codes.withUnsafeCodes { raw in
      codes.withUnsafeSide(0) { scales in
        q.withUnsafeBufferPointer { q in
          table.withUnsafeBufferPointer { t in
            for i in range {
              let dot = Kernels.unpackDot(
                raw.baseAddress! + i * bytes, count: count, bits: bits, table: t.baseAddress!, query: q.baseAddress!)
              out[i - range.lowerBound] = scales[i] * dot
            }
          }
        }
      }
    }
  }

  /// The query rotated (and zero-padded) into the coding space.
  func rotate(query: UnsafeBufferPointer<Float>) -> [Float] {
    var y = [Float](repeating: 0, count: n)
    y.withUnsafeMutableBufferPointer { rotation.apply(query.baseAddress!, count: 1, into: $0.baseAddress!) }
    return y
  }
}

/// Small float helpers for the codecs (relaxed reductions: vectorized, not bit-stable across compilers).
enum CodecMath {
  @inline(__always)
  static func squaredNorm(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var s: Float = 0
    for i in 0..<count { s = Relaxed.multiplyAdd(x[i], x[i], s) }
    return s
  }

  /// E|z₁| for z uniform on the unit sphere of R^n: Γ(n/2)/(√π·Γ((n+1)/2)) (→ √(2/(πn))). The mean
  /// absolute coordinate, the normalizer that makes an orthogonal-rows sign sketch exactly unbiased.
  static func meanAbsoluteSphereCoordinate(_ n: Int) -> Double {
    // Log-gamma difference: relative error ~1e−13 at n = 10⁵, far below anything measurable.
    Double.exp(Double.logGamma(Double(n) / 2) - Double.logGamma(Double(n + 1) / 2)) / Double.pi.squareRoot()
  }
}
