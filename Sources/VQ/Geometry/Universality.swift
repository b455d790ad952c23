import RealModule

/// The price of universality: how many more bits per coordinate a quantizer that does not know the
/// weighting Σ needs than reverse waterfilling on Σ's eigenvalues, for the weighted distortion
/// E[(W−Ŵ)ᵀΣ(W−Ŵ)]/n with W ~ N(0, I_n) and tr Σ = n. research/geometry.md §2.
///
/// Paper: J. Harbuzova, O. Ordentlich, Y. Polyanskiy, "Price of universality in vector quantization is at
/// most 0.11 bit" (COLT 2026, arXiv:2602.05790; we read its abstract).
///
/// Algorithm:
/// 1. waterfilling: D(θ) = (1/n)Σ min(θ, λ_i), R(θ) = (1/n)Σ max(0, ½log₂(λ_i/θ)); θ by bisection on ln θ;
/// 2. an isotropic Gaussian codebook N(0, τ²I) with a Σ-aware encoder (mismatched random coding): with
///    c_i = 2μλ_iτ², d_i = 1/(1+c_i)² + τ²/(1+c_i), r_i = ½[c_i²/((1+c_i)²τ²) + 1/(1+c_i) + ln(1+c_i) − 1]
///    nats, D = (1/n)Σλ_i d_i, R = (1/n)Σ r_i/ln 2; μ by bisection for the target D, then R minimized over τ;
/// 3. the theoretical price: R_rc(D) − R_wf(D) (0 for a flat spectrum, ≤ 0.108 in our worst case search);
/// 4. a practical universal quantizer at b bits with measured weighted distortion D_Q pays b − R_wf(D_Q);
/// 5. an isotropic error (rotation-based quantizers) has weighted distortion equal to its plain MSE, so its
///    price grows with how uneven Σ is: the whole waterfilling advantage is lost.
///
/// Guarantee: R_wf is the rate–distortion function of the Gaussian source under the Σ-weighted error (exact);
/// the random-coding rate is achievable by the universal codebook (the paper's construction, up to its
/// non-constructive choice of codebook).
public enum Universality {
  // MARK: Reverse waterfilling

  /// D(θ) per coordinate.
  public static func waterfillingDistortion(eigenvalues: [Double], level theta: Double) -> Double {
    eigenvalues.reduce(0) { $0 + Swift.min(theta, $1) } / Double(eigenvalues.count)
  }

  /// R(θ) in bits per coordinate.
  public static func waterfillingRate(eigenvalues: [Double], level theta: Double) -> Double {
    eigenvalues.reduce(0) { $0 + ($1 > theta ? 0.5 * Double.log2($1 / theta) : 0) } / Double(eigenvalues.count)
  }

  /// R_wf(D): the least rate (bits per coordinate) at weighted distortion D; 0 at D ≥ mean λ.
  public static func waterfillingRate(eigenvalues: [Double], distortion: Double) -> Double {
    let mean = eigenvalues.reduce(0, +) / Double(eigenvalues.count)
    guard distortion < mean else { return 0 }
    let theta = waterLevel(eigenvalues: eigenvalues) { waterfillingDistortion(eigenvalues: eigenvalues, level: $0) - distortion }
    return waterfillingRate(eigenvalues: eigenvalues, level: theta)
  }

  /// D_wf(R): the least weighted distortion at rate R.
  public static func waterfillingDistortion(eigenvalues: [Double], rate: Double) -> Double {
    let theta = waterLevel(eigenvalues: eigenvalues) { rate - waterfillingRate(eigenvalues: eigenvalues, level: $0) }
    return waterfillingDistortion(eigenvalues: eigenvalues, level: theta)
  }

  /// θ where `increasing(θ)` crosses 0, by bisection on ln θ over [1e−30, max λ].
  static func waterLevel(eigenvalues: [Double], _ increasing: (Double) -> Double) -> Double {
    var lo = Double.log(1e-30), hi = Double.log(Swift.max(eigenvalues.max() ?? 1, 1e-30))
    for _ in 0..<200 {
      let mid = (lo + hi) / 2
      if increasing(Double.exp(mid)) < 0 { lo = mid } else { hi = mid }
      if hi - lo < 1e-14 { break }
    }
    return Double.exp((lo + hi) / 2)
  }

  // MARK: Mismatched random coding (isotropic Gaussian codebook, Σ-aware encoder)

