import Foundation
import PropertyBased
import Testing
import VQ
import VQIndex
import VQKernels
import VQTestSupport

/// Property tests (swift-property-based): random inputs from shrinkable seeds and sizes; the vectors
/// themselves come from `SeededGenerator` so a failing case is reproduced by its seed.
@Suite struct PropertyTests {
  static func gaussian(_ count: Int, _ d: Int, seed: UInt64, scale: Double = 1) -> VectorBatch {
    var g = SeededGenerator(seed: seed)
    return try! VectorBatch(dimension: d, values: (0..<(count * d)).map { _ in Float(g.nextGaussian() * scale) })
  }

  // MARK: encode → decode error within each format's worst case

  @Test("fp32 is exact, fp16 within 2^-11 relative, bf16 within 2^-8 relative (normal range, round to nearest)")
  func floatFormatsWithinHalfAnULP() async {
    await propertyCheck(count: 60, input: Gen.uint64(), Gen.int(in: 1...96), Gen.int(in: -6...6)) { seed, d, exponent in
      let x = Self.gaussian(5, d, seed: seed, scale: Double(sign: .plus, exponent: exponent, significand: 1))
      for (spec, relative) in [("fp32", 0.0), ("fp16", 0x1p-11), ("bf16", 0x1p-8)] {
        let q = try QuantizerRegistry.standard.makeQuantizer(spec, dimension: d)
        let y = try q.decode(q.encode(x))
        for (a, b) in zip(x.values, y.values) {
          // fp16's smallest normal is 2^-14: below it the absolute step 2^-24 bounds the error.
          let bound = relative * Double(abs(a)) + (spec == "fp16" ? 0x1p-25 : 0)
          #expect(Double(abs(a - b)) <= bound, "\(spec) d=\(d): \(a) decoded as \(b)")
        }
      }
    }
  }

  @Test("int:bits=b (b ≥ 2, no rotation): every coordinate within half a step s/2, s = max|x| / (2^(b-1) - 1)")
  func intWithinHalfAStep() async {
    await propertyCheck(count: 60, input: Gen.uint64(), Gen.int(in: 1...80), Gen.int(in: 2...8)) { seed, d, bits in
      let x = Self.gaussian(4, d, seed: seed)
      let q = try QuantizerRegistry.standard.makeQuantizer("int:bits=\(bits)", dimension: d)
      let y = try q.decode(q.encode(x))
      let levels = Double((1 << (bits - 1)) - 1)
      for row in 0..<x.count {
        let a = x.values[(row * d)..<((row + 1) * d)], b = y.values[(row * d)..<((row + 1) * d)]
        let step = Double(a.map(abs).max()!) / levels
        for (u, v) in zip(a, b) {
          // float slack: the scale and the product are each rounded once (relative 2^-23 of max|x|).
          #expect(Double(abs(u - v)) <= step / 2 * (1 + 1e-5) + 1e-6 * step * levels, "int:bits=\(bits): \(u) decoded as \(v)")
        }
      }
    }
  }

  // MARK: determinism across kernel levels and thread counts

  static let kernelSpecs = ["rabitq:bits=1", "rabitq:bits=3", "int:bits=4", "int:bits=8", "sign", "fp16", "bf16"]

  @Test("codes, decoded vectors and estimates are bit-identical at every supported kernel level")
  func kernelLevelsAgree() async {
    let levels = KernelLevel.supported
    await propertyCheck(count: 25, input: Gen.uint64(), Gen.int(in: 1...200), Gen.int(in: 0...(Self.kernelSpecs.count - 1))) { seed, d, s in
      let spec = Self.kernelSpecs[s]
      let x = Self.gaussian(33, d, seed: seed)
      let query = Self.gaussian(1, d, seed: seed &+ 1).values
      var results: [(CodeBuffer, VectorBatch, [UInt32])] = []
      for level in levels {
        let r = try KernelLevel.with(level) { () throws -> (CodeBuffer, VectorBatch, [UInt32]) in
          let q = try QuantizerRegistry.standard.makeQuantizer(spec, dimension: d)
          let codes = try q.encode(x)
          let estimates = q.estimateInnerProducts(try q.prepare(query: query), codes: codes)
          return (codes, try q.decode(codes), estimates.map(\.bitPattern))
        }
        results.append(r)
      }
      for (level, r) in zip(levels, results).dropFirst() {
        #expect(r.0 == results[0].0, "\(spec) d=\(d): codes differ at \(level)")
        #expect(r.1.values.map(\.bitPattern) == results[0].1.values.map(\.bitPattern), "\(spec) d=\(d): decode differs at \(level)")
        #expect(r.2 == results[0].2, "\(spec) d=\(d): estimates differ at \(level)")
      }
    }
  }

  // MARK: canonical spec strings

