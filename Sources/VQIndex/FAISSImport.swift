import VQ

/// Reads the vectors of a FAISS flat index file, to build a `.vqx` from them (`vq import`).
///
/// Accepted (FAISS's fourccs, faiss/impl/index_read.cpp): `IxFI` / `IxF2` / `IxFl` (IndexFlatIP / L2 /
/// IndexFlat with metric inner product or L2), optionally inside `IxMp` / `IxM2` (IndexIDMap / IDMap2:
/// the ids), optionally inside `IxPT` (IndexPreTransform) whose chain is one `VNrm` L2 normalization
/// (read as metric cosine) — exactly what `FAISSExport` writes for a flat export. Anything else (IVF,
/// compressed codes, other transforms or metrics) is refused with the fourcc and its byte offset.
public enum FAISSImport {
  public struct FlatContents: Sendable {
    public var vectors: VectorBatch
    /// The ids of an IndexIDMap, nil for a bare IndexFlat (ids are the row numbers).
    public var ids: [UInt64]?
    public var metric: IndexMetric
  }

  public static func readFlat(_ path: String) throws -> FlatContents {
    let file = try FileBytes(path: path, mapped: true)
    var reader = FAISSReader(bytes: file.bytes, path: path)
    var cosine = false
    var code = try reader.fourcc()
    if code == "IxPT" {
      _ = try reader.header()
      let transforms = try reader.integer(Int32.self, "transform count")
      guard transforms == 1 else {
        throw reader.refusal("an IndexPreTransform with \(transforms) transforms (only one L2 normalization is read)")
      }
      let transform = try reader.fourcc()
      guard transform == "VNrm" else {
        throw reader.refusal("transform '\(transform)' (only VNrm, the L2 normalization, is read)")
      }
      let norm = try reader.float("normalization norm")
      guard norm == 2 else { throw reader.refusal("a normalization with norm \(norm) (only L2, norm 2, is read)") }
      _ = try reader.integer(Int32.self, "d_in")
      _ = try reader.integer(Int32.self, "d_out")
      _ = try reader.integer(UInt8.self, "is_trained")
      cosine = true
      code = try reader.fourcc()
    }
    var ids: [UInt64]?
    let wrapped = code == "IxMp" || code == "IxM2"
    if wrapped {
      _ = try reader.header()
      code = try reader.fourcc()
    }
    guard code == "IxFI" || code == "IxF2" || code == "IxFl" else {
      throw reader.refusal("index type '\(code)' (only flat indexes are imported: IxFI, IxF2, IxFl, in IxMp/IxM2)", back: 4)
    }
    let header = try reader.header()
    guard header.metric == 0 || header.metric == 1 else {
      throw reader.refusal("metric \(header.metric) (only 0, inner product, and 1, L2, are read)")
    }
    guard header.dimension > 0 && header.dimension <= VectorIO.maximumDimension else {
      throw VQError.outOfRange("\(path): dimension \(header.dimension) is out of range 1...\(VectorIO.maximumDimension)")
    }
    let words = try reader.integer(UInt64.self, "vector length")
    // Found by Fuzz/fuzz-faiss: ntotal × d of a corrupt header can overflow 64 bits.
    let expected = UInt64(header.count).multipliedReportingOverflow(by: UInt64(header.dimension))
    guard !expected.overflow, words == expected.partialValue else {
      throw VQError.invalidArgument(
        "\(path): the flat index holds \(words) floats, not ntotal × d = \(header.count) × \(header.dimension)")
    }
    guard header.count > 0 else { throw VQError.invalidArgument("\(path): the flat index is empty") }
    guard let wordCount = Int(exactly: words) else {
      throw VQError.invalidArgument("\(path): \(words) floats is more than this machine can address")
    }
    let values = try reader.floats(wordCount, "vectors")
    // Found by Fuzz/fuzz-faiss: a NaN or ±Inf must stop here, named by row and column, not reach an index.
    if let bad = values.firstIndex(where: { !$0.isFinite }) {
      throw VQError.nonFinite(source: path, row: bad / header.dimension, column: bad % header.dimension, value: values[bad])
    }
    if wrapped {
      let n = try reader.integer(UInt64.self, "id count")
      guard n == UInt64(header.count) else {
        throw VQError.invalidArgument("\(path): \(n) ids for \(header.count) vectors")
      }
      let raw = try reader.int64s(Int(n), "ids")
      ids = try raw.enumerated().map { i, id in
        guard id >= 0 else { throw VQError.invalidArgument("\(path): negative id \(id) at position \(i)") }
        return UInt64(id)
      }
    }
    let vectors = try VectorBatch(dimension: header.dimension, values: values)
    return FlatContents(vectors: vectors, ids: ids, metric: cosine ? .cosine : header.metric == 1 ? .l2 : .innerProduct)
  }
}

/// A bounds-checked little-endian reader over a FAISS file.
struct FAISSReader {
  let bytes: UnsafeRawBufferPointer
  let path: String
  var offset = 0

  init(bytes: UnsafeRawBufferPointer, path: String) {
    self.bytes = bytes
    self.path = path
  }

  mutating func take(_ count: Int, _ what: String) throws -> UnsafeRawBufferPointer {
    guard count >= 0, count <= bytes.count - offset else {
      throw VQError.invalidArgument("\(path): truncated at byte \(offset): \(what) needs \(count) bytes, \(bytes.count - offset) left")
    }
    defer { offset += count }
    return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
  }

  mutating func integer<T: FixedWidthInteger>(_ type: T.Type, _ what: String) throws -> T {
    T(littleEndian: try take(MemoryLayout<T>.size, what).loadUnaligned(as: T.self))
  }

  mutating func float(_ what: String) throws -> Float { Float(bitPattern: try integer(UInt32.self, what)) }

  mutating func fourcc() throws -> String {
    String(decoding: try take(4, "a fourcc"), as: UTF8.self)
  }

  mutating func floats(_ count: Int, _ what: String) throws -> [Float] {
    let raw = try take(count.multipliedReportingOverflow(by: 4).overflow ? -1 : count * 4, what)
    return (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
  }

  mutating func int64s(_ count: Int, _ what: String) throws -> [Int64] {
    let raw = try take(count.multipliedReportingOverflow(by: 8).overflow ? -1 : count * 8, what)
    return (0..<count).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
  }

  /// The common index header: d, ntotal, two unused words, is_trained, metric (and metric_arg when > 1).
  mutating func header() throws -> (dimension: Int, count: Int, metric: Int32) {
    let d = try integer(Int32.self, "d")
    let n = try integer(Int64.self, "ntotal")
    _ = try integer(Int64.self, "header word")
    _ = try integer(Int64.self, "header word")
    _ = try integer(UInt8.self, "is_trained")
    let metric = try integer(Int32.self, "metric")
    if metric > 1 { _ = try float("metric_arg") }
    guard d >= 0, n >= 0 else { throw VQError.invalidArgument("\(path): negative d \(d) or ntotal \(n) before byte \(offset)") }
    return (Int(d), Int(n), metric)
  }

  func refusal(_ what: String, back: Int = 0) -> VQError {
    VQError.invalidArgument("\(path): unsupported FAISS content at byte \(offset - back): \(what)")
  }
}
