/// What every product format shares: the optional rotation (spec keys `rotation`, `rounds`, `seed`,
/// default `none`), the batch loops around a per-row codec, and the query transform.
///
/// With a rotation, `int:bits=4,rotation=hadamard` is "rotation + INT4": encode rotates each row (a
/// randomized Hadamard zero-pads to its `outputDimension`, and every padded coordinate is coded, so the
/// code size counts them), decode inverse-rotates, and `prepare` rotates the query, so that the
/// estimate ⟨Πq, ŷ⟩ equals ⟨q, Πᵀŷ⟩, the inner product with the decoded vector. Rows are rotated in
/// chunks into one scratch buffer per batch; nothing is allocated per vector.
struct ProductFormatFrame: Sendable {
  let dimension: Int
  /// `nil` for `rotation=none` (rows are coded in place, no copy).
  let rotation: (any Rotation)?
  /// Coordinates per code: the rotation's output dimension (padded), or `dimension`.
  let codedDimension: Int

  /// Rows rotated at a time (bounds the scratch memory).
  static let chunkRows = 64

  init(spec: QuantizerSpec, dimension: Int) {
    self.dimension = dimension
    if spec.string("rotation") == RotationKind.none.rawValue {
      rotation = nil
      codedDimension = dimension
    } else {
      let r = Rotations.make(spec, dimension: dimension)
      rotation = r
      codedDimension = r.outputDimension
    }
  }

  /// Encodes every row of `x`: `encodeRow(row, code, scratch)` codes one row of `codedDimension`
  /// floats into `code` and returns the row's side value (ignored when `layout` has no side field);
  /// `scratch` holds `codedDimension` floats the codec may use.
  @inline(__always)
  func encode(
    _ x: VectorBatch, layout: CodeLayout, into codes: inout CodeBuffer,
    _ encodeRow: (UnsafePointer<Float>, UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<Float>) -> Float
  ) {
    precondition(layout.sideFields.count <= 1, "product formats store at most one side value")
    codes = CodeBuffer(layout: layout, count: x.count)
    guard x.count > 0 else { return }
    let n = codedDimension, bytes = layout.bytesPerCode
    let rows = rotation == nil ? 0 : Swift.min(Self.chunkRows, x.count)
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: n + rows * n)
    defer { scratch.deallocate() }
    var side = [Float](repeating: 0, count: layout.sideFields.isEmpty ? 0 : x.count)
    x.withUnsafeBufferPointer { src in
      codes.withUnsafeMutableCodes { dst in
        side.withUnsafeMutableBufferPointer { sideOut in
          let input = src.baseAddress!, output = dst.baseAddress!
          if let rotation {
            let rotated = scratch + n
            var start = 0
            while start < x.count {
              let m = Swift.min(rows, x.count - start)
              rotation.apply(input + start * dimension, count: m, into: rotated)
              for r in 0..<m {
                let s = encodeRow(rotated + r * n, output + (start + r) * bytes, scratch)
                if !sideOut.isEmpty { sideOut[start + r] = s }
              }
              start += m
            }
          } else {
            for i in 0..<x.count {
              let s = encodeRow(input + i * n, output + i * bytes, scratch)
              if !sideOut.isEmpty { sideOut[i] = s }
            }
          }
        }
      }
    }
    if !side.isEmpty {
      codes.withUnsafeMutableSide(0) { dst in
        side.withUnsafeBufferPointer { dst.baseAddress!.update(from: $0.baseAddress!, count: x.count) }
      }
    }
  }

  /// Decodes every code: `decodeRow(code, side, out)` writes the `codedDimension` reconstructed
  /// (rotated-space) floats of one code; the frame inverse-rotates them into `out`.
  @inline(__always)
  func decode(
    _ codes: CodeBuffer, into out: inout VectorBatch,
    _ decodeRow: (UnsafePointer<UInt8>, Float, UnsafeMutablePointer<Float>) -> Void
  ) {
    out = VectorBatch(dimension: dimension, count: codes.count)
    guard codes.count > 0 else { return }
    let n = codedDimension
    withCodes(codes) { code, bytes, side in
      out.withUnsafeMutableBufferPointer { dst in
        let output = dst.baseAddress!
        if let rotation {
          let rows = Swift.min(Self.chunkRows, codes.count)
          let rotated = UnsafeMutablePointer<Float>.allocate(capacity: rows * n)
          defer { rotated.deallocate() }
          var start = 0
          while start < codes.count {
            let m = Swift.min(rows, codes.count - start)
            for r in 0..<m {
              let i = start + r
              decodeRow(code + i * bytes, side?[i] ?? 0, rotated + r * n)
            }
            rotation.applyInverse(rotated, count: m, into: output + start * dimension)
            start += m
          }
        } else {
          for i in 0..<codes.count { decodeRow(code + i * bytes, side?[i] ?? 0, output + i * n) }
        }
      }
    }
  }

  /// The query in coded space (rotated and zero-padded where the format rotates).
  func transform(query: UnsafeBufferPointer<Float>) -> [Float] {
    guard let rotation else { return Array(query) }
    var y = [Float](repeating: 0, count: codedDimension)
    y.withUnsafeMutableBufferPointer { rotation.apply(query.baseAddress!, count: 1, into: $0.baseAddress!) }
    return y
  }

  /// Runs `body(query, codes, bytesPerCode, side)` for an estimate: the prepared query in coded space
  /// (checked to hold `codedDimension` floats), the code bytes and the first side field (if any).
  @inline(__always)
  func withQuery<R>(
    _ query: PreparedQuery, codes: CodeBuffer,
    _ body: (UnsafePointer<Float>, UnsafePointer<UInt8>, Int, UnsafePointer<Float>?) -> R
  ) -> R {
    precondition(query.transformed.count == codedDimension, "query prepared for another quantizer")
    return withCodes(codes) { base, bytes, side in
      query.transformed.withUnsafeBufferPointer { body($0.baseAddress!, base, bytes, side) }
    }
  }

  /// Runs `body(codes, bytesPerCode, side)` with the code bytes and the first side field (if any).
  @inline(__always)
  func withCodes<R>(
    _ codes: CodeBuffer, _ body: (UnsafePointer<UInt8>, Int, UnsafePointer<Float>?) -> R
  ) -> R {
    codes.withUnsafeCodes { raw in
      let base = raw.baseAddress!  // never nil: the storage always holds at least one byte
      if codes.layout.sideFields.isEmpty { return body(base, codes.layout.bytesPerCode, nil) }
      return codes.withUnsafeSide(0) { side in body(base, codes.layout.bytesPerCode, side.baseAddress) }
    }
  }
}

