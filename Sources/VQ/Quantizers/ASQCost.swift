#if os(Linux)
import Glibc
#endif

/// The cost of adaptive stochastic quantization (ASQ) between two levels, from prefix sums.
///
/// Paper: R. Ben Basat, Y. Ben-Itzhak, M. Mitzenmacher, S. Vargaftik, "Optimal and Approximate Adaptive
/// Stochastic Quantization" (QUIVER, NeurIPS 2024, arXiv:2402.03158); research/asq-ipaware.md §2.2.
///
/// Algorithm (sorted points y_0 ≤ … ≤ y_{n−1} with weights w_l ≥ 0; unweighted: w ≡ 1):
/// 1. centre the points at the midrange c (the cost is translation invariant; centring keeps the
///    prefix sums small, so their differences lose fewer digits);
/// 2. inclusive prefix sums P0 = Σ w, P1 = Σ w·y, P2 = Σ w·y²;
/// 3. C(k, j) = Σ_{l∈(k,j]} w_l (y_j − y_l)(y_l − y_k) = −y_j y_k ΔP0 + (y_j + y_k) ΔP1 − ΔP2;
/// 4. regrouped per index so that one DP cell is three loads and two multiply-adds:
///    C(k, j) = E_k + y_k·α_j + y_j·B_k + γ_j with E_k = P2_k − y_k P1_k, B_k = y_k P0_k − P1_k,
///    α_j = P1_j − y_j P0_j = −B_j, γ_j = y_j P1_j − P2_j = −E_j (so only y, E, B are stored);
/// 5. the same terms serve the histogram (y = grid values, P sums over bins, §2.5).
///
/// Guarantee: exact in real arithmetic; C satisfies the quadrangle inequality
/// C(a,c) + C(b,d) ≤ C(a,d) + C(b,c) for a ≤ b ≤ c ≤ d whenever w ≥ 0 (asq-ipaware.md §2.3), which is
/// what makes the DP's argmins monotone. In floating point each cell is within a few ulps of P2_{n−1}.
public struct ASQCostTerms: @unchecked Sendable {
  /// The (centred) points y, sorted; E_k and B_k (α_j = −B_j and γ_j = −E_j, so two arrays suffice).
  let storage: ASQBuffer<Double>
  /// Number of points.
  public let count: Int
  /// The centre c subtracted from the input (levels are y + c).
  public let centre: Double

  var points: UnsafeMutablePointer<Double> { storage.pointer }
  var e: UnsafeMutablePointer<Double> { storage.pointer + count }
  var b: UnsafeMutablePointer<Double> { storage.pointer + 2 * count }

  /// Terms for `sortedValues` (non-decreasing) with optional non-negative `weights`.
  public init(sortedValues x: UnsafeBufferPointer<Double>, weights: UnsafeBufferPointer<Double>? = nil) {
    let n = x.count
    let centre = n > 0 ? (x[0] + x[n - 1]) / 2 : 0
    self.init(count: n, centre: centre) { y, e, b in
      var p0 = 0.0, p1 = 0.0, p2 = 0.0
      if let weights {
        for i in 0..<n {
          let v = x[i] - centre, w = weights[i]
          p0 += w; p1 += w * v; p2 += w * v * v
          y[i] = v; e[i] = p2 - v * p1; b[i] = v * p0 - p1
        }
      } else {
        for i in 0..<n {
          let v = x[i] - centre
          p0 += 1; p1 += v; p2 += v * v
          y[i] = v; e[i] = p2 - v * p1; b[i] = v * p0 - p1
        }
      }
    }
  }

  /// Terms for centred points and their interleaved inclusive prefix sums (P0, P1, P2 per point).
  init(centredPoints points: [Double], centre: Double, prefixSums sums: [Double]) {
    let n = points.count
    self.init(count: n, centre: centre) { y, e, b in
      for i in 0..<n {
        let p0 = sums[3 * i], p1 = sums[3 * i + 1], p2 = sums[3 * i + 2], v = points[i]
        y[i] = v; e[i] = p2 - v * p1; b[i] = v * p0 - p1
      }
    }
  }

