import Testing
import VQ
import VQKernels
import VQTestSupport

/// `FastScanCodes` (blocked ↔ flat) and RaBitQ's FastScan 1-bit scan.
extension KernelLevelSwitching {
  @Suite struct FastScanCodesTests {
    static func randomCodes(layout: CodeLayout, count: Int, seed: UInt64) -> CodeBuffer {
      var g = SeededGenerator(seed: seed)
      var codes = CodeBuffer(layout: layout, count: count)
      codes.withUnsafeMutableCodes { bytes in
        for i in 0..<bytes.count { bytes[i] = UInt8(truncatingIfNeeded: g.next()) }
      }
      for f in 0..<layout.sideFields.count where count > 0 {
        codes.withUnsafeMutableSide(f) { side in
          for i in 0..<count { side[i] = Float(g.nextGaussian()) }
        }
      }
      return codes
    }

    /// flat → blocked → flat is the identity (codes and side values bit for bit), for counts around the
    /// 32-vector block and prefixes from nothing to the whole code; every sub-code is the flat nibble.
    @Test(arguments: [0, 1, 31, 32, 33, 100])
    func roundTripIsExact(count: Int) {
      for (bytes, fields) in [(1, [String]()), (5, ["norm"]), (16, ["norm", "rescale"]), (19, ["a", "b", "c"])] {
        let layout = CodeLayout(bytesPerCode: bytes, sideFields: fields)
        let codes = Self.randomCodes(layout: layout, count: count, seed: UInt64(count * 100 + bytes))
        for blocked in Set([0, 1, bytes / 2, bytes]) {
          let fast = FastScanCodes(flat: codes, blockedBytes: blocked)
          #expect(fast.count == count && fast.subcodeCount == 2 * blocked && fast.blockCount == (count + 31) / 32)
          #expect(fast.flat() == codes, "round trip: count \(count) bytes \(bytes) blocked \(blocked)")
          for i in Swift.stride(from: 0, to: count, by: 7) {
            let flat = codes.code(i)
            for m in 0..<fast.subcodeCount {
              let expected = m % 2 == 0 ? flat[m / 2] & 15 : flat[m / 2] >> 4
              #expect(fast.subcode(i, m) == expected, "vector \(i) sub-code \(m)")
            }
          }
        }
      }
    }

    /// The padding slots of the last block hold zero sub-codes (a scan with any table then adds the
    /// tables' zero entries there, nothing from neighbouring memory).
    @Test func paddingIsZero() {
      let codes = Self.randomCodes(layout: CodeLayout(bytesPerCode: 4), count: 33, seed: 5)
      let fast = FastScanCodes(flat: codes)
      // Entry 0 of every table is 0, the others 1…7.
      let luts: [UInt8] = (0..<(16 * fast.subcodeCount)).map { (i: Int) -> UInt8 in i % 16 == 0 ? 0 : UInt8(1 + i % 7) }
      var sums = [UInt32](repeating: 7, count: 64)
      fast.withUnsafeBlocks { blocks in
        Kernels.fastScanAccumulate(blocks: blocks.baseAddress!, blockCount: 2, pairCount: fast.pairCount, luts: luts,
                                   into: &sums)
      }
      #expect(sums[33...].allSatisfy { $0 == 0 })
    }

    /// The exact estimate of what FastScan scans, with the float rotated (centred) query, in Double:
    /// r·⟨b − ½, q'⟩ + ⟨c, q⟩ + ⟨o − c, c⟩ for the sign plane (B = 1, or B ≥ 3 with r = signRescale); at
    /// B = 2 the full code's r·⟨2b + e − 3/2, q'⟩ + … (e the extended plane's bit, r = rescale).
    static func exactScannedEstimates(_ q: RaBitQ, codes: CodeBuffer, prepared: PreparedQuery) -> [Double] {
      let rescales = codes.side(q.fastScanRescaleField)
      let centreDots = q.isCentred ? codes.side(RaBitQ.Field.centreDot) : [Float](repeating: 0, count: codes.count)
      let D = q.paddedDimension
      return (0..<codes.count).map { i in
        let code = codes.code(i)
        var dot = 0.0
        for j in 0..<D {
          let b = Double((code[j >> 3] >> UInt8(j & 7)) & 1)
          if q.bits == 2 {
            let e = Double((code[q.signBytes + (j >> 3)] >> UInt8(j & 7)) & 1)
            dot += (2 * b + e - 1.5) * Double(prepared.transformed[j])
          } else {
            dot += (b - 0.5) * Double(prepared.transformed[j])
          }
        }
        return Double(rescales[i]) * dot + Double(prepared.factors[5]) + Double(centreDots[i])
      }
    }

