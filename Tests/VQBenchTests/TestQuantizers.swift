import VQ

/// Quantizers whose errors are known in closed form, so the metrics they produce can be predicted.
/// Each stores the vector as is (fp32 codes) and distorts only the reconstruction or the estimate.
enum TestQuantizers {
  /// fp32 plus the test methods, for registries built in tests.
  static let registry = QuantizerRegistry(methods: [
    Float32Format.method, ScaledCopy.method, ShiftedCopy.method, NegatedEstimates.method, BitsOnlyCopy.method,
  ])

  static func spec(_ text: String) throws -> QuantizerSpec { try QuantizerSpec(parsing: text, registry: registry) }
}

/// Shared storage: the codes are the float32 values.
private func copyEncode(_ x: VectorBatch, dimension: Int) throws -> CodeBuffer {
  guard x.dimension == dimension else { throw VQError.dimensionMismatch(expected: dimension, got: x.dimension, what: "input") }
  var codes = CodeBuffer(layout: CodeLayout(bytesPerCode: 4 * dimension), count: x.count)
  x.withUnsafeBufferPointer { src in
    codes.withUnsafeMutableCodes { UnsafeMutableRawBufferPointer($0).copyMemory(from: UnsafeRawBufferPointer(src)) }
  }
  return codes
}

private func storedRow(_ codes: CodeBuffer, _ i: Int, dimension: Int) -> [Float] {
  codes.withUnsafeCodes { raw in
    let floats = UnsafeRawPointer(raw.baseAddress!).assumingMemoryBound(to: Float.self)
    return Array(UnsafeBufferPointer(start: floats + i * dimension, count: dimension))
  }
}

private func exactDot(_ a: [Float], _ b: [Float]) -> Double {
  var s = 0.0
  for j in a.indices { s += Double(a[j]) * Double(b[j]) }
  return s
}

/// x̂ = factor · x, estimate = factor · ⟨q, x⟩: nmse = (factor − 1)², no angle, bias (factor − 1)·mean⟨q, x⟩.
struct ScaledCopy: VectorQuantizer {
  static let method = QuantizerMethod(
    name: "test-scale", summary: "stores x, reconstructs factor·x", family: "test",
    parameters: [SpecParameter("factor", .real(0.01...10), default: "1.0", summary: "scale of the reconstruction")]
  ) { spec, d in ScaledCopy(spec: spec, dimension: d) }

  let spec: QuantizerSpec
  let dimension: Int
  var layout: CodeLayout { CodeLayout(bytesPerCode: 4 * dimension) }
  var factor: Double { spec.double("factor") }

  func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws { codes = try copyEncode(x, dimension: dimension) }
  func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    out = try VectorBatch(dimension: dimension, values: (0..<codes.count).flatMap { i in
      storedRow(codes, i, dimension: dimension).map { Float(Double($0) * factor) }
    })
  }
  func prepare(query: UnsafeBufferPointer<Float>) throws -> PreparedQuery {
    PreparedQuery(dimension: dimension, transformed: Array(query))
  }
  func estimateInnerProducts(_ q: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) {
    for i in range { out[i - range.lowerBound] = Float(factor * exactDot(q.transformed, storedRow(codes, i, dimension: dimension))) }
  }
}

/// x̂ = x + s for one fixed vector s (‖s‖ = `size`, direction from `seed`); estimate = ⟨q, x⟩ + ⟨q, s⟩.
/// Every base vector has the same error for a given query, so the bias clustered by base vector has
/// standard error 0, the ranking never changes, and ip_var_d is d × the variance of ⟨q, s⟩ over queries.
struct ShiftedCopy: VectorQuantizer {
  static let method = QuantizerMethod(
    name: "test-shift", summary: "stores x, reconstructs x + s", family: "test",
    parameters: [
      SpecParameter("size", .real(0...10), default: "0.1", summary: "norm of s"),
      SpecParameter("seed", .unsigned, default: "1", summary: "direction of s"),
    ]
  ) { spec, d in ShiftedCopy(spec: spec, dimension: d) }

  let spec: QuantizerSpec
  let dimension: Int
  var layout: CodeLayout { CodeLayout(bytesPerCode: 4 * dimension) }

  /// The shift s.
  var shift: [Float] {
    var g = SeededGenerator(seed: spec.uint64("seed"))
    let v = (0..<dimension).map { _ in g.nextGaussian() }
    let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return v.map { Float($0 / norm * spec.double("size")) }
  }

  func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws { codes = try copyEncode(x, dimension: dimension) }
  func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    let s = shift
    out = try VectorBatch(dimension: dimension, values: (0..<codes.count).flatMap { i in
      zip(storedRow(codes, i, dimension: dimension), s).map { $0 + $1 }
    })
  }
  func prepare(query: UnsafeBufferPointer<Float>) throws -> PreparedQuery {
    PreparedQuery(dimension: dimension, transformed: Array(query), factors: [Float(exactDot(Array(query), shift))])
  }
  func estimateInnerProducts(_ q: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) {
    for i in range {
      out[i - range.lowerBound] = Float(exactDot(q.transformed, storedRow(codes, i, dimension: dimension)) + Double(q.factors[0]))
    }
  }
}

/// Exact reconstruction, estimate = −⟨q, x⟩: the ranking is reversed.
struct NegatedEstimates: VectorQuantizer {
  static let method = QuantizerMethod(name: "test-negate", summary: "estimates −⟨q, x⟩", family: "test") { spec, d in
    NegatedEstimates(spec: spec, dimension: d)
  }
  let spec: QuantizerSpec
  let dimension: Int
  var layout: CodeLayout { CodeLayout(bytesPerCode: 4 * dimension) }

  func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws { codes = try copyEncode(x, dimension: dimension) }
  func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    out = try VectorBatch(dimension: dimension, values: (0..<codes.count).flatMap { storedRow(codes, $0, dimension: dimension) })
  }
  func prepare(query: UnsafeBufferPointer<Float>) throws -> PreparedQuery {
    PreparedQuery(dimension: dimension, transformed: Array(query))
  }
  func estimateInnerProducts(_ q: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) {
    for i in range { out[i - range.lowerBound] = Float(-exactDot(q.transformed, storedRow(codes, i, dimension: dimension))) }
  }
}

/// A method with a `bits` key (1...4), for planning tests; behaves as `test-scale` with factor 1.
struct BitsOnlyCopy: VectorQuantizer {
  static let method = QuantizerMethod(
    name: "test-bits", summary: "exact copy with a bits key", family: "test",
    parameters: [SpecParameter("bits", .integer(1...4), default: "2", summary: "nominal bits", alwaysShown: true)]
  ) { spec, d in BitsOnlyCopy(spec: spec, dimension: d) }

  let spec: QuantizerSpec
  let dimension: Int
  var layout: CodeLayout { CodeLayout(bytesPerCode: 4 * dimension) }

  func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws { codes = try copyEncode(x, dimension: dimension) }
  func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    out = try VectorBatch(dimension: dimension, values: (0..<codes.count).flatMap { storedRow(codes, $0, dimension: dimension) })
  }
  func prepare(query: UnsafeBufferPointer<Float>) throws -> PreparedQuery {
    PreparedQuery(dimension: dimension, transformed: Array(query))
  }
  func estimateInnerProducts(_ q: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) {
    for i in range { out[i - range.lowerBound] = Float(exactDot(q.transformed, storedRow(codes, i, dimension: dimension))) }
  }
}
