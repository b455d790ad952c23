import Testing
import VQKernels

/// Every test that switches the process-wide kernel level lives in this suite, which runs its members
/// one after another (the trait is recursive), so that no test changes the level under another.
@Suite(.serialized) enum KernelLevelSwitching {}

extension KernelLevelSwitching {
  @Suite struct KernelLevelForcingTests {
    @Test func bestSupportedLevelIsForceable() {
      let best = KernelLevel.bestSupported
      #expect(KernelLevel.supported.last == best)
      KernelLevel.with(.portable) { #expect(KernelLevel.current == .portable) }
    }
  }
}

@Suite struct KernelLevelTests {
  /// The parser the dispatcher applies to VQ_KERNEL_LEVEL (tested directly: setting the variable in this
  /// process would race with other tests, and the level is read once).
  @Test func environmentValueParsing() {
    for best in KernelLevel.allCases {
      #expect(KernelLevel.requested(by: nil, best: best) == best)
      #expect(KernelLevel.requested(by: "", best: best) == best)
      #expect(KernelLevel.requested(by: "sse9", best: best) == best)
      #expect(KernelLevel.requested(by: "AVX2", best: best) == best, "names are lower case")
      #expect(KernelLevel.requested(by: "portable", best: best) == .portable)
      #expect(KernelLevel.requested(by: "avx2", best: best) == (best == .portable ? .portable : .avx2))
      #expect(KernelLevel.requested(by: "avx512", best: best) == best)
    }
  }
}