    /// The quantized tables by the definition: L_m[c] = Σ_{t: bit t of c, 4m+t < D} q'_{4m+t} (in increasing t,
    /// in Double), T_m[c] = round((L_m[c] − min_m)/Δ) clamped to 0…T, Δ = max_m Σ_t |q'_{4m+t}| / T (T = `maximum`);
    /// with `planes` = 2 (B = 2) the same tables follow again with step 2Δ for the extended plane.
    static func referenceTables(rotated: [Float], tableCount: Int, planes: Int = 1, maximum: Int = 255) -> [UInt8] {
      let D = rotated.count
      var minimum = [Double](repeating: 0, count: tableCount), range = minimum
      for i in 0..<D {
        minimum[i >> 2] += min(Double(rotated[i]), 0)
        range[i >> 2] += abs(Double(rotated[i]))
      }
      let step = (range.max() ?? 0) / Double(maximum)
      var tables = [UInt8](repeating: 0, count: 16 * tableCount * planes)
      guard step > 0 else { return tables }
      for plane in 0..<planes {
        let planeStep = plane == 0 ? step : 2 * step
        for m in 0..<tableCount {
          for c in 0..<16 {
            var entry = 0.0
            for t in 0..<4 where (c >> t) & 1 == 1 && 4 * m + t < D { entry += Double(rotated[4 * m + t]) }
            tables[16 * (plane * tableCount + m) + c] =
              UInt8(min(Double(maximum), max(0, ((entry - minimum[m]) / planeStep).rounded(.toNearestOrEven))))
          }
        }
      }
      return tables
    }

    /// FastScan estimates are within the documented LUT bound r·`lutErrorBound` (M·Δ/2 for the sign plane,
    /// 2·M·Δ for the 2-bit code; plus float rounding, 1e-5 of r·3·Σ|q'|) of the exact estimates of the
    /// scanned code (the sign plane at 1 and 4 bits, the full code at 2 bits), at every kernel level
    /// identically; with padding (d = 100 → 128 with zero padding bits; d = 384 = 12·32), with a centre.
    @Test(arguments: ["rabitq:bits=1", "rabitq:bits=4", "rabitq:bits=1,centre=mean", "rabitq:bits=2,rotation=none",
                      "rabitq:bits=2,centre=mean"])
    func estimatesWithinTheLUTBound(spec: String) throws {
      for d in [100, 384] {
        var q = try RaBitQ(spec, dimension: d)
        let base = TestData.gaussian(count: 70, dimension: d, seed: UInt64(d))
        try q.fit(base)
        let codes = try q.encode(base)
        let fast = q.makeFastScanCodes(codes)
        #expect(fast.flat() == codes)
        let queries = TestData.gaussian(count: 3, dimension: d, seed: 99)
        for row in 0..<queries.count {
          let vector = queries[row: row]
          let prepared = try vector.withUnsafeBufferPointer { try q.prepare(query: $0) }
          let fq = q.prepareFastScan(prepared)
          // Straight from the query (rotation only) the tables and factors are the same, and every entry
          // is the one the documented formula gives, summed bit by bit.
          let direct = try vector.withUnsafeBufferPointer { try q.prepareFastScan(query: $0) }
          #expect(direct.tables == fq.tables && direct.step == fq.step && direct.offset == fq.offset)
          #expect(direct.centreDot == fq.centreDot && direct.queryNorm == fq.queryNorm && direct.lutErrorBound == fq.lutErrorBound)
          #expect(q.fastScanCoversFullCode == (q.bits <= 2))
          #expect(q.fastScanTableMaximum == (q.bits <= 2 ? 127 : 255))
          #expect(fq.tables == Self.referenceTables(rotated: prepared.transformed, tableCount: 2 * q.signBytes,
                                                    planes: q.bits == 2 ? 2 : 1, maximum: q.fastScanTableMaximum),
                  "\(spec) d \(d): tables differ from the bit-by-bit sums")
          let exact = Self.exactScannedEstimates(q, codes: codes, prepared: prepared)
          let rescales = codes.side(q.fastScanRescaleField)
          let absoluteSum = prepared.transformed.reduce(0.0) { $0 + Double(abs($1)) }
          var byLevel: [[Float]] = []
          for level in KernelLevel.supported {
            var out = [Float](repeating: .nan, count: 32 * fast.blockCount)
            KernelLevel.with(level) {
              out.withUnsafeMutableBufferPointer {
                q.estimateInnerProductsFastScan(fq, codes: fast, blockRange: 0..<fast.blockCount, into: $0)
              }
            }
            byLevel.append(out)
          }
          #expect(byLevel.allSatisfy { $0.map(\.bitPattern) == byLevel[0].map(\.bitPattern) }, "levels differ: \(spec) d \(d)")
          var worst = 0.0
          for i in 0..<codes.count {
            let r = Double(rescales[i])
            let bound = r * Double(fq.lutErrorBound) + 3e-5 * r * absoluteSum + 1e-6
            let error = abs(Double(byLevel[0][i]) - exact[i])
            worst = max(worst, error / bound)
            #expect(error <= bound, "\(spec) d \(d) vector \(i): error \(error) > bound \(bound)")
          }
          // The bound is not vacuous: the typical error is far inside it (≈ √(M/12)/(M/2) of it).
          #expect(worst < 0.5, "\(spec) d \(d): worst error/bound \(worst)")
          // With bounds: the interval is the estimate ± (RaBitQ sign-stage bound + LUT term).
          var e = [Float](repeating: 0, count: 32 * fast.blockCount), lo = e, hi = e
          e.withUnsafeMutableBufferPointer { eb in
            lo.withUnsafeMutableBufferPointer { lb in
              hi.withUnsafeMutableBufferPointer { hb in
                q.estimateWithBoundsFastScan(fq, codes: fast, blockRange: 0..<fast.blockCount, estimates: eb, lower: lb, upper: hb)
              }
            }
          }
          #expect(e.map(\.bitPattern) == byLevel[0].map(\.bitPattern))
          for i in 0..<codes.count {
            #expect(lo[i] <= e[i] && e[i] <= hi[i])
            #expect(Double(hi[i] - lo[i]) >= 2 * Double(rescales[i]) * Double(fq.lutErrorBound) * 0.999)
          }
          // A sub-range of blocks gives the same numbers at its offset.
          if fast.blockCount > 1 {
            var part = [Float](repeating: 0, count: 32)
            part.withUnsafeMutableBufferPointer {
              q.estimateInnerProductsFastScan(fq, codes: fast, blockRange: 1..<2, into: $0)
            }
            #expect(part.map(\.bitPattern) == Array(byLevel[0][32..<64]).map(\.bitPattern))
          }
        }
      }
    }
  }
}

