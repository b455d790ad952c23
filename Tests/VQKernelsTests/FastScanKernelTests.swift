import Testing
import VQ
import VQKernels
import VQTestSupport

extension KernelLevelSwitching {
  /// The FastScan kernel at every level this CPU runs against `FastScanReference`, exactly; the reference
  /// against the definition Σ_m lut_m[code_m(v)] on codes placed through `FastScanReference.position`.
  @Suite struct FastScanKernelTests {
    /// Pair counts around the kernel's 16-bit flush (every 128 pairs) and small odd ones.
    static let pairCounts = [1, 2, 3, 16, 48, 127, 128, 129, 256, 300]

    @Test(arguments: pairCounts)
    func accumulateMatchesTheReference(pairs: Int) {
      var g = SeededGenerator(seed: UInt64(pairs) &* 6151)
      for blockCount in [0, 1, 3] {
        let subcodes = 2 * pairs
        // Sub-codes of each vector, placed into blocks through the documented positions.
        let codes = (0..<(blockCount * 32 * subcodes)).map { _ in UInt8(g.next() & 15) }
        var blocks = [UInt8](repeating: 0, count: max(blockCount * pairs * 32, 1))
        for b in 0..<blockCount {
          for v in 0..<32 {
            for m in 0..<subcodes {
              let (byte, high) = FastScanReference.position(vector: v, subcode: m)
              let c = codes[(32 * b + v) * subcodes + m]
              blocks[b * pairs * 32 + byte] |= high ? c << 4 : c
            }
          }
        }
        // Tables near the top of the byte range stress the 16-bit lanes (255 in every entry half the time).
        let luts = (0..<(16 * subcodes)).map { i in i % 2 == 0 ? UInt8(255) : UInt8(truncatingIfNeeded: g.next()) }
        var reference = [UInt32](repeating: 0, count: max(32 * blockCount, 1))
        FastScanReference.accumulate(blocks: blocks, blockCount: blockCount, pairCount: pairs, luts: luts,
                                     into: &reference)
        for b in 0..<blockCount {
          for v in 0..<32 {
            var direct: UInt32 = 0
            for m in 0..<subcodes { direct += UInt32(luts[16 * m + Int(codes[(32 * b + v) * subcodes + m])]) }
            #expect(reference[32 * b + v] == direct, "reference vs definition: pairs \(pairs) block \(b) vector \(v)")
          }
        }
        Self.expectEveryLevelMatches(reference, narrow: false, blocks: blocks, blockCount: blockCount, pairs: pairs, luts: luts)
      }
    }

    /// The 7-bit-table kernel (`fastScanAccumulateNarrow`) at every level against the reference, exactly:
    /// tables with entries ≤ 127 (127 in every entry half the time, so two look-ups add to 254 in a byte),
    /// pair counts around its pairing (odd and even) and its 16-bit flush every 512 pairs.
    @Test(arguments: [1, 2, 3, 5, 48, 96, 511, 512, 513, 1025])
    func narrowAccumulateMatchesTheReference(pairs: Int) {
      var g = SeededGenerator(seed: UInt64(pairs) &* 7919)
      for blockCount in [0, 1, 3] {
        let blocks = (0..<max(blockCount * pairs * 32, 1)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        let luts = (0..<(32 * pairs)).map { i in i % 2 == 0 ? UInt8(127) : UInt8(g.next() % 128) }
        var reference = [UInt32](repeating: 0, count: max(32 * blockCount, 1))
        FastScanReference.accumulate(blocks: blocks, blockCount: blockCount, pairCount: pairs, luts: luts,
                                     into: &reference)
        Self.expectEveryLevelMatches(reference, narrow: true, blocks: blocks, blockCount: blockCount, pairs: pairs, luts: luts)
      }
    }

    /// `Kernels.fastScanAccumulate`, or with `narrow` `Kernels.fastScanAccumulateNarrow`.
    static func accumulate(
      narrow: Bool, blocks: [UInt8], blockCount: Int, pairs: Int, luts: [UInt8], into out: inout [UInt32]
    ) {
      if narrow {
        Kernels.fastScanAccumulateNarrow(blocks: blocks, blockCount: blockCount, pairCount: pairs, luts: luts, into: &out)
      } else {
        Kernels.fastScanAccumulate(blocks: blocks, blockCount: blockCount, pairCount: pairs, luts: luts, into: &out)
      }
    }

    /// The kernel's sums at every level this CPU runs equal `reference`, and nothing is written past them.
    static func expectEveryLevelMatches(
      _ reference: [UInt32], narrow: Bool, blocks: [UInt8], blockCount: Int, pairs: Int, luts: [UInt8]
    ) {
      let kernel = narrow ? "narrow" : "wide"
      for level in KernelLevel.supported {
        var out = [UInt32](repeating: 0xDEAD_BEEF, count: 32 * blockCount + 1)
        KernelLevel.with(level) {
          accumulate(narrow: narrow, blocks: blocks, blockCount: blockCount, pairs: pairs, luts: luts, into: &out)
        }
        #expect(Array(out.prefix(32 * blockCount)) == Array(reference.prefix(32 * blockCount)),
                "\(kernel): level \(level) pairs \(pairs) blocks \(blockCount)")
        #expect(out[32 * blockCount] == 0xDEAD_BEEF, "\(kernel) wrote past the end: level \(level) pairs \(pairs)")
      }
    }

