import Testing
import VQ
import VQKernels

extension KernelLevelSwitching {
  /// Every kernel level against `PackReference`, bit for bit, at bits 1…8. Serialized with every test that
  /// switches the process-wide kernel level (see `KernelLevelSwitching`).
  @Suite struct PackKernelTests {
    static let dimensions = HadamardKernelTests.dimensions

    /// Random values spread over the whole code range and beyond it, exact ties (k + ½ at scale 1), exact
    /// integers, and extremes (±0, subnormals, ±huge, ±∞, NaN).
    static func inputs(count n: Int, maxIndex: UInt32, seed: UInt64) -> [Float] {
      var g = SeededGenerator(seed: seed)
      let top = Float(maxIndex)
      let specials: [Float] = [0, -0.0, .leastNonzeroMagnitude, -.leastNormalMagnitude, .greatestFiniteMagnitude,
                               -.greatestFiniteMagnitude, .infinity, -.infinity, .nan, 0.5, -0.5, top, top + 0.5,
                               top - 0.5, top + 1, 1.5, 2.5]
      return (0..<n).map { i in
        switch i % 5 {
        case 0: return Float(g.nextUniform()) * (top + 4) - 2
        case 1: return Float(Int(g.next() % UInt64(maxIndex + 3))) - 1 + 0.5   // a tie
        case 2: return Float(Int(g.next() % UInt64(maxIndex + 1)))             // exactly a code
        case 3: return specials[Int(g.next() % UInt64(specials.count))]
        default: return Float(g.nextGaussian()) * top
        }
      }
    }

    static func packedBytes(_ n: Int, _ bits: Int) -> Int { (n * bits + 7) / 8 }

    @Test(arguments: dimensions)
    func quantizeUniformPackMatchesTheReference(d: Int) {
      for bits in 1...8 {
        let full = UInt32((1 << bits) - 1)
        for (maxIndex, scale, offset) in [(full, Float(1), Float(0)), (full, 0.37, Float(full) / 2),
                                          (max(full / 2, 1), -3.1, 0.25)] {
          let x = Self.inputs(count: d, maxIndex: maxIndex, seed: UInt64(d * 16 + bits))
          let bytes = Self.packedBytes(d, bits)
          var expected = [UInt8](repeating: 0xA5, count: bytes)
          PackReference.quantizeUniformPack(x, count: d, scale: scale, offset: offset, maxIndex: maxIndex, bits: bits,
                                            into: &expected)
          for level in KernelLevel.supported {
            var out = [UInt8](repeating: 0xA5, count: bytes + 5)
            KernelLevel.with(level) {
              Kernels.quantizeUniformPack(x, count: d, scale: scale, offset: offset, maxIndex: maxIndex, bits: bits,
                                          into: &out)
            }
            #expect(Array(out.prefix(bytes)) == expected, "level \(level) d \(d) bits \(bits) max \(maxIndex) scale \(scale)")
            #expect(out.suffix(5).allSatisfy { $0 == 0xA5 }, "wrote past the end: level \(level) d \(d) bits \(bits)")
          }
        }
      }
    }

    @Test(arguments: dimensions)
    func quantizeThresholdsPackMatchesTheReference(d: Int) {
      for bits in 1...8 {
        var g = SeededGenerator(seed: UInt64(d * 32 + bits))
        for thresholdCount in Set([(1 << bits) - 1, min(3, (1 << bits) - 1), 0, (1 << bits) / 2 + 1].filter { $0 < 1 << bits }) {
          let thresholds = (0..<thresholdCount).map { _ in Float(g.nextGaussian()) }.sorted()
          // Values exactly on thresholds (at scale 1), random values, and extremes.
          var x = Self.inputs(count: d, maxIndex: 3, seed: UInt64(d + bits)).map { $0 - 1.5 }
          for i in stride(from: 0, to: d, by: 3) where !thresholds.isEmpty {
            x[i] = thresholds[Int(g.next() % UInt64(thresholds.count))]
          }
          let bytes = Self.packedBytes(d, bits)
          for scale: Float in [1, -0.75] {
            var expected = [UInt8](repeating: 0, count: bytes)
            PackReference.quantizeThresholdsPack(x, count: d, scale: scale, thresholds: thresholds,
                                                 thresholdCount: thresholdCount, bits: bits, into: &expected)
            for level in KernelLevel.supported {
              var out = [UInt8](repeating: 0x5A, count: bytes + 5)
              KernelLevel.with(level) {
                Kernels.quantizeThresholdsPack(x, count: d, scale: scale, thresholds: thresholds,
                                               thresholdCount: thresholdCount, bits: bits, into: &out)
              }
              #expect(Array(out.prefix(bytes)) == expected,
                      "level \(level) d \(d) bits \(bits) thresholds \(thresholdCount) scale \(scale)")
              #expect(out.suffix(5).allSatisfy { $0 == 0x5A }, "wrote past the end: level \(level) d \(d) bits \(bits)")
            }
          }
        }
      }
    }