extension KernelLevelSwitching.FastScanCodesTests {
  /// Generic 4-bit product codes: quantized float tables scanned over blocks estimate Σ_m L_m[c_m] within
  /// the documented bound M·Δ/2 (plus 1e-5 relative float slack), for odd and even M and a partial block.
  @Test(arguments: [1, 7, 32, 96])
  func genericTablesWithinTheirBound(subcodes: Int) {
    var g = SeededGenerator(seed: UInt64(subcodes) &+ 17)
    let count = 70
    let bytesPerCode = (subcodes + 1) / 2
    var codes = CodeBuffer(layout: CodeLayout(bytesPerCode: bytesPerCode), count: count)
    codes.withUnsafeMutableCodes { bytes in
      for i in 0..<count {
        for k in 0..<bytesPerCode {
          var byte = UInt8(truncatingIfNeeded: g.next())
          if subcodes % 2 == 1, k == bytesPerCode - 1 { byte &= 15 }   // no sub-code past M
          bytes[i * bytesPerCode + k] = byte
        }
      }
    }
    let floats = (0..<(16 * subcodes)).map { i in Float(g.nextGaussian()) * (i % 32 < 16 ? 1 : 0.1) }
    let tables = FastScanTables(floats)
    let fast = FastScanCodes(flat: codes)
    var sums = [UInt32](repeating: 0, count: 32 * fast.blockCount)
    sums.withUnsafeMutableBufferPointer { fast.accumulate(tables, blockRange: 0..<fast.blockCount, into: $0.baseAddress!) }
    let scale = floats.reduce(0.0) { $0 + Double(abs($1)) }
    for i in 0..<count {
      let code = codes.code(i)
      var exact = 0.0
      for m in 0..<subcodes {
        let c = m % 2 == 0 ? code[m / 2] & 15 : code[m / 2] >> 4
        exact += Double(floats[16 * m + Int(c)])
      }
      let error = abs(Double(tables.value(sums[i])) - exact)
      #expect(error <= Double(tables.errorBound) + 1e-5 * scale, "M \(subcodes) vector \(i): error \(error) bound \(tables.errorBound)")
    }
  }
}
