import Testing
import VQ
import VQTestSupport

/// Layouts, exact cases, hand-worked MXFP4/NVFP4 codes, the inner-product estimate and input errors
/// of the product formats.
@Suite struct ProductFormatTests {
  static let allSpecs = ProductFormatReferenceTests.specs

  // MARK: bytes per vector

  /// Hand-computed: code bytes (packed bits, block scales) + 4 per side float. With a randomized
  /// Hadamard rotation d = 384 = 12·32 needs no padding; d = 100 pads to 128.
  @Test func bytesPerVector() throws {
    let expected: [(spec: String, d: Int, bytes: Int)] = [
      ("fp32", 384, 1536), ("fp16", 384, 768), ("bf16", 384, 768),
      ("fp8-e4m3", 384, 384 + 4), ("fp8-e5m2", 384, 384 + 4),
      ("int:bits=1", 384, 48 + 4), ("int:bits=3", 384, 144 + 4), ("int:bits=4", 384, 192 + 4),
      ("int:bits=8", 384, 384 + 4),
      ("fp4", 384, 192 + 4), ("mxfp4", 384, 12 + 192), ("nvfp4", 384, 24 + 192 + 4), ("sign", 384, 48 + 4),
      ("int:bits=4,rotation=hadamard", 384, 192 + 4), ("mxfp4:rotation=hadamard", 384, 12 + 192),
      ("fp16", 100, 200), ("bf16", 100, 200), ("fp8-e4m3", 100, 104),
      ("int:bits=1", 100, 13 + 4), ("int:bits=3", 100, 38 + 4), ("int:bits=4", 100, 50 + 4),
      ("int:bits=5", 100, 63 + 4), ("int:bits=8", 100, 104),
      ("fp4", 100, 50 + 4), ("mxfp4", 100, 4 + 50), ("nvfp4", 100, 7 + 50 + 4), ("sign", 100, 13 + 4),
      // rotation=hadamard at d = 100: 128 coded coordinates.
      ("fp16:rotation=hadamard", 100, 256), ("fp8-e4m3:rotation=hadamard", 100, 128 + 4),
      ("int:bits=3,rotation=hadamard", 100, 48 + 4), ("fp4:rotation=hadamard", 100, 64 + 4),
      ("mxfp4:rotation=hadamard", 100, 4 + 64), ("nvfp4:rotation=hadamard", 100, 8 + 64 + 4),
      ("sign:rotation=hadamard", 100, 16 + 4), ("int:bits=1,rotation=hadamard", 100, 16 + 4),
      // A dense Haar rotation never pads.
      ("nvfp4:rotation=haar", 100, 7 + 50 + 4),
    ]
    for (spec, d, bytes) in expected {
      let q = try QuantizerRegistry.standard.makeQuantizer(spec, dimension: d)
      #expect(q.layout.bytesPerVector == bytes, "\(spec) at d = \(d)")
      let codes = try q.encode(TestData.gaussian(count: 3, dimension: d, seed: 1))
      #expect(codes.byteCount == 3 * bytes)
    }
  }

  @Test func sideFieldsAreNamed() throws {
    let names: [(String, [String])] = [
      ("fp16", []), ("bf16", []), ("fp8-e4m3", ["scale"]), ("fp8-e5m2", ["scale"]), ("int:bits=2", ["scale"]),
      ("fp4", ["scale"]), ("mxfp4", []), ("nvfp4", ["global_scale"]), ("sign", ["norm"]),
    ]
    for (spec, fields) in names {
      #expect(try QuantizerRegistry.standard.makeQuantizer(spec, dimension: 64).layout.sideFields == fields, "\(spec)")
    }
  }

  @Test func canonicalSpecs() throws {
    #expect(try QuantizerSpec("int:bits=4,rotation=hadamard").description == "int:bits=4,rotation=hadamard")
    #expect(try QuantizerSpec("INT:rotation=none,bits=2").description == "int:bits=2")
    #expect(try QuantizerSpec("int").description == "int:bits=4")
    #expect(try QuantizerSpec("nvfp4:seed=7,rotation=haar").description == "nvfp4:rotation=haar,seed=7")
    #expect(throws: VQError.self) { try QuantizerSpec("int:bits=9") }
    #expect(throws: VQError.self) { try QuantizerSpec("mxfp4:bits=4") }
    let families = Set(["fp16", "bf16", "fp8-e4m3", "fp8-e5m2", "int", "fp4", "mxfp4", "nvfp4", "sign"]
      .map { QuantizerRegistry.standard.method(named: $0)?.family })
    #expect(families == ["product format"])
  }

  // MARK: exact cases

