import Testing
import VQ
import VQKernels

extension KernelLevelSwitching {
  /// Every kernel level against `HadamardReference`, bit for bit. Serialized with every test that
  /// switches the process-wide kernel level (see `KernelLevelSwitching`).
  @Suite struct HadamardKernelTests {
    /// Dimensions that hit every SIMD tail, block size and pass schedule (rows 1 and 12, padded or not).
    static let dimensions = [1, 7, 12, 15, 16, 17, 24, 63, 64, 96, 100, 128, 384, 768, 1000, 1024, 1488, 1536, 4096, 3072]

    @Test(arguments: dimensions)
    func forwardAndInverseMatchTheReference(d: Int) {
      let size = HadamardSize.fitting(d)
      for rounds in [1, 2, 3, 4] {
        var g = SeededGenerator(seed: UInt64(d * 10 + rounds))
        let x = (0..<d).map { _ in Float(g.nextGaussian()) }
        check(x, size: size, rounds: rounds, seed: UInt64(d + rounds))
      }
    }

    /// Wide-pass schedules the dimension list does not reach (1 to 8 stages above the 64-float blocks).
    @Test(arguments: [(1, 2), (1, 4), (1, 8), (1, 32), (1, 256), (1, 512), (1, 2048), (1, 8192), (1, 16384),
                      (12, 1), (12, 2), (12, 4), (12, 16), (12, 512), (12, 2048)])
    func everyPassScheduleMatchesTheReference(rows: Int, p: Int) {
      let size = HadamardSize(rows: rows, p: p)
      var g = SeededGenerator(seed: UInt64(rows * 100_000 + p))
      let x = (0..<size.n).map { _ in Float(g.nextGaussian()) }
      check(x, size: size, rounds: 3, seed: UInt64(p))
      check(Array(x.prefix(max(1, size.n - 5))), size: size, rounds: 2, seed: UInt64(p + 1))
    }

    /// Signed zeros, subnormals, huge and tiny magnitudes side by side: any change of operation order or
    /// a fused multiply-add shows up in the low bits or the sign of a zero.
    @Test(arguments: [7, 12, 64, 384, 1024])
    func extremeValuesMatchTheReference(d: Int) {
      let size = HadamardSize.fitting(d)
      let specials: [Float] = [0, -0.0, 1e30, -1e30, 1e-30, -Float.leastNormalMagnitude / 3, Float.leastNonzeroMagnitude,
                               -Float.leastNormalMagnitude, 3, 0.1, -7.5e-8, 65504]
      let x = (0..<d).map { specials[($0 * 7) % specials.count] }
      check(x, size: size, rounds: 3, seed: 11)
      check([Float](repeating: 0, count: d), size: size, rounds: 2, seed: 12)
      check([Float](repeating: -0.0, count: d), size: size, rounds: 1, seed: 13)
    }

    /// In place (`y` = `x`) gives the same result.
    @Test(arguments: [16, 768, 1024])
    func forwardInPlace(d: Int) {
      let size = HadamardSize.fitting(d)
      var g = SeededGenerator(seed: 99)
      let x = (0..<size.n).map { _ in Float(g.nextGaussian()) }
      let signs = (0..<((3 * size.n + 63) / 64)).map { _ in g.next() }
      var expected = [Float](repeating: 0, count: size.n)
      HadamardReference.forward(x, inputCount: size.n, into: &expected, size: size, signs: signs, rounds: 3, scale: 0.5)
      for level in KernelLevel.supported {
        var y = x
        KernelLevel.with(level) {
          y.withUnsafeMutableBufferPointer { b in
            Kernels.randomizedHadamard(b.baseAddress!, inputCount: size.n, into: b.baseAddress!, size: size,
                                       signs: signs, rounds: 3, scale: 0.5)
          }
        }
        #expect(y.map(\.bitPattern) == expected.map(\.bitPattern), "level \(level) d \(d)")
      }
    }

    /// Forward and inverse of `x` at every level equal the reference bit for bit; nothing past the output
    /// is written.
    private func check(_ x: [Float], size: HadamardSize, rounds: Int, seed: UInt64) {
      let n = size.n, d = x.count
      var g = SeededGenerator(seed: seed, stream: 7)
      let signs = (0..<((rounds * n + 63) / 64)).map { _ in g.next() }
      let scale = Float(1 / Double(n).squareRoot()) * (rounds > 1 ? 1 / Float(n) : 1)
      var expected = [Float](repeating: 0, count: n)
      HadamardReference.forward(x, inputCount: d, into: &expected, size: size, signs: signs, rounds: rounds, scale: scale)
      var expectedBack = [Float](repeating: 0, count: d)
      var work = [Float](repeating: 0, count: n)
      HadamardReference.inverse(expected, into: &expectedBack, outputCount: d, size: size, signs: signs, rounds: rounds,
                                scale: scale, work: &work)
      let canary = Float(bitPattern: 0x7FC0_1234)
      for level in KernelLevel.supported {
        var y = [Float](repeating: canary, count: n + 9)
        var back = [Float](repeating: canary, count: d + 9)
        KernelLevel.with(level) {
            Kernels.randomizedHadamard(x, inputCount: d, into: &y, size: size, signs: signs, rounds: rounds, scale: scale)
          Kernels.randomizedHadamardInverse(expected, into: &back, outputCount: d, size: size, signs: signs,
                                            rounds: rounds, scale: scale, work: nil)
        }
        let what = "level \(level), \(size.rows)×\(size.p), d \(d), rounds \(rounds)"
        #expect(Array(y.prefix(n)).map(\.bitPattern) == expected.map(\.bitPattern), "forward, \(what)")
        #expect(y.suffix(9).allSatisfy { $0.bitPattern == canary.bitPattern }, "forward wrote past n, \(what)")
        #expect(Array(back.prefix(d)).map(\.bitPattern) == expectedBack.map(\.bitPattern), "inverse, \(what)")
        #expect(back.suffix(9).allSatisfy { $0.bitPattern == canary.bitPattern }, "inverse wrote past d, \(what)")
        // With a caller-given work buffer too.
        var back2 = [Float](repeating: 0, count: d)
        var work2 = [Float](repeating: 0, count: n)
        KernelLevel.with(level) {
          Kernels.randomizedHadamardInverse(expected, into: &back2, outputCount: d, size: size, signs: signs,
                                            rounds: rounds, scale: scale, work: &work2)
        }
        #expect(back2.map(\.bitPattern) == expectedBack.map(\.bitPattern), "inverse with work, \(what)")
      }
    }
  }
}