    /// Every table entry at its largest (255; 127 for the narrow kernel) and every pair used: the largest
    /// sums the 16-bit lanes must carry (1000 pairs: 7.8 wide flushes; 2000: 3.9 narrow ones).
    @Test(arguments: [false, true])
    func largestSumsDoNotOverflow(narrow: Bool) {
      let pairs = narrow ? 2000 : 1000, entry = narrow ? 127 : 255
      let blocks = [UInt8](repeating: 0xFF, count: pairs * 32)
      let luts = [UInt8](repeating: UInt8(entry), count: pairs * 32)
      for level in KernelLevel.supported {
        var out = [UInt32](repeating: 0, count: 32)
        KernelLevel.with(level) {
          Self.accumulate(narrow: narrow, blocks: blocks, blockCount: 1, pairs: pairs, luts: luts, into: &out)
        }
        #expect(out == [UInt32](repeating: UInt32(entry * 2 * pairs), count: 32), "narrow \(narrow), level \(level)")
      }
    }
  }
}

extension KernelLevelSwitching.FastScanKernelTests {
  /// The sums → estimates map at every level against the reference, bit for bit (lengths around the vector
  /// widths, sums up to 2^24 − 1, negative and tiny scales).
  @Test func affineMatchesTheReference() {
    var g = SeededGenerator(seed: 77)
    for n in [0, 1, 7, 8, 9, 31, 32, 33, 100] {
      let sums = (0..<max(n, 1)).map { i in i == 0 ? UInt32((1 << 24) - 1) : UInt32(g.next() % (1 << 20)) }
      let scale = (0..<max(n, 1)).map { i in i % 5 == 0 ? -Float(g.nextGaussian()) * 1e-3 : Float(g.nextGaussian()) }
      let step: Float = 0.0123, offset: Float = -3.75, add: Float = 0.5
      let adds = (0..<max(n, 1)).map { _ in Float(g.nextGaussian()) * 0.3 }
      var expected = [Float](repeating: 0, count: max(n, 1)), expectedWithAdds = expected
      FastScanReference.affine(sums, count: n, scale: scale, step: step, offset: offset, add: add, into: &expected)
      FastScanReference.affine(sums, count: n, scale: scale, step: step, offset: offset, add: add, adds: adds,
                               into: &expectedWithAdds)
      for k in 0..<n { #expect(expectedWithAdds[k] == expected[k] + adds[k]) }
      for level in KernelLevel.supported {
        var out = [Float](repeating: 9, count: n + 1), outWithAdds = out
        KernelLevel.with(level) {
          Kernels.fastScanAffine(sums, count: n, scale: scale, step: step, offset: offset, add: add, into: &out)
          Kernels.fastScanAffine(sums, count: n, scale: scale, step: step, offset: offset, add: add, adds: adds,
                                 into: &outWithAdds)
        }
        #expect(out.prefix(n).map(\.bitPattern) == expected.prefix(n).map(\.bitPattern), "level \(level) n \(n)")
        #expect(outWithAdds.prefix(n).map(\.bitPattern) == expectedWithAdds.prefix(n).map(\.bitPattern), "adds: level \(level) n \(n)")
        #expect(out[n] == 9 && outWithAdds[n] == 9, "wrote past the end: level \(level) n \(n)")
      }
    }
  }
}