  /// Inputs the format represents exactly come back bit for bit.
  @Test func exactlyRepresentableInputsDecodeExactly() throws {
    var g = SeededGenerator(seed: 6)
    func check(_ spec: String, _ rows: [[Float]]) throws {
      let x = try VectorBatch(rows: rows)
      let q = try QuantizerRegistry.standard.makeQuantizer(spec, dimension: x.dimension)
      let y = try q.decode(try q.encode(x))
      #expect(y == x, "\(spec): \(zip(x.values, y.values).first { $0.0 != $0.1 }.map { "\($0)" } ?? "")")
    }
    let d = 100
    // fp16 / bf16: values of the format (finite codes of every binade, subnormals included).
    try check("fp16", (0..<20).map { _ in (0..<d).map { _ in
      var h = UInt16(truncatingIfNeeded: g.next())
      if h & 0x7C00 == 0x7C00 { h &= 0xBFFF }  // an Inf/NaN pattern becomes a finite one
      return ScalarCodecs.float(float16Bits: h)
    } })
    try check("bf16", (0..<20).map { _ in (0..<d).map { _ in
      Float(bitPattern: UInt32(UInt16(truncatingIfNeeded: g.next()) & 0xBFFF) << 16)  // |x| < 2, finite
    } })
    // fp8: format values times 2^-5, the largest present (so s = 2^-5 exactly).
    for (spec, format) in [("fp8-e4m3", MiniFloat.e4m3), ("fp8-e5m2", .e5m2)] {
      let finite = format.values.filter { $0.isFinite }
      try check(spec, (0..<20).map { _ in
        [format.largestFinite * 0x1p-5] + (1..<d).map { _ in finite[Int(g.next() % UInt64(finite.count))] * 0x1p-5 }
      })
    }
    // int: integers in [−L, L] (L present) times 2^-3.
    for bits in 2...8 {
      let levels = (1 << (bits - 1)) - 1
      try check("int:bits=\(bits)", (0..<20).map { _ in
        [Float(-levels) * 0.125] + (1..<d).map { _ in Float(Int(g.next() % UInt64(2 * levels + 1)) - levels) * 0.125 }
      })
    }
    // int:bits=1 and sign: ±c with equal magnitudes.
    try check("int:bits=1", (0..<5).map { _ in (0..<d).map { _ in g.next() & 1 == 0 ? 0.75 : -0.75 } })
    try check("sign", (0..<5).map { _ in (0..<64).map { _ in g.next() & 1 == 0 ? 1 : -1 } })
    // fp4: E2M1 values times 2^-2 with 6 present.
    let e2m1 = ScalarCodecs.e2m1Values
    try check("fp4", (0..<20).map { _ in [-1.5] + (1..<d).map { _ in e2m1[Int(g.next() % 16)] * 0.25 } })
    // mxfp4: each 32-block is E2M1 values times 2^k with its largest 4·2^k or 6·2^k.
    try check("mxfp4", (0..<20).map { _ in
      (0..<d).map { j in
        let k = j / 32 - 3
        let v = j % 32 == 0 ? (g.next() & 1 == 0 ? 4 : -6) : e2m1[Int(g.next() % 16)]
        return v * Float(sign: .plus, exponent: k, significand: 1)
      }
    })
    // nvfp4: g = 2^-10 (overall max 6·448·2^-10), block scales s ∈ {448, 64, 3.5, 0.125}: each
    // block is E2M1 values times s·g with ±6·s·g present.
    let blockScales: [Float] = [448, 64, 3.5, 0.125, 64, 448, 0.125]
    try check("nvfp4", (0..<20).map { _ in
      (0..<d).map { j in
        let sg = blockScales[j / 16] * 0x1p-10
        return (j % 16 == 3 ? 6 : e2m1[Int(g.next() % 16)]) * sg
      }
    })
  }

  // MARK: hand-worked block formats

  @Test func mxfp4ScaleExamples() {
    #expect(ScalarCodecs.float(e8m0Bits: MXFP4Format.scaleByte(blockMaximum: 6)) == 1)        // ⌊log2 6⌋ − 2 = 0
    #expect(ScalarCodecs.float(e8m0Bits: MXFP4Format.scaleByte(blockMaximum: 7.9)) == 1)      // 7.9/1 clamps to 6
    #expect(ScalarCodecs.float(e8m0Bits: MXFP4Format.scaleByte(blockMaximum: 8)) == 2)
    #expect(ScalarCodecs.float(e8m0Bits: MXFP4Format.scaleByte(blockMaximum: 4)) == 1)
    #expect(ScalarCodecs.float(e8m0Bits: MXFP4Format.scaleByte(blockMaximum: 0.3)) == 0x1p-4) // ⌊log2 0.3⌋ = −2
    #expect(MXFP4Format.scaleByte(blockMaximum: 0) == 0)                                       // smallest scale
    #expect(MXFP4Format.scaleByte(blockMaximum: 0x1p-140) == 0)                                // clamped at 2^-127
    #expect(MXFP4Format.scaleByte(blockMaximum: .greatestFiniteMagnitude) == 252)
  }

