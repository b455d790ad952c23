import Testing
import VQ
import VQKernels
import VQTestSupport

extension KernelLevelSwitching {
  /// Every RaBitQ kernel at every kernel level this CPU runs, against `RaBitQReference`, bit for bit
  /// (integers exactly, floats and doubles by bit pattern). Serialized with every test that switches the
  /// process-wide kernel level (see `KernelLevelSwitching`). The AVX-512 level is compiled from the same
  /// bodies but cannot run on an AVX2-only machine; `KernelLevel.supported` says which levels ran.
  @Suite struct RaBitQKernelTests {
    /// Sizes around the 8-byte words, 32-byte vectors and 8-coordinate groups the kernels use, plus the
    /// rotated dimensions in use (384 = 12·32, 768, 1024).
    static let dimensions = [1, 2, 7, 8, 9, 15, 16, 17, 31, 63, 64, 65, 100, 127, 128, 129, 255, 257, 384, 768, 1024]

    static func randomBytes(_ n: Int, _ g: inout SeededGenerator) -> [UInt8] {
      (0..<n).map { _ in UInt8(truncatingIfNeeded: g.next()) }
    }

    /// The 1-bit × bit-plane kernel: codes with a stride longer than the sign plane (the extended bytes
    /// and neighbours must be ignored), 1…12 planes, every plane width.
    @Test(arguments: dimensions)
    func signDotMatchesTheReference(d: Int) {
      var g = SeededGenerator(seed: UInt64(d) &* 7919)
      let bytes = (d + 7) / 8
      let stride = bytes + 5
      let count = 37
      for planeCount in [1, 2, 4, 7, 8, 12] {
        var codes = Self.randomBytes(stride * count, &g)
        // Padding bits of the last byte are zero in real codes; keep some set here too, in both.
        if d % 8 != 0, planeCount == 4 { for k in 0..<count { codes[k * stride + bytes - 1] &= UInt8((1 << (d % 8)) - 1) } }
        let planes = Self.randomBytes(planeCount * bytes, &g)
        var dot = [Int64](repeating: -1, count: count), pop = dot
        RaBitQReference.signDot(codes: codes, stride: stride, count: count, bytes: bytes, planes: planes,
                                planeCount: planeCount, dot: &dot, popcount: &pop)
        // The reference against the definition Σ_i b_i·u_i on one code.
        var u = [Int64](repeating: 0, count: bytes * 8)
        for i in 0..<(bytes * 8) {
          for j in 0..<planeCount where (planes[j * bytes + i >> 3] >> UInt8(i & 7)) & 1 == 1 { u[i] += 1 << j }
        }
        var direct: Int64 = 0
        for i in 0..<(bytes * 8) where (codes[i >> 3] >> UInt8(i & 7)) & 1 == 1 { direct += u[i] }
        #expect(dot[0] == direct, "reference vs Σ b·u, d \(d) planes \(planeCount)")
        for level in KernelLevel.supported {
          var dotK = [Int64](repeating: -7, count: count + 1), popK = dotK
          KernelLevel.with(level) {
            Kernels.rabitqSignDot(codes: codes, stride: stride, count: count, bytes: bytes, planes: planes,
                                  planeCount: planeCount, dot: &dotK, popcount: &popK)
          }
          #expect(Array(dotK.prefix(count)) == dot && Array(popK.prefix(count)) == pop,
                  "level \(level) d \(d) planes \(planeCount)")
          #expect(dotK[count] == -7 && popK[count] == -7, "wrote past the end: level \(level) d \(d)")
        }
      }
    }

    /// The extended-code × integer query kernel at 1…8 bits, with an offset and a stride (so the fast
    /// 8-byte loads must stop at the end of each code's plane), query values up to 2^15 − 1.
    @Test(arguments: dimensions)
    func exDotMatchesTheReference(d: Int) {
      var g = SeededGenerator(seed: UInt64(d) &* 104_729)
      let count = 23
      for bits in 1...8 {
        let offset = 3
        let exBytes = (d * bits + 7) / 8
        let stride = offset + exBytes
        let codes = Self.randomBytes(stride * count, &g)
        let query = (0..<d).map { i in UInt16(i % 5 == 0 ? 32767 : Int(g.next() % 32768)) }
        var dot = [Int64](repeating: -1, count: count), sum = dot
        RaBitQReference.exDot(codes: codes, stride: stride, offset: offset, count: count, dimension: d, bits: bits,
                              query: query, dot: &dot, sum: &sum)
        for level in KernelLevel.supported {
          var dotK = [Int64](repeating: -7, count: count + 1), sumK = dotK
          // Exactly sized buffers: any read past the last code's plane would be caught by ASan/valgrind.
          codes.withUnsafeBufferPointer { c in
            KernelLevel.with(level) {
              Kernels.rabitqExDot(codes: c.baseAddress!, stride: stride, offset: offset, count: count, dimension: d,
                                  bits: bits, query: query, dot: &dotK, sum: &sumK)
            }
          }
          #expect(Array(dotK.prefix(count)) == dot && Array(sumK.prefix(count)) == sum, "level \(level) d \(d) bits \(bits)")
          #expect(dotK[count] == -7, "wrote past the end")
        }
      }
    }

