/// A query prepared once for scoring many codes: rotated, and with whatever tables or quantized forms
/// the method needs. Fields a method does not use stay empty.
public struct PreparedQuery: Sendable {
  /// Dimension of the query as given.
  public let dimension: Int
  /// The query in the quantizer's working space (rotated and zero-padded where the method rotates).
  public var transformed: [Float]
  /// Lookup tables (per block or per coordinate), method-defined.
  public var lookupTable: [Float]
  /// A quantized form of the query (RaBitQ's b-bit query), method-defined.
  public var quantized: [UInt8]
  /// Scalars the estimator needs (norm, quantization step, offsets), method-defined.
  public var factors: [Float]

  public init(dimension: Int, transformed: [Float], lookupTable: [Float] = [], quantized: [UInt8] = [], factors: [Float] = []) {
    self.dimension = dimension
    self.transformed = transformed
    self.lookupTable = lookupTable
    self.quantized = quantized
    self.factors = factors
  }
}

/// The contract every quantizer meets (DESIGN.md §3).
///
/// The protocol is crossed once per batch; inside, concrete kernels run. Stochastic methods draw from a
/// generator seeded by the spec's `seed`, so the same spec gives the same codes on every machine and
/// every kernel level.
public protocol VectorQuantizer: Sendable {
  /// The spec this quantizer was built from; its description parses back to an equal spec.
  var spec: QuantizerSpec { get }
  /// Dimension of the input vectors.
  var dimension: Int { get }
  /// Code bytes and side values per vector.
  var layout: CodeLayout { get }
  /// Learns data-dependent parameters; a no-op for data-oblivious methods.
  mutating func fit(_ sample: VectorBatch) throws
  /// Encodes every row of `x` (dimension must match) into `codes`, which is replaced by a buffer of
  /// `x.count` codes with this quantizer's layout.
  func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws
  /// Reconstructs every code into `out`, which is replaced by a batch of `codes.count` vectors.
  func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws
  /// Prepares `query` (dimension must match) for `estimateInnerProducts`.
  func prepare(query: UnsafeBufferPointer<Float>) throws -> PreparedQuery
  /// Estimates ⟨query, x_i⟩ for the codes `i` in `range`, writing `out[i − range.lowerBound]`.
  func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>)
}

extension VectorQuantizer {
  public mutating func fit(_ sample: VectorBatch) throws {}

  /// Encodes `x` into a new buffer.
  public func encode(_ x: VectorBatch) throws -> CodeBuffer {
    var codes = CodeBuffer(layout: layout, count: 0)
    try encode(x, into: &codes)
    return codes
  }

  /// Decodes `codes` into a new batch.
  public func decode(_ codes: CodeBuffer) throws -> VectorBatch {
    var out = VectorBatch(dimension: dimension, count: 0)
    try decode(codes, into: &out)
    return out
  }

  /// Prepares a query given as an array.
  public func prepare(query: [Float]) throws -> PreparedQuery {
    try query.withUnsafeBufferPointer { try prepare(query: $0) }
  }

  /// Estimated inner products of `query` with every code, as an array.
  public func estimateInnerProducts(_ query: PreparedQuery, codes: CodeBuffer) -> [Float] {
    var out = [Float](repeating: 0, count: codes.count)
    out.withUnsafeMutableBufferPointer { estimateInnerProducts(query, codes: codes, range: 0..<codes.count, into: $0) }
    return out
  }

  /// Throws unless `x` has this quantizer's dimension and only finite values.
  public func validateInput(_ x: VectorBatch, source: String = "input") throws {
    guard x.dimension == dimension else {
      throw VQError.dimensionMismatch(expected: dimension, got: x.dimension, what: source)
    }
    try x.validateFinite(source: source)
  }

  /// Throws unless a query has this quantizer's dimension and only finite values.
  public func validateQuery(_ q: UnsafeBufferPointer<Float>) throws {
    guard q.count == dimension else { throw VQError.dimensionMismatch(expected: dimension, got: q.count, what: "query") }
    for (j, v) in q.enumerated() where !v.isFinite {
      throw VQError.nonFinite(source: "query", row: 0, column: j, value: v)
    }
  }

  /// Throws unless `codes` were made with this quantizer's layout.
  public func validateCodes(_ codes: CodeBuffer) throws { try codes.validate(layout: layout) }
}
