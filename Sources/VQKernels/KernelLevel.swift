import CVQKernels

/// The instruction-set level the C kernels run at.
///
/// Chosen once from the CPU (`__builtin_cpu_supports`); `VQ_KERNEL_LEVEL=portable|avx2|avx512` in the
/// environment forces a lower one. Every level gives bit-identical results.
public enum KernelLevel: Int, CaseIterable, Sendable, CustomStringConvertible {
  case portable = 0
  case avx2 = 1
  case avx512 = 2

  /// The level in use now.
  public static var current: KernelLevel { KernelLevel(rawValue: Int(cvq_kernel_level().rawValue))! }

  /// The best level this CPU supports.
  public static var bestSupported: KernelLevel { KernelLevel(rawValue: Int(cvq_best_supported_level().rawValue))! }

  /// Every level this CPU can run, lowest first.
  public static var supported: [KernelLevel] { allCases.filter { $0.rawValue <= bestSupported.rawValue } }

  public var description: String {
    switch self {
    case .portable: return "portable"
    case .avx2: return "avx2"
    case .avx512: return "avx512"
    }
  }

  /// Makes `level` current for every later kernel call in the process; returns false if unsupported.
  @discardableResult
  public static func force(_ level: KernelLevel) -> Bool {
    cvq_set_kernel_level(cvq_level(rawValue: UInt32(level.rawValue))) == 0
  }

  /// Runs `body` at `level`, then restores the previous level. Not for concurrent use: the level is
  /// process-wide (tests run levels one after another).
  public static func with<R>(_ level: KernelLevel, _ body: () throws -> R) rethrows -> R {
    let previous = current
    precondition(force(level), "kernel level \(level) is not supported on this CPU")
    defer { force(previous) }
    return try body()
  }
}
