import RealModule

/// sign: one bit per coordinate plus the norm — the 1-bit product code (sign random projections,
/// Charikar 2002 "SimHash"; signSGD, Bernstein et al. 2018, with the norm as scale; geometry.md §1.4).
///
/// Algorithm (one Float side value `norm` per vector):
/// 1. optionally rotate (`rotation=hadamard|haar`, zero-padded to n = the rotation's size);
/// 2. q_j = sign(x_j) with sign(0) = +1 (also for −0), one bit each (1 = +), LSB first;
/// 3. store ‖x‖ (the rotation is an isometry, so ‖x‖ is also the rotated vector's norm);
/// 4. decode x̂_j = q_j · ‖x‖/√n: the reconstruction has the input's norm;
/// 5. the estimate is (‖x‖/√n) · Σ_j ±q_j, the query coordinates added or subtracted by bit.
///
/// Known error (geometry.md §1.5, exact): on uniform unit vectors E cos = √d·Γ(d/2)/(√π·Γ((d+1)/2)),
/// cosine loss 0.2000 at d = 128, 0.2018 at d = 768, → 1 − √(2/π) = 0.2021; identical to rotation +
/// 1-bit Lloyd-Max. Worst case e_1: cos = 1/√d (87.9° at d = 768) — unrotated sparse input is badly
/// served; `rotation=hadamard` fixes it. 1 bit per coordinate + 32 bits of norm.
public struct SignFormat: ProductFormat {
  public static let method = QuantizerMethod(
    name: "sign", summary: "one sign bit per coordinate + the vector's norm", family: "product format",
    parameters: Rotations.parameters(defaultKind: .none)
  ) { spec, dimension in SignFormat(spec: spec, dimension: dimension) }

  public let spec: QuantizerSpec
  public let dimension: Int
  let frame: ProductFormatFrame

  public init(spec: QuantizerSpec, dimension: Int) {
    self.spec = spec
    self.dimension = dimension
    frame = ProductFormatFrame(spec: spec, dimension: dimension)
  }

  public var layout: CodeLayout { CodeLayout(bytesPerCode: (frame.codedDimension + 7) / 8, sideFields: ["norm"]) }

  public func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws {
    try validateInput(x)
    let n = frame.codedDimension
    frame.encode(x, layout: layout, into: &codes) { row, code, _ in
      // In Double: squares of coordinates below ~1e-19 underflow in Float (a tiny vector would get norm 0).
      var squares: Double = 0
      for j in 0..<n { squares = Relaxed.multiplyAdd(Double(row[j]), Double(row[j]), squares) }
      for k in 0..<((n + 7) / 8) {
        var byte: UInt8 = 0
        for t in 0..<Swift.min(8, n - 8 * k) where row[8 * k + t] >= 0 { byte |= 1 << UInt8(t) }
        code[k] = byte
      }
      return Float(squares.squareRoot())
    }
  }

  public func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    try validateCodes(codes)
    let n = frame.codedDimension, inverseRoot = 1 / Float(n).squareRoot()
    frame.decode(codes, into: &out) { code, norm, y in
      let magnitude = norm * inverseRoot
      for j in 0..<n { y[j] = (code[j >> 3] >> UInt8(j & 7)) & 1 == 1 ? magnitude : -magnitude }
    }
  }

  public func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    let n = frame.codedDimension, inverseRoot = 1 / Float(n).squareRoot()
    frame.withQuery(query, codes: codes) { q, base, bytes, norm in
      for i in range {
        let code = base + i * bytes
        var sum: Float = 0
        for k in 0..<(n / 8) {
          // A clear bit flips the query coordinate's sign bit: Σ ±q_j without a branch.
          let flips = UInt32(~code[k])
          for t in 0..<8 {
            let v = Float(bitPattern: q[8 * k + t].bitPattern ^ (((flips >> UInt32(t)) & 1) << 31))
            sum = Relaxed.sum(sum, v)
          }
        }
        for j in (8 * (n / 8))..<n { sum += (code[j >> 3] >> UInt8(j & 7)) & 1 == 1 ? q[j] : -q[j] }
        out[i - range.lowerBound] = (norm![i] * inverseRoot) * sum
      }
    }
  }
}