    /// The 4-bit path of at most 15 thresholds (a register binary search at the AVX2 level): repeated
    /// thresholds, ±0 on both sides, ±∞ and NaN inputs, a list shorter than 15, in 32-coordinate steps and
    /// a tail.
    @Test func fourBitThresholdsWithTiesZerosAndNaN() {
      let lists: [[Float]] = [
        [-2, -1, -1, -1, -0.5, -0.0, 0, 0, 0.25, 0.5, 1, 1, 2, 3, .infinity],
        [-0.0, 0.0, 0.0], [-1, 1], (0..<15).map { Float($0) / 4 - 1.75 },
      ]
      var g = SeededGenerator(seed: 404)
      let d = 100
      var x = (0..<d).map { _ in Float(g.nextGaussian()) }
      let specials: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, -1, 1, 0.25, 3, 2, -2, .greatestFiniteMagnitude]
      for (i, v) in specials.enumerated() { x[7 * i] = v }
      for thresholds in lists {
        for scale: Float in [1, -1, 0.5] {
          var expected = [UInt8](repeating: 0, count: d / 2)
          PackReference.quantizeThresholdsPack(x, count: d, scale: scale, thresholds: thresholds,
                                               thresholdCount: thresholds.count, bits: 4, into: &expected)
          for level in KernelLevel.supported {
            var out = [UInt8](repeating: 0x5A, count: d / 2 + 3)
            KernelLevel.with(level) {
              Kernels.quantizeThresholdsPack(x, count: d, scale: scale, thresholds: thresholds,
                                             thresholdCount: thresholds.count, bits: 4, into: &out)
            }
            #expect(Array(out.prefix(d / 2)) == expected, "level \(level) thresholds \(thresholds) scale \(scale)")
            #expect(out.suffix(3).allSatisfy { $0 == 0x5A }, "wrote past the end: level \(level)")
          }
        }
      }
    }

    @Test(arguments: dimensions)
    func unpackDequantizeAndDotMatchTheReference(d: Int) {
      for bits in 1...8 {
        var g = SeededGenerator(seed: UInt64(d * 64 + bits))
        let bytes = Self.packedBytes(d, bits)
        // Arbitrary bytes, including the unused high bits of the last byte (the kernels must ignore them).
        let codes = (0..<bytes).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        let table = (0..<(1 << bits)).map { _ in Float(g.nextGaussian()) }
        // Query magnitudes over 12 decades, so that any other summation order changes the low bits.
        let query = (0..<d).map { _ in Float(g.nextGaussian()) * Float(Double.pow10(Int(g.next() % 13) - 6)) }
        let scale: Float = 0.0371
        var expected = [Float](repeating: 0, count: d)
        PackReference.unpackDequantize(codes, count: d, bits: bits, table: table, scale: scale, into: &expected)
        let expectedDot = PackReference.unpackDot(codes, count: d, bits: bits, table: table, query: query)
        for level in KernelLevel.supported {
          var y = [Float](repeating: -1, count: d + 3)
          var dot: Float = 0
          KernelLevel.with(level) {
            Kernels.unpackDequantize(codes, count: d, bits: bits, table: table, scale: scale, into: &y)
            dot = Kernels.unpackDot(codes, count: d, bits: bits, table: table, query: query)
          }
          #expect(Array(y.prefix(d)).map(\.bitPattern) == expected.map(\.bitPattern), "dequantize level \(level) d \(d) bits \(bits)")
          #expect(y.suffix(3) == [-1, -1, -1], "wrote past the end: level \(level) d \(d) bits \(bits)")
          #expect(dot.bitPattern == expectedDot.bitPattern, "dot level \(level) d \(d) bits \(bits): \(dot) vs \(expectedDot)")
        }
      }
    }

    /// Packing round trip through the reference reader: code i sits at bits [i·b, (i+1)·b), LSB first.
    @Test func packingLayout() {
      let x: [Float] = [1, 2, 3, 0, 1]
      var out = [UInt8](repeating: 0, count: 2)
      Kernels.quantizeUniformPack(x, count: 5, scale: 1, offset: 0, maxIndex: 3, bits: 2, into: &out)
      #expect(out == [0b00_11_10_01, 0b01])
      var nibbles = [UInt8](repeating: 0, count: 2)
      Kernels.quantizeUniformPack([15, 1, 7], count: 3, scale: 1, offset: 0, maxIndex: 15, bits: 4, into: &nibbles)
      #expect(nibbles == [0x1F, 0x07])
    }

    /// The unpackDot order is the documented one (32 lane sums, then the tree), on a case where plain
    /// left-to-right summation differs: q = [2^24, 1, 0, 1], table ≡ 1. Left to right, 2^24 + 1 rounds back
    /// to 2^24 twice (ties to even): 2^24. By lanes, s[1] = 1 and s[3] = 1 meet first in the tree (w = 2):
    /// 2, then 2^24 + 2 is exact: 16 777 218.
    @Test func unpackDotOrderIsTheDocumentedOne() {
      let q: [Float] = [16_777_216, 1, 0, 1]
      let codes = [UInt8](repeating: 0, count: 4)
      let table = [Float](repeating: 1, count: 256)
      let reference = PackReference.unpackDot(codes, count: 4, bits: 8, table: table, query: q)
      #expect(reference == 16_777_218)
      for level in KernelLevel.supported {
        let value = KernelLevel.with(level) { Kernels.unpackDot(codes, count: 4, bits: 8, table: table, query: q) }
        #expect(value.bitPattern == reference.bitPattern, "level \(level)")
      }
    }
  }
}

extension Double {
  fileprivate static func pow10(_ k: Int) -> Double {
    var r = 1.0
    for _ in 0..<abs(k) { r *= 10 }
    return k < 0 ? 1 / r : r
  }
}