    /// Rotated-vector-like inputs plus exact zeros, −0, equal magnitudes (ties between coordinates) and
    /// a huge spread of magnitudes.
    static func vector(_ d: Int, seed: UInt64) -> [Float] {
      var g = SeededGenerator(seed: seed)
      return (0..<d).map { i in
        switch i % 7 {
        case 0: return 0
        case 1: return -0.0
        case 2: return 0.25
        case 3: return -0.25
        case 4: return Float(g.nextGaussian()) * 1e-6
        default: return Float(g.nextGaussian())
        }
      }
    }

    @Test(arguments: dimensions)
    func encoderPassesMatchTheReference(d: Int) {
      let x = Self.vector(d, seed: UInt64(d) + 11)
      var aRef = [Float](repeating: 0, count: d), ARef = [Int32](repeating: 0, count: d)
      let maxRef = RaBitQReference.magnitudes(x, count: d, into: &aRef, fixed: &ARef)
      for level in KernelLevel.supported {
        var a = [Float](repeating: 9, count: d), A = [Int32](repeating: 9, count: d)
        let m = KernelLevel.with(level) { Kernels.rabitqMagnitudes(x, count: d, into: &a, fixed: &A) }
        #expect(m.bitPattern == maxRef.bitPattern && a.map(\.bitPattern) == aRef.map(\.bitPattern) && A == ARef,
                "magnitudes: level \(level) d \(d)")
      }
      for exBits in [1, 3, 8] {
        let K = Int32((1 << exBits) - 1)
        let ts: [Float] = ([0, 0.5, 1, 4, 4.0000005, Float(K) / maxRef, 37.25, 1e6] as [Float]).filter(\.isFinite).sorted()
        for t in ts {
          let ref = RaBitQReference.rescaleEvaluate(aRef, fixed: ARef, count: d, t: t, maxLevel: K)
          for level in KernelLevel.supported {
            let got = KernelLevel.with(level) { Kernels.rabitqRescaleEvaluate(aRef, fixed: ARef, count: d, t: t, maxLevel: K) }
            #expect(got == ref, "evaluate: level \(level) d \(d) exBits \(exBits) t \(t)")
          }
        }
        for (ta, tb) in zip(ts.dropLast(), ts.dropFirst()) {
          var ref = [RaBitQEvent](repeating: RaBitQEvent(t: 0, numerator: 0, squares: 0), count: 64)
          let n = RaBitQReference.events(aRef, fixed: ARef, count: d, from: ta, to: tb, maxLevel: K, into: &ref, capacity: 64)
          for level in KernelLevel.supported {
            var got = [RaBitQEvent](repeating: RaBitQEvent(t: -1, numerator: -1, squares: -1), count: 65)
            let m = KernelLevel.with(level) {
              Kernels.rabitqEvents(aRef, fixed: ARef, count: d, from: ta, to: tb, maxLevel: K, into: &got, capacity: 64)
            }
            let shown = min(n, 64)
            #expect(m == n && zip(got.prefix(shown), ref.prefix(shown)).allSatisfy {
              $0.t.bitPattern == $1.t.bitPattern && $0.numerator == $1.numerator && $0.squares == $1.squares
            }, "events: level \(level) d \(d) exBits \(exBits) (\(ta), \(tb)]")
            #expect(got[64].numerator == -1, "wrote past the capacity")
          }
        }
      }
      for exBits in [0, 1, 2, 3, 5, 7, 8] {
        for t: Float in [0, 1.5, 3, 40] {
          let signBytes = (d + 7) / 8, exBytes = (d * exBits + 7) / 8
          var signs = [UInt8](repeating: 0xEE, count: signBytes), ex = [UInt8](repeating: 0xEE, count: max(exBytes, 1))
          let ref = RaBitQReference.quantize(x, count: d, t: t, exBits: exBits, signs: &signs, ex: &ex)
          for level in KernelLevel.supported {
            var s = [UInt8](repeating: 0x11, count: signBytes + 1), e = [UInt8](repeating: 0x11, count: exBytes + 1)
            let got = KernelLevel.with(level) {
              Kernels.rabitqQuantize(x, count: d, t: t, exBits: exBits, signs: &s, ex: &e)
            }
            #expect(Array(s.prefix(signBytes)) == signs && (exBits == 0 || Array(e.prefix(exBytes)) == Array(ex.prefix(exBytes))),
                    "quantize codes: level \(level) d \(d) exBits \(exBits) t \(t)")
            #expect(s[signBytes] == 0x11 && e[exBytes] == 0x11, "wrote past the end: level \(level) d \(d) exBits \(exBits)")
            #expect(got.codeDot.bitPattern == ref.codeDot.bitPattern && got.codeSquares == ref.codeSquares
                    && got.squares.bitPattern == ref.squares.bitPattern
                    && got.absoluteSum.bitPattern == ref.absoluteSum.bitPattern,
                    "quantize sums: level \(level) d \(d) exBits \(exBits) t \(t)")
          }
        }
      }
    }

    /// The reference's quantize against the definition: levels, signs, e = k or K − k, packing.
    @Test func quantizeReferenceFollowsTheDefinition() {
      let d = 19, exBits = 3, K: Int32 = 7, t: Float = 2.5
      let x = Self.vector(d, seed: 5)
      var signs = [UInt8](repeating: 0, count: 3), ex = [UInt8](repeating: 0, count: 8)
      let r = RaBitQReference.quantize(x, count: d, t: t, exBits: exBits, signs: &signs, ex: &ex)
      var codeSquares = 0.0
      for i in 0..<d {
        let k = min(Int32(t * abs(x[i])), K)
        let positive = x[i] > 0
        #expect(((signs[i >> 3] >> UInt8(i & 7)) & 1 == 1) == positive, "sign \(i)")
        #expect(PackReference.code(ex, i, bits: exBits) == UInt32(positive ? k : K - k), "ex \(i)")
        codeSquares += (Double(k) + 0.5) * (Double(k) + 0.5)
      }
      #expect(r.codeSquares == codeSquares)
    }
  
    /// Whole encodes and estimates agree bit for bit across levels (codes, side values, estimates and
    /// bounds), B = 1…9, with padding (d = 300 → 384) and a fitted centre.
    @Test func quantizerIsTheSameAtEveryLevel() throws {
      let x = TestData.gaussian(count: 64, dimension: 300, seed: 77)
      let query = TestData.gaussian(count: 1, dimension: 300, seed: 78)[row: 0]
      for bits in 1...9 {
        var q = try RaBitQ("rabitq:bits=\(bits),centre=mean", dimension: 300)
        try q.fit(x)
        var results: [(CodeBuffer, [Float], [Float])] = []
        for level in KernelLevel.supported {
          let r = try KernelLevel.with(level) { () throws -> (CodeBuffer, [Float], [Float]) in
            let codes = try q.encode(x)
            let b = q.estimateWithBounds(try q.prepare(query: query), codes: codes)
            return (codes, b.estimates, b.upper)
          }
          results.append(r)
        }
        for r in results.dropFirst() {
          #expect(r.0 == results[0].0, "codes differ across levels at B = \(bits)")
          #expect(r.1.map(\.bitPattern) == results[0].1.map(\.bitPattern) && r.2.map(\.bitPattern) == results[0].2.map(\.bitPattern),
                  "estimates differ across levels at B = \(bits)")
        }
      }
    }
  }
}

