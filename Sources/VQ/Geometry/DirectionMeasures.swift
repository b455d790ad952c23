import RealModule

/// How well a quantizer preserves directions: the expected cosine loss 1 − E cos(x, Q(x)), the angle
/// statistics (mean, p99, sampled max), and adversarial probes. research/geometry.md §1.3–1.5.
///
/// Source: B. Zadeh, G. A. Constantinides, "Direction-Preserving Number Representations"
/// (arXiv:2605.07662): product codes (every coordinate from one scalar alphabet, free block scale) have a
/// covering angle that tends to 90° like arccos(c/√ln n), while optimal spherical codes at the same rate
/// keep it bounded; `SphericalCodeBound` gives the latter.
///
/// Algorithm:
/// 1. encode and decode a batch with the quantizer (any side data; cosine ignores the scale);
/// 2. per row: cos = ⟨x, x̂⟩/(‖x‖‖x̂‖) in Double (a zero reconstruction counts as cos 0);
/// 3. loss = mean of 1 − cos with its standard error; angles in degrees, p99 by sorting;
/// 4. probes: the harmonic witness u_i ∝ i^(−1/2) (the paper's worst case for product codes) and e₁
///    (sign's worst case, cos = 1/√d);
/// 5. the gap to the bound: R − R_eff(loss) (`SphericalCodeBound.effectiveRate`).
///
/// Guarantee: the loss and angles are sample estimates (standard error reported); the sampled max is a
/// lower estimate of the covering angle, which is why the probes are reported too.
public enum DirectionMeasures {
  public struct Statistics: Sendable {
    public let count: Int
    /// 1 − E cos and its standard error.
    public let cosineLoss: Double
    public let standardError: Double
    /// Angles between x and Q(x), degrees.
    public let meanAngle: Double
    public let p99Angle: Double
    public let maxAngle: Double
  }

  /// cos(x, y) of two rows, in Double; 0 when either is zero.
  public static func cosine(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) -> Double {
    var xy = 0.0, xx = 0.0, yy = 0.0
    for j in 0..<x.count {
      let a = Double(x[j]), b = Double(y[j])
      xy += a * b; xx += a * a; yy += b * b
    }
    guard xx > 0, yy > 0 else { return 0 }
    return Swift.min(1, Swift.max(-1, xy / (xx * yy).squareRoot()))
  }

  /// Cosines of every row of `x` with its reconstruction by `quantizer`.
  public static func cosines(_ quantizer: any VectorQuantizer, _ x: VectorBatch) throws -> [Double] {
    let y = try quantizer.decode(try quantizer.encode(x))
    return (0..<x.count).map { r in x.withRow(r) { a in y.withRow(r) { b in cosine(a, b) } } }
  }

  /// Loss and angle statistics of `quantizer` on the rows of `x`.
  public static func measure(_ quantizer: any VectorQuantizer, on x: VectorBatch) throws -> Statistics {
    summarize(try cosines(quantizer, x))
  }

  /// Loss and angle statistics from a list of cosines.
  public static func summarize(_ cosines: [Double]) -> Statistics {
    let n = cosines.count
    precondition(n > 0, "no samples")
    var mean = 0.0, m2 = 0.0
    for (i, c) in cosines.enumerated() {
      let loss = 1 - c, delta = loss - mean
      mean += delta / Double(i + 1)
      m2 += delta * (loss - mean)
    }
    let se = n > 1 ? (m2 / Double(n - 1) / Double(n)).squareRoot() : 0
    let angles = cosines.map { Double.acos($0) * 180 / Double.pi }.sorted()
    let meanAngle = angles.reduce(0, +) / Double(n)
    let p99 = angles[Swift.min(n - 1, Int((0.99 * Double(n - 1)).rounded()))]
    return Statistics(count: n, cosineLoss: mean, standardError: se, meanAngle: meanAngle, p99Angle: p99,
                      maxAngle: angles[n - 1])
  }

  /// The harmonic witness u_i = 1/√(i·H_d), i = 1…d (unit length).
  public static func harmonicWitness(dimension d: Int) -> [Float] {
    var h = 0.0
    for i in 1...d { h += 1 / Double(i) }
    return (1...d).map { Float(1 / (Double($0) * h).squareRoot()) }
  }

  /// The angle (degrees) between `vector` and its reconstruction.
  public static func angle(_ quantizer: any VectorQuantizer, _ vector: [Float]) throws -> Double {
    let x = try VectorBatch(dimension: vector.count, values: vector)
    return Double.acos(try cosines(quantizer, x)[0]) * 180 / Double.pi
  }

  /// E cos(x, sign(x)) for x uniform on S^(d−1): √d·Γ(d/2)/(√π·Γ((d+1)/2)) (also rotation + 1-bit
  /// Lloyd–Max).
  public static func signExpectedCosine(dimension d: Int) -> Double {
    Double.exp(0.5 * Double.log(Double(d)) + Double.logGamma(Double(d) / 2) - 0.5 * Double.log(Double.pi)
      - Double.logGamma(Double(d + 1) / 2))
  }
}