  /// (D, R bits) of the test channel with multiplier μ and codebook variance τ².
  static func randomCodingPoint(eigenvalues: [Double], mu: Double, tauSquared t2: Double) -> (distortion: Double, rate: Double) {
    var d = 0.0, r = 0.0
    for lambda in eigenvalues {
      let c = 2 * mu * lambda * t2
      let onePlus = 1 + c
      d += lambda * (1 / (onePlus * onePlus) + t2 / onePlus)
      r += 0.5 * (c * c / (onePlus * onePlus * t2) + 1 / onePlus + Double.log(onePlus) - 1)
    }
    let n = Double(eigenvalues.count)
    return (d / n, r / n / Double.log(2.0))
  }

  /// The rate the isotropic codebook N(0, τ²I) needs for weighted distortion D (bisection on ln μ).
  static func randomCodingRate(eigenvalues: [Double], distortion: Double, tauSquared t2: Double) -> Double {
    var lo = Double.log(1e-12), hi = Double.log(1e14)
    for _ in 0..<200 {
      let mid = (lo + hi) / 2
      if randomCodingPoint(eigenvalues: eigenvalues, mu: Double.exp(mid), tauSquared: t2).distortion > distortion {
        lo = mid
      } else {
        hi = mid
      }
      if hi - lo < 1e-13 { break }
    }
    return randomCodingPoint(eigenvalues: eigenvalues, mu: Double.exp((lo + hi) / 2), tauSquared: t2).rate
  }

  /// R_rc(D): the isotropic Gaussian codebook's rate at weighted distortion D, minimized over τ²
  /// (golden-section search on ln τ² in [ln 1e−8, ln 1]).
  public static func randomCodingRate(eigenvalues: [Double], distortion: Double) -> Double {
    let golden = (5.0.squareRoot() - 1) / 2
    var a = Double.log(1e-8), b = 0.0
    func f(_ s: Double) -> Double { randomCodingRate(eigenvalues: eigenvalues, distortion: distortion, tauSquared: Double.exp(s)) }
    var c = b - golden * (b - a), d = a + golden * (b - a)
    var fc = f(c), fd = f(d)
    for _ in 0..<80 {
      if fc < fd { b = d; d = c; fd = fc; c = b - golden * (b - a); fc = f(c) } else { a = c; c = d; fc = fd; d = a + golden * (b - a); fd = f(d) }
      if b - a < 1e-7 { break }
    }
    return Swift.min(fc, fd)
  }

  /// The price of the universal random codebook at waterfilling rate R: R_rc(D_wf(R)) − R.
  public static func theoreticalPrice(eigenvalues: [Double], rate: Double) -> Double {
    let d = waterfillingDistortion(eigenvalues: eigenvalues, rate: rate)
    return randomCodingRate(eigenvalues: eigenvalues, distortion: d) - rate
  }

  /// The price a quantizer at `bits` per coordinate pays when its weighted distortion is `distortion`.
  public static func practicalPrice(eigenvalues: [Double], bits: Double, distortion: Double) -> Double {
    bits - waterfillingRate(eigenvalues: eigenvalues, distortion: distortion)
  }

  // MARK: Spectra

  /// `values` scaled to mean 1 (tr Σ = n).
  public static func normalized(_ values: [Double]) -> [Double] {
    let mean = values.reduce(0, +) / Double(values.count)
    return values.map { $0 / mean }
  }

  public static func flatSpectrum(_ n: Int) -> [Double] { [Double](repeating: 1, count: n) }

  /// λ_i ∝ i^(−exponent), i = 1…n.
  public static func powerLawSpectrum(_ n: Int, exponent: Double) -> [Double] {
    normalized((1...n).map { Double.pow(Double($0), -exponent) })
  }

  /// `spikes` eigenvalues `factor` times the rest.
  public static func spikedSpectrum(_ n: Int, spikes: Int, factor: Double) -> [Double] {
    normalized((0..<n).map { $0 < spikes ? factor : 1 })
  }

  /// A fraction `fraction` of the coordinates carries `energy` of the trace.
  public static func twoLevelSpectrum(_ n: Int, fraction: Double, energy: Double) -> [Double] {
    let k = Swift.max(1, Int((fraction * Double(n)).rounded()))
    let high = energy / Double(k), low = (1 - energy) / Double(n - k)
    return normalized((0..<n).map { $0 < k ? high : low })
  }

  // MARK: Eigenvalues of a symmetric matrix (cyclic Jacobi)

