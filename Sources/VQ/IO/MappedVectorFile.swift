/// A memory-mapped float vector file (`.fvecs`, `.bvecs`, `.npy` float32/float16), for files larger
/// than memory: rows are converted only when read, and the pages behind them are loaded on demand.
///
/// `init` validates the header and the file size up front (`count` = data size / record size; a
/// partial trailing record is `truncated`, naming it). `read` checks each record's dimension field
/// (`.fvecs`/`.bvecs`) and the finiteness of the values it returns, naming the absolute row.
/// The mapping is read-only and private; it is released when the object goes away. As with any
/// mapping, truncating the file while it is mapped makes the process fault: do not.
public final class MappedVectorFile: @unchecked Sendable {
  // @unchecked Sendable: the mapping is read-only and never changes after init.
  public let path: String
  public let format: VectorFileFormat
  public let dimension: Int
  public let count: Int
  private let layout: StoredLayout
  /// The mapping (`FileBytes` owns it and unmaps it when this object goes away).
  private let file: FileBytes
  private var mapping: UnsafeRawBufferPointer { file.bytes }

  public init(path: String) throws {
    let format = try VectorIO.knownFormat(path)
    guard let element = StoredElement.floatVectors(format) else {
      throw VQError.invalidArgument("\(path): MappedVectorFile maps float vector files (.fvecs, .bvecs, .npy), not .ivecs")
    }
    let file = try FileBytes(path: path, mapped: true)
    layout = format == .npy
      ? try StoredLayout.npy(file.bytes, supported: [.float32, .float16], path: path)
      : try StoredLayout.vecsFromSize(file.bytes, element: element, path: path)
    self.path = path
    self.format = format
    self.file = file
    dimension = layout.dimension
    count = layout.count
  }

  /// The size of the file in bytes.
  public var byteCount: Int { mapping.count }

  /// Copies rows `range` into a new batch, checking dimension fields and finiteness (`nonFinite`
  /// names the absolute row). A range outside `0..<count` is `outOfRange`.
  public func read(_ range: Range<Int>) throws -> VectorBatch {
    guard range.lowerBound >= 0 && range.upperBound <= count else {
      throw VQError.outOfRange("\(path): rows \(range.lowerBound)..<\(range.upperBound) are outside 0..<\(count)")
    }
    return try RowDecoding.floats(mapping, layout, rows: range, path: path)
  }

  /// Every row (for files that fit in memory).
  public func readAll() throws -> VectorBatch { try read(0..<count) }
}