  private init(
    count n: Int, centre: Double,
    fill: (UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Void
  ) {
    storage = ASQBuffer(count: 3 * n)
    count = n
    self.centre = centre
    fill(storage.pointer, storage.pointer + n, storage.pointer + 2 * n)
  }

  /// The centred point of rank `i`.
  public func point(_ i: Int) -> Double { points[i] }

  /// C(k, j): the summed variance of the points strictly between ranks k and j when k and j are
  /// consecutive levels (k ≤ j; C(j, j) = 0 up to rounding). α_j = −B_j, γ_j = −E_j.
  @inline(__always)
  public func cost(_ k: Int, _ j: Int) -> Double {
    (e[k] + points[k] * -b[j] + points[j] * b[k]) + -e[j]
  }
}

/// An uninitialized buffer, 2 MiB aligned and marked for transparent huge pages on Linux: the DP's
/// arrays are large and touched once per layer, and 4 KiB page faults on fresh memory otherwise cost
/// as much as a DP layer (measured at d = 2^20).
final class ASQBuffer<Element>: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<Element>
  let count: Int

  init(count: Int) {
    self.count = count
    let bytes = Swift.max(count, 1) * MemoryLayout<Element>.stride
    let huge = 1 << 21
    let alignment = bytes >= huge ? huge : 64
    let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: alignment)
    #if os(Linux)
    if bytes >= huge { _ = madvise(raw, bytes & ~(huge - 1), MADV_HUGEPAGE) }
    #endif
    pointer = raw.bindMemory(to: Element.self, capacity: Swift.max(count, 1))
  }

  deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}

/// Sums of variances and vNMSE of stochastic rounding onto a level set, on unsorted data.
public enum ASQObjective {
  /// Σ_i w_i (x_i − a_i)(b_i − x_i) where a_i ≤ x_i ≤ b_i are the levels around x_i (`levels` sorted,
  /// covering [min x, max x]). A value outside the levels counts as +∞ (not an unbiased rounding).
  public static func sumOfVariances(
    _ x: UnsafeBufferPointer<Float>, levels: [Double], weights: UnsafeBufferPointer<Double>? = nil
  ) -> Double {
    guard let lowest = levels.first, let highest = levels.last else { return x.isEmpty ? 0 : .infinity }
    var total = 0.0
    levels.withUnsafeBufferPointer { q in
      for i in 0..<x.count {
        let v = Double(x[i])
        if v < lowest || v > highest { total = .infinity; return }
        let upper = ASQRounding.upperLevelIndex(of: v, in: q)
        let b = q[upper], a = upper > 0 ? q[upper - 1] : b
        let variance = (v - a) * (b - v)
        total += (weights?[i] ?? 1) * variance
      }
    }
    return total
  }

  /// Sum of variances over ‖x‖² (Σ w x² with weights): E‖Q(x) − x‖²/‖x‖²; 0 for a zero vector.
  public static func vNMSE(_ x: UnsafeBufferPointer<Float>, levels: [Double], weights: UnsafeBufferPointer<Double>? = nil) -> Double {
    var norm = 0.0
    for i in 0..<x.count { norm += (weights?[i] ?? 1) * Double(x[i]) * Double(x[i]) }
    let sv = sumOfVariances(x, levels: levels, weights: weights)
    return norm > 0 ? sv / norm : 0
  }

  public static func vNMSE(_ x: [Float], levels: [Double], weights: [Double]? = nil) -> Double {
    x.withUnsafeBufferPointer { xb in
      if let weights { return weights.withUnsafeBufferPointer { vNMSE(xb, levels: levels, weights: $0) } }
      return vNMSE(xb, levels: levels)
    }
  }

  public static func sumOfVariances(_ x: [Float], levels: [Double], weights: [Double]? = nil) -> Double {
    x.withUnsafeBufferPointer { xb in
      if let weights { return weights.withUnsafeBufferPointer { sumOfVariances(xb, levels: levels, weights: $0) } }
      return sumOfVariances(xb, levels: levels)
    }
  }
}