  /// The eigenvalues (descending) of the symmetric n×n matrix `a` (row-major), by cyclic Jacobi rotations
  /// until the off-diagonal mass is below 1e−22 of the total (or 60 sweeps). O(n³) per sweep.
  public static func symmetricEigenvalues(_ a: [Double], size n: Int) -> [Double] {
    precondition(a.count == n * n)
    var m = a
    var total = 0.0
    for v in m { total += v * v }
    for _ in 0..<60 {
      var off = 0.0
      for i in 0..<n { for j in (i + 1)..<Swift.max(i + 1, n) { off += m[i * n + j] * m[i * n + j] } }
      if off <= 1e-22 * total { break }
      for p in 0..<n {
        for q in (p + 1)..<Swift.max(p + 1, n) {
          let apq = m[p * n + q]
          if Swift.abs(apq) < 1e-300 { continue }
          let app = m[p * n + p], aqq = m[q * n + q]
          let theta = (aqq - app) / (2 * apq)
          let t = (theta >= 0 ? 1 : -1) / (Swift.abs(theta) + (theta * theta + 1).squareRoot())
          let c = 1 / (t * t + 1).squareRoot(), s = t * c
          for k in 0..<n {
            let akp = m[k * n + p], akq = m[k * n + q]
            m[k * n + p] = c * akp - s * akq
            m[k * n + q] = s * akp + c * akq
          }
          for k in 0..<n {
            let apk = m[p * n + k], aqk = m[q * n + k]
            m[p * n + k] = c * apk - s * aqk
            m[q * n + k] = s * apk + c * aqk
          }
        }
      }
    }
    return (0..<n).map { m[$0 * n + $0] }.sorted(by: >)
  }

  /// The second-moment matrix (1/m)Σ_r x_r x_rᵀ of the rows of `x` (Double, row-major d×d).
  public static func secondMoment(_ x: VectorBatch) -> [Double] {
    let d = x.dimension
    var s = [Double](repeating: 0, count: d * d)
    var row = [Double](repeating: 0, count: d)
    for r in 0..<x.count {
      x.withRow(r) { v in for j in 0..<d { row[j] = Double(v[j]) } }
      for i in 0..<d {
        let vi = row[i]
        for j in i..<d { s[i * d + j] += vi * row[j] }
      }
    }
    let inv = 1 / Double(Swift.max(x.count, 1))
    for i in 0..<d { for j in i..<d { s[i * d + j] *= inv; s[j * d + i] = s[i * d + j] } }
    return s
  }
}

extension Universality {
  /// The measured weighted distortion (1/n)·mean_r e_rᵀΣe_r of `quantizer` on the rows of `w`, for
  /// Σ = U·diag(λ)·Uᵀ with U given as a rotation (`basis.apply(e)` = Uᵀe): Σ_i λ_i (Uᵀe)_i².
  public static func weightedDistortion(
    _ quantizer: any VectorQuantizer, vectors w: VectorBatch, eigenvalues: [Double], basis: any Rotation
  ) throws -> Double {
    let n = w.dimension
    precondition(eigenvalues.count == n && basis.inputDimension == n && basis.outputDimension == n)
    let y = try quantizer.decode(try quantizer.encode(w))
    var errors = VectorBatch(dimension: n, count: w.count)
    errors.withUnsafeMutableBufferPointer { e in
      w.withUnsafeBufferPointer { a in y.withUnsafeBufferPointer { b in for i in 0..<e.count { e[i] = a[i] - b[i] } } }
    }
    let rotated = basis.apply(errors)
    var total = 0.0
    rotated.withUnsafeBufferPointer { e in
      for r in 0..<w.count { for i in 0..<n { let v = Double(e[r * n + i]); total += eigenvalues[i] * v * v } }
    }
    return total / Double(w.count * n)
  }

  /// The same for an explicit symmetric Σ (row-major n×n).
  public static func weightedDistortion(_ quantizer: any VectorQuantizer, vectors w: VectorBatch, matrix: [Double]) throws -> Double {
    let n = w.dimension
    precondition(matrix.count == n * n)
    let y = try quantizer.decode(try quantizer.encode(w))
    var total = 0.0
    var e = [Double](repeating: 0, count: n)
    for r in 0..<w.count {
      w.withRow(r) { a in y.withRow(r) { b in for i in 0..<n { e[i] = Double(a[i]) - Double(b[i]) } } }
      for i in 0..<n {
        var s = 0.0
        for j in 0..<n { s += matrix[i * n + j] * e[j] }
        total += e[i] * s
      }
    }
    return total / Double(w.count * n)
  }
}