extension KernelLevelSwitching.RaBitQKernelTests {
  /// The sign-stage estimate map at every level against `RaBitQReference.signEstimates`, bit for bit
  /// (counts around the vector widths, integers up to 2^31 − 1, negative scales).
  @Test func signEstimatesMatchTheReference() {
    var g = SeededGenerator(seed: 31)
    for n in [0, 1, 3, 4, 7, 8, 9, 33, 256] {
      let dot = (0..<max(n, 1)).map { i in i == 0 ? Int64(Int32.max) : Int64(g.next() % (1 << 28)) }
      let pop = (0..<max(n, 1)).map { _ in Int64(g.next() % 65536) }
      let scale = (0..<max(n, 1)).map { i in Float(g.nextGaussian()) * (i % 3 == 0 ? -1 : 1) }
      let step: Float = 0.0371, lo: Float = -1.25, offset: Float = 512.5, add: Float = 0.125
      var expected = [Float](repeating: 0, count: max(n, 1))
      RaBitQReference.signEstimates(dot: dot, popcount: pop, count: n, scale: scale, step: step, lo: lo,
                                    offset: offset, add: add, into: &expected)
      for level in KernelLevel.supported {
        var out = [Float](repeating: 9, count: n + 1)
        KernelLevel.with(level) {
          Kernels.rabitqSignEstimates(dot: dot, popcount: pop, count: n, scale: scale, step: step, lo: lo,
                                      offset: offset, add: add, into: &out)
        }
        #expect(out.prefix(n).map(\.bitPattern) == expected.prefix(n).map(\.bitPattern), "level \(level) n \(n)")
        #expect(out[n] == 9, "wrote past the end: level \(level) n \(n)")
      }
    }
  }
}