/// A quantizer built on a `ProductFormatFrame`: it shares the frame's query transform.
protocol ProductFormat: VectorQuantizer {
  var frame: ProductFormatFrame { get }
}

extension ProductFormat {
  public func prepare(query: UnsafeBufferPointer<Float>) throws -> PreparedQuery {
    try validateQuery(query)
    return PreparedQuery(dimension: dimension, transformed: frame.transform(query: query))
  }
}

/// Reciprocal scaling that survives tiny scales: `x · (1/s)` when 1/s is finite, else `x / s`
/// (1/s overflows for s < 2^-128; such vectors are all but zero, but still get the right code).
@inline(__always)
func scaledIntoScratch(
  _ x: UnsafePointer<Float>, count n: Int, scale s: Float, into y: UnsafeMutablePointer<Float>
) {
  let inverse = 1 / s
  if inverse.isFinite {
    for j in 0..<n { y[j] = x[j] * inverse }
  } else {
    for j in 0..<n { y[j] = x[j] / s }
  }
}

/// max |x_j| over `n` finite floats, as an integer maximum of the magnitude bits (for finite values
/// their order is the order of the numbers), which vectorizes where a float max chain does not.
@inline(__always)
func absoluteMaximum(_ x: UnsafePointer<Float>, count n: Int) -> Float {
  var m: UInt32 = 0
  for j in 0..<n { m = Swift.max(m, x[j].bitPattern & 0x7FFF_FFFF) }
  return Float(bitPattern: m)
}

/// The per-vector scale `amax / top` that maps the largest magnitude onto the format's top value,
/// never 0 for a nonzero vector (a quotient that underflows becomes the smallest subnormal, so such a
/// vector still decodes near itself instead of to zero).
@inline(__always)
func absmaxScale(_ amax: Float, top: Float) -> Float {
  let s = amax / top
  return s == 0 && amax > 0 ? .leastNonzeroMagnitude : s
}
