import CVQKernels

/// The RaBitQ kernels at the current `KernelLevel` (C, `cvq_rabitq.h`); `RaBitQReference` is the
/// scalar specification each matches bit for bit.
extension Kernels {
  /// 1-bit code × bit-plane query: `dot[k] = Σ_j 2^j·popcount(code_k AND plane_j)`,
  /// `popcount[k] = popcount(code_k)` (see `RaBitQReference.signDot`).
  public static func rabitqSignDot(
    codes: UnsafePointer<UInt8>, stride: Int, count: Int, bytes: Int,
    planes: UnsafePointer<UInt8>, planeCount: Int,
    dot: UnsafeMutablePointer<Int64>, popcount: UnsafeMutablePointer<Int64>
  ) {
    cvq_rabitq_sign_dot(codes, stride, count, bytes, planes, Int32(planeCount), dot, popcount)
  }

  /// The sign stage's estimates: `out[k] = scale[k]·((step·Float(dot[k]) + lo·Float(pop[k])) − offset) + add`,
  /// each operation rounded on its own (see `RaBitQReference.signEstimates`); |dot|, |pop| < 2^31.
  public static func rabitqSignEstimates(
    dot: UnsafePointer<Int64>, popcount: UnsafePointer<Int64>, count: Int, scale: UnsafePointer<Float>,
    step: Float, lo: Float, offset: Float, add: Float, into out: UnsafeMutablePointer<Float>
  ) {
    cvq_rabitq_sign_estimates(dot, popcount, count, scale, step, lo, offset, add, out)
  }

  /// Extended code × integer query: `dot[k] = Σ_i e_i·query_i`, `sum[k] = Σ_i e_i`
  /// (see `RaBitQReference.exDot`).
  public static func rabitqExDot(
    codes: UnsafePointer<UInt8>, stride: Int, offset: Int, count: Int, dimension: Int, bits: Int,
    query: UnsafePointer<UInt16>, dot: UnsafeMutablePointer<Int64>, sum: UnsafeMutablePointer<Int64>
  ) {
    cvq_rabitq_ex_dot(codes, stride, offset, count, dimension, Int32(bits), query, dot, sum)
  }

  /// `a_i = |x_i|`, fixed-point `A_i`; returns max a_i (see `RaBitQReference.magnitudes`).
  public static func rabitqMagnitudes(
    _ x: UnsafePointer<Float>, count: Int, into a: UnsafeMutablePointer<Float>, fixed A: UnsafeMutablePointer<Int32>
  ) -> Float {
    cvq_rabitq_magnitudes(x, count, a, A)
  }

  /// One evaluation of the rescale objective (see `RaBitQReference.rescaleEvaluate`).
  public static func rabitqRescaleEvaluate(
    _ a: UnsafePointer<Float>, fixed A: UnsafePointer<Int32>, count: Int, t: Float, maxLevel K: Int32
  ) -> (numerator: Int64, squares: Int64, levels: Int64) {
    var out: (Int64, Int64, Int64) = (0, 0, 0)
    withUnsafeMutableBytes(of: &out) { raw in
      cvq_rabitq_rescale_eval(a, A, count, t, K, raw.baseAddress!.assumingMemoryBound(to: Int64.self))
    }
    return (out.0, out.1, out.2)
  }

  /// The breakpoints between `ta` and `tb` (see `RaBitQReference.events`); writes at most `capacity`
  /// and returns how many there are.
  public static func rabitqEvents(
    _ a: UnsafePointer<Float>, fixed A: UnsafePointer<Int32>, count: Int, from ta: Float, to tb: Float,
    maxLevel K: Int32, into events: UnsafeMutablePointer<RaBitQEvent>, capacity: Int
  ) -> Int {
    RaBitQEvent.checkLayout
    return events.withMemoryRebound(to: cvq_rabitq_event.self, capacity: max(capacity, 1)) {
      cvq_rabitq_events(a, A, count, ta, tb, K, $0, capacity)
    }
  }

  /// The final code at rescale `t` and its sums (see `RaBitQReference.quantize`).
  public static func rabitqQuantize(
    _ x: UnsafePointer<Float>, count: Int, t: Float, exBits: Int,
    signs: UnsafeMutablePointer<UInt8>, ex: UnsafeMutablePointer<UInt8>?
  ) -> (codeDot: Double, codeSquares: Double, squares: Double, absoluteSum: Double) {
    var out: (Double, Double, Double, Double) = (0, 0, 0, 0)
    withUnsafeMutableBytes(of: &out) { raw in
      cvq_rabitq_quantize(x, count, t, Int32(exBits), signs, ex, raw.baseAddress!.assumingMemoryBound(to: Double.self))
    }
    return (out.0, out.1, out.2, out.3)
  }
}

/// A breakpoint of the rescale search (the layout of `cvq_rabitq_event`): at `t` one coordinate moves
/// up to level m, adding `numerator` = 2·A_i and `squares` = 8·m to the fixed-point sums.
public struct RaBitQEvent: Equatable, Sendable {
  public var t: Float
  public var numerator: Int32
  public var squares: Int32

  public init(t: Float, numerator: Int32, squares: Int32) {
    self.t = t
    self.numerator = numerator
    self.squares = squares
  }

  static let checkLayout: Void = {
    precondition(
      MemoryLayout<RaBitQEvent>.size == MemoryLayout<cvq_rabitq_event>.size
        && MemoryLayout<RaBitQEvent>.offset(of: \.numerator) == 4
        && MemoryLayout<RaBitQEvent>.offset(of: \.squares) == 8,
      "RaBitQEvent does not match cvq_rabitq_event")
  }()
}
