/// fp32: the vector stored as it is. The exact baseline every other method is measured against
/// (nmse 0, recall 1); 32 bits per coordinate, no side data.
public struct Float32Format: VectorQuantizer {
  public static let method = QuantizerMethod(
    name: "fp32", summary: "IEEE binary32, stored as is: the exact baseline", family: "product format"
  ) { spec, dimension in Float32Format(spec: spec, dimension: dimension) }

  public let spec: QuantizerSpec
  public let dimension: Int
  public var layout: CodeLayout { CodeLayout(bytesPerCode: 4 * dimension) }

  public init(spec: QuantizerSpec, dimension: Int) {
    self.spec = spec
    self.dimension = dimension
  }

  public func encode(_ x: VectorBatch, into codes: inout CodeBuffer) throws {
    try validateInput(x)
    codes = CodeBuffer(layout: layout, count: x.count)
    x.withUnsafeBufferPointer { src in
      codes.withUnsafeMutableCodes { dst in UnsafeMutableRawBufferPointer(dst).copyMemory(from: UnsafeRawBufferPointer(src)) }
    }
  }

  public func decode(_ codes: CodeBuffer, into out: inout VectorBatch) throws {
    try validateCodes(codes)
    out = VectorBatch(dimension: dimension, count: codes.count)
    codes.withUnsafeCodes { src in
      out.withUnsafeMutableBufferPointer { dst in UnsafeMutableRawBufferPointer(dst).copyMemory(from: UnsafeRawBufferPointer(src)) }
    }
  }

  public func prepare(query: UnsafeBufferPointer<Float>) throws -> PreparedQuery {
    try validateQuery(query)
    return PreparedQuery(dimension: dimension, transformed: Array(query))
  }

  public func estimateInnerProducts(
    _ query: PreparedQuery, codes: CodeBuffer, range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>
  ) {
    codes.withUnsafeCodes { raw in
      let base = UnsafeRawPointer(raw.baseAddress!).assumingMemoryBound(to: Float.self)
      query.transformed.withUnsafeBufferPointer { q in
        for i in range {
          out[i - range.lowerBound] = DotProduct.dot(q.baseAddress!, base + i * dimension, count: dimension)
        }
      }
    }
  }
}
