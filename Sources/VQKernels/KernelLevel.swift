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

extension KernelLevel {
  /// The level a `VQ_KERNEL_LEVEL` value selects on a CPU whose best level is `best`: the named level
  /// (`portable`, `avx2`, `avx512`) lowered to `best` if the CPU lacks it; `best` for nil, empty or an
  /// unknown word. This is the parser the dispatcher applies to the environment at first use.
  public static func requested(by environmentValue: String?, best: KernelLevel = bestSupported) -> KernelLevel {
    let bestLevel = cvq_level(rawValue: UInt32(best.rawValue))
    let chosen: cvq_level
    if let value = environmentValue {
      chosen = value.withCString { cvq_level_from_string($0, bestLevel) }
    } else {
      chosen = cvq_level_from_string(nil, bestLevel)
    }
    return KernelLevel(rawValue: Int(chosen.rawValue))!
  }
}