  /// Two blocks by hand. Block 0 (amax 7.9, X = 1): 7.9 → 6 (clamped), 6 → 6, −0.75 → −1 (tie to
  /// even), 0.25 → 0 (tie to even), 1.25 → 1 (tie to even). Block 1 (amax 0.3, X = 2^-4): x·16 =
  /// 4.8 → 4, −1.6 → −1.5, 0.8 → 1.
  @Test func mxfp4WorkedExample() throws {
    var row = [Float](repeating: 0, count: 64)
    row[0] = 7.9; row[1] = 6; row[2] = -0.75; row[3] = 0.25; row[4] = 1.25
    row[32] = 0.3; row[33] = -0.1; row[34] = 0.05
    let q = try QuantizerRegistry.standard.makeQuantizer("mxfp4", dimension: 64)
    let codes = try q.encode(try VectorBatch(rows: [row]))
    var expected = [UInt8](repeating: 0, count: 2 + 32)
    expected[0] = 127; expected[1] = 123                      // E8M0 of 2^0 and 2^-4
    expected[2] = 0x77; expected[3] = 0x0A; expected[4] = 0x02  // (6, 6), (−1, 0), (1, 0)
    expected[2 + 16] = 0xB6; expected[2 + 17] = 0x02            // (4, −1.5), (1, 0)
    #expect(codes.code(0) == expected)
    var decoded = [Float](repeating: 0, count: 64)
    decoded[0] = 6; decoded[1] = 6; decoded[2] = -1; decoded[3] = 0; decoded[4] = 1
    decoded[32] = 0.25; decoded[33] = -0.09375; decoded[34] = 0.0625
    #expect(try q.decode(codes)[row: 0] == decoded)
  }

  /// Two blocks by hand. g = 10.5/2688 = 2^-8. Block 0: 10.5/6/g = 448 → E4M3 0x7E, s·g = 1.75;
  /// x/1.75: 6 → 6, −3 → −3, 0.5 → 0.5, 1.14 → 1. Block 1: 0.7/6/g = 29.87 → E4M3 30 (0x5F:
  /// exponent 4, mantissa 7/8), s·g = 30/256; x/(s·g): 5.97 → 6, 2.56 → 3, −0.85 → −1,
  /// 0.43 → 0.5, 0.17 → 0.
  @Test func nvfp4WorkedExample() throws {
    var row = [Float](repeating: 0, count: 32)
    row[0] = 10.5; row[1] = -5.25; row[2] = 0.875; row[3] = 2
    row[16] = 0.7; row[17] = 0.3; row[18] = -0.1; row[19] = 0.05; row[20] = 0.02
    let q = try QuantizerRegistry.standard.makeQuantizer("nvfp4", dimension: 32)
    let codes = try q.encode(try VectorBatch(rows: [row]))
    var expected = [UInt8](repeating: 0, count: 2 + 16)
    expected[0] = 0x7E; expected[1] = 0x5F
    expected[2] = 0xD7; expected[3] = 0x21                       // (6, −3), (0.5, 1)
    expected[2 + 8] = 0x57; expected[2 + 9] = 0x1A; expected[2 + 10] = 0x00  // (6, 3), (−1, 0.5), (0, 0)
    #expect(codes.code(0) == expected)
    #expect(codes.side("global_scale") == [0x1p-8])
    var decoded = [Float](repeating: 0, count: 32)
    decoded[0] = 10.5; decoded[1] = -5.25; decoded[2] = 0.875; decoded[3] = 1.75
    decoded[16] = 0.703125; decoded[17] = 0.3515625; decoded[18] = -0.1171875; decoded[19] = 0.05859375
    #expect(try q.decode(codes)[row: 0] == decoded)
  }

  @Test func zeroVectorsAndShortBlocks() throws {
    for spec in Self.allSpecs {
      for d in [1, 3, 17, 33] {
        let q = try QuantizerRegistry.standard.makeQuantizer(spec, dimension: d)
        let x = try VectorBatch(rows: [[Float](repeating: 0, count: d), (0..<d).map { Float($0) - 1.5 }])
        let y = try q.decode(try q.encode(x))
        #expect(y[row: 0].allSatisfy { $0 == 0 }, "\(spec) d=\(d): zero vector")
        #expect(y[row: 1].allSatisfy { $0.isFinite }, "\(spec) d=\(d)")
      }
    }
  }

