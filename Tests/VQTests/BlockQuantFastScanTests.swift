import Testing
@testable import VQ
import VQTestSupport

/// BlockQuant's FastScan path (b·p = 4) against a scalar lookup over the same quantized tables.
@Suite struct BlockQuantFastScanTests {
  /// Dense rotations keep n = d = 36: 9 blocks of 4 (an odd table count, padded) or 18 blocks of 2;
  /// 70 vectors leave a partial last FastScan block.
  @Test(arguments: ["blockquant:bits=1,block=4,rotation=haar", "blockquant:bits=2,block=2,rotation=haar",
                    "blockquant:bits=1,block=4,scale=biased", "blockquant:bits=2,block=2,scale=none"])
  func fastScanEqualsTheScalarLookupOverTheQuantizedTables(_ spec: String) throws {
    let d = spec.contains("haar") ? 36 : 100, count = 70
    let q = try #require(try QuantizerRegistry.standard.makeQuantizer(spec, dimension: d) as? BlockQuant)
    #expect(q.supportsFastScan)
    let x = TestData.gaussian(count: count, dimension: d, seed: 11)
    let codes = try q.encode(x)
    let blocked = q.makeFastScanCodes(codes)
    #expect(blocked.flat() == codes)
    let m = q.blockCount
    let scales = codes.side("scale")
    for seed in 0..<5 {
      let query = TestData.gaussian(count: 1, dimension: d, seed: 100 + UInt64(seed))[row: 0]
      let prepared = try q.prepare(query: query)
      let tables = q.prepareFastScan(prepared)
      var fast = [Float](repeating: .nan, count: 32 * blocked.blockCount)
      fast.withUnsafeMutableBufferPointer { out in
        q.estimateInnerProductsFastScan(tables, codes: blocked, blockRange: 0..<blocked.blockCount, into: out)
      }
      let exact = q.estimateInnerProducts(prepared, codes: codes)
      codes.withUnsafeCodes { raw in
        for i in 0..<count {
          // The scalar specification: sum the byte tables at the flat code's 4-bit indices, then
          // scale·(Δ·S + offset), each operation rounded on its own.
          var sum: UInt32 = 0
          for k in 0..<m {
            let index = BitField.read(raw.baseAddress! + i * codes.layout.bytesPerCode, bitOffset: 4 * k, width: 4)
            sum += UInt32(tables.bytes[16 * k + index])
          }
          let value = tables.step * Float(sum)
          let expected = scales[i] * (value + tables.offset) + 0
          #expect(fast[i] == expected, "row \(i): \(fast[i]) vs \(expected)")
          // And within the table-rounding bound of the float lookup estimate (plus float rounding).
          let slack = Swift.abs(scales[i]) * tables.errorBound * 1.0001 + 1e-5 * Swift.abs(exact[i]) + 1e-6
          #expect(Swift.abs(fast[i] - exact[i]) <= slack, "row \(i): fast \(fast[i]) exact \(exact[i])")
        }
      }
      for k in count..<fast.count { #expect(fast[k] == 0) }
    }
  }

  @Test func onlySixteenCodewordBooksScanFast() throws {
    let yes = try QuantizerRegistry.standard.makeQuantizer("blockquant:bits=2,block=2", dimension: 64) as? BlockQuant
    let no = try QuantizerRegistry.standard.makeQuantizer("blockquant:bits=2,block=3", dimension: 64) as? BlockQuant
    #expect(yes?.supportsFastScan == true)
    #expect(no?.supportsFastScan == false)
  }
}