  /// A random valid value for a parameter, as text.
  static func randomValue(_ kind: SpecParameter.Kind, _ g: inout SeededGenerator) -> String {
    switch kind {
    case .integer(let range): return String(Int.random(in: range, using: &g))
    case .real(let range): return String(Double.random(in: range, using: &g))
    case .choice(let words): return words.randomElement(using: &g)!
    case .unsigned: return String(g.next())
    }
  }

  @Test("canonical strings round-trip: parse(random valid spec).description parses to the same spec and string")
  func canonicalSpecsRoundTrip() async {
    let methods = QuantizerRegistry.standard.methods
    let parsed = SendableCounter()
    await propertyCheck(count: 300, input: Gen.uint64(), Gen.int(in: 0...(methods.count - 1))) { seed, m in
      var g = SeededGenerator(seed: seed)
      let method = methods[m]
      let keys = method.parameters.filter { _ in Bool.random(using: &g) }.shuffled(using: &g)
      let text = ([method.name.uppercased()] + []).joined() + (keys.isEmpty ? "" : ":" + keys.map { p in
        "\(Bool.random(using: &g) ? p.key : p.key.uppercased()) = \(Self.randomValue(p.kind, &g))"
      }.joined(separator: ","))
      // Cross-key constraints (e.g. blockquant bits·block ≤ 12) may refuse a combination: that must be
      // a VQError, and the rest must round-trip.
      let spec: QuantizerSpec
      do { spec = try QuantizerSpec(text) } catch let error as VQError { _ = error; return }
      parsed.increment()
      let again = try QuantizerSpec(spec.description)
      #expect(again == spec && again.description == spec.description, "'\(text)' → '\(spec)' → '\(again)'")
      #expect(!spec.description.contains(" ") && spec.description.hasPrefix(method.name))
    }
    #expect(parsed.value > 150, "only \(parsed.value) of 300 random specs were valid")
  }

  // MARK: indexes

  static let indexSpecs = ["sign", "rabitq:bits=1", "rabitq:bits=4", "int:bits=4", "fp16"]

  static func randomIndex(seed: UInt64, count: Int, d: Int) throws -> VectorIndex {
    var g = SeededGenerator(seed: seed)
    let configuration = IndexConfiguration(
      spec: try QuantizerSpec(indexSpecs.randomElement(using: &g)!),
      metric: IndexMetric.allCases.randomElement(using: &g)!,
      lists: Bool.random(using: &g) ? 0 : Int.random(in: 1...3, using: &g),
      keepOriginals: Bool.random(using: &g), seed: g.next(), threads: 1)
    var index = try VectorIndex.build(gaussian(count, d, seed: seed), configuration: configuration)
    let victims = (0..<count).filter { _ in Int.random(in: 0..<5, using: &g) == 0 }.map(UInt64.init)
    if Bool.random(using: &g) && !victims.isEmpty { _ = try index.delete(victims) }
    return index
  }

  @Test("save → load → save is byte-identical, and the loaded index (mapped or read) answers searches identically")
  func saveLoadIdentity() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vq-property-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(at: folder) }
    await propertyCheck(count: 30, input: Gen.uint64(), Gen.int(in: 4...120), Gen.int(in: 1...40), Gen.bool) { seed, count, d, mapped in
      let index = try Self.randomIndex(seed: seed, count: count, d: d)
      let first = folder.appendingPathComponent("a.vqx").path, second = folder.appendingPathComponent("b.vqx").path
      try IndexFile.write(index, to: first)
      let loaded = try IndexFile.read(first, mapped: mapped)
      try IndexFile.write(loaded, to: second)
      #expect(try Data(contentsOf: URL(fileURLWithPath: first)) == Data(contentsOf: URL(fileURLWithPath: second)))
      let queries = Self.gaussian(3, d, seed: seed &+ 7)
      let parameters = SearchParameters(k: min(5, max(1, index.count)), rerank: 2, nprobe: 2)
      if index.count > 0 {
        #expect(try index.search(queries, parameters: parameters, threads: 1) == loaded.search(queries, parameters: parameters, threads: 1))
      }
    }
  }

  @Test("search results do not depend on the thread count (1 vs 2)")
  func threadCountsAgree() async {
    await propertyCheck(count: 30, input: Gen.uint64(), Gen.int(in: 4...300), Gen.int(in: 1...40)) { seed, count, d in
      let index = try Self.randomIndex(seed: seed, count: count, d: d)
      guard index.count > 0 else { return }
      let queries = Self.gaussian(9, d, seed: seed &+ 3)
      let parameters = SearchParameters(k: min(4, index.count), rerank: 1, nprobe: 3)
      #expect(try index.search(queries, parameters: parameters, threads: 1) == index.search(queries, parameters: parameters, threads: 2))
    }
  }
}

final class SendableCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var stored = 0
  var value: Int { lock.lock(); defer { lock.unlock() }; return stored }
  func increment() { lock.lock(); stored += 1; lock.unlock() }
}