  /// geometry.md §1.3: a basis vector is sign's worst case, cos = 1/√d (87.9° at d = 768): every
  /// zero reads as +1. One randomized Hadamard round spreads e_1 into ±1/√n, which sign codes exactly;
  /// three rounds make it look like a random direction (E cos = 0.798 at d = 768, spread ≈ 0.008).
  @Test func signOnABasisVector() throws {
    let d = 768
    var e1 = [Float](repeating: 0, count: d)
    e1[0] = 1
    let x = try VectorBatch(rows: [e1])
    func cosine(_ spec: String) throws -> Double {
      let q = try QuantizerRegistry.standard.makeQuantizer(spec, dimension: d)
      let y = try q.decode(try q.encode(x))[row: 0]
      return Double(y[0]) / y.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    }
    #expect(Swift.abs(try cosine("sign") - 1 / Double(d).squareRoot()) < 1e-6)
    #expect(Swift.abs(try cosine("sign:rotation=hadamard,rounds=1") - 1) < 1e-5)
    #expect(try cosine("sign:rotation=hadamard") > 0.75)
  }

  // MARK: inner-product estimate

  /// estimateInnerProducts = ⟨q, decode(code)⟩ (the rotated query with the rotated code), for every
  /// format with and without a rotation, on a sub-range of the codes.
  @Test(arguments: allSpecs)
  func estimateEqualsInnerProductWithTheDecodedVector(spec: String) throws {
    let d = 100
    let x = TestData.gaussian(count: 40, dimension: d, seed: 77)
    let queries = TestData.gaussian(count: 3, dimension: d, seed: 78)
    let separator = spec.contains(":") ? "," : ":"
    for rotation in ["", "\(separator)rotation=hadamard", "\(separator)rotation=haar", "\(separator)rotation=hadamard,rounds=1,seed=9"] {
      let q = try QuantizerRegistry.standard.makeQuantizer(spec + rotation, dimension: d)
      let codes = try q.encode(x)
      let decoded = try q.decode(codes)
      for k in 0..<queries.count {
        let query = queries[row: k]
        let prepared = try q.prepare(query: query)
        let all = q.estimateInnerProducts(prepared, codes: codes)
        var part = [Float](repeating: .nan, count: 9)
        part.withUnsafeMutableBufferPointer { q.estimateInnerProducts(prepared, codes: codes, range: 11..<20, into: $0) }
        for i in 0..<x.count {
          let xi = decoded[row: i]
          var exact = 0.0, qq = 0.0, xx = 0.0
          for j in 0..<d {
            exact += Double(query[j]) * Double(xi[j]); qq += Double(query[j]) * Double(query[j]); xx += Double(xi[j]) * Double(xi[j])
          }
          // Float accumulation (and, rotated, the Float rotation of q and of x̂): ≤ 1e-5 of ‖q‖‖x̂‖.
          #expect(Swift.abs(Double(all[i]) - exact) <= 1e-5 * (qq * xx).squareRoot(), "\(spec + rotation) code \(i)")
          if (11..<20).contains(i) { #expect(part[i - 11] == all[i]) }
        }
      }
    }
  }

  /// With a rotation, decode(encode(x)) is close to x for the fine formats (the rotation inverts).
  @Test(arguments: ["fp16", "bf16", "fp8-e4m3", "int:bits=8"])
  func rotatedRoundTripIsClose(spec: String) throws {
    for d in [100, 384] {
      let x = TestData.unitSphere(count: 10, dimension: d, seed: 3)
      let q = try QuantizerRegistry.standard.makeQuantizer(spec + (spec.contains(":") ? "," : ":") + "rotation=hadamard", dimension: d)
      let y = try q.decode(try q.encode(x))
      var worst = 0.0
      for (a, b) in zip(x.values, y.values) { worst = Swift.max(worst, Swift.abs(Double(a) - Double(b))) }
      #expect(worst < 0.02, "\(spec) d=\(d): max error \(worst)")
    }
  }

  // MARK: errors

  @Test(arguments: allSpecs)
  func badInputThrows(spec: String) throws {
    let q = try QuantizerRegistry.standard.makeQuantizer(spec, dimension: 8)
    var bad = [Float](repeating: 1, count: 16)
    bad[11] = .nan
    do {
      _ = try q.encode(try VectorBatch(dimension: 8, values: bad))
      Issue.record("\(spec) accepted a NaN")
    } catch VQError.nonFinite(_, let row, let column, _) {
      #expect(row == 1 && column == 3)
    }
    #expect(throws: VQError.dimensionMismatch(expected: 8, got: 4, what: "input")) {
      try q.encode(try VectorBatch(dimension: 4, values: [1, 2, 3, 4]))
    }
    #expect(throws: VQError.self) { _ = try q.prepare(query: [Float](repeating: 1, count: 7)) }
    let other = try QuantizerRegistry.standard.makeQuantizer("fp32", dimension: 8)
    let foreign = try other.encode(try VectorBatch(dimension: 8, values: [Float](repeating: 1, count: 8)))
    #expect(throws: VQError.self) { _ = try q.decode(foreign) }
  }
}
