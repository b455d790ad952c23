import VQ

/// Paper-literal reference quantizers for tests: slow, in Double, written straight from the papers so
/// that the library's fast paths (and its rotations) can be checked against them.
public enum ReferenceQuantizers {
  /// The N(0,1) Lloyd-Max codebook at 2 bits (research/rotation.md §7 item 3): ±0.452780, ±1.510418.
  /// Its mean-squared error on N(0,1) is D₂ = 0.117482 (item 1).
  public static let lloydMaxGaussian2Bit: [Double] = [-1.510418, -0.452780, 0.452780, 1.510418]

  /// TurboQuant-MSE (Zandieh et al., arXiv 2504.19874, Algorithm 1) with the N(0,1) Lloyd-Max
  /// codebook: rotate, take each rotated coordinate times √n/‖x‖ (n = the rotated dimension), round it to
  /// the nearest centroid, scale back by ‖x‖/√n, rotate back. Returns x̂ (the input's dimension).
  public static func turboQuantMSE(
    _ x: [Float], rotation: some Rotation, codebook: [Double] = lloydMaxGaussian2Bit
  ) -> [Float] {
    precondition(x.count == rotation.inputDimension)
    let n = rotation.outputDimension
    let y = rotation.apply(x)
    var norm = 0.0
    for v in x { norm += Double(v) * Double(v) }
    norm = norm.squareRoot()
    guard norm > 0 else { return [Float](repeating: 0, count: x.count) }
    let up = Double(n).squareRoot() / norm
    var quantized = [Float](repeating: 0, count: n)
    for i in 0..<n {
      let u = Double(y[i]) * up
      var best = codebook[0]
      for c in codebook where abs(u - c) < abs(u - best) { best = c }
      quantized[i] = Float(best / up)
    }
    var back = [Float](repeating: 0, count: x.count)
    quantized.withUnsafeBufferPointer { q in
      back.withUnsafeMutableBufferPointer { b in rotation.applyInverse(q.baseAddress!, count: 1, into: b.baseAddress!) }
    }
    return back
  }

  /// Normalized squared error ‖x̂ − x‖² / ‖x‖², in Double.
  public static func nmse(_ x: [Float], _ xHat: [Float]) -> Double {
    precondition(x.count == xHat.count)
    var error = 0.0, energy = 0.0
    for i in 0..<x.count {
      let e = Double(xHat[i]) - Double(x[i])
      error += e * e
      energy += Double(x[i]) * Double(x[i])
    }
    return error / energy
  }
}
