import Testing
import VQKernels

@Suite struct KernelLevelTests {
  @Test func bestSupportedLevelIsForceable() {
    let best = KernelLevel.bestSupported
    #expect(KernelLevel.supported.last == best)
    KernelLevel.with(.portable) { #expect(KernelLevel.current == .portable) }
  }
}
