/// Reading and writing vector files: `.fvecs`, `.ivecs`, `.bvecs` and NumPy `.npy`.
///
/// Readers validate everything a file can get wrong and throw `VQError` naming the path and the
/// position (records and rows are numbered from 0); they never trap on file content. A reader never
/// returns an empty result: a file without vectors is `emptyFile`. Writers are atomic (`AtomicFile`).
///
/// A 1-D `.npy` array of `d` values is read as one vector of dimension `d`.
public enum VectorIO {
  /// The largest dimension a reader accepts (a larger dimension field means a corrupt file).
  public static let maximumDimension = 1 << 20

  // MARK: Reading

  /// Reads float vectors: `.fvecs`, `.bvecs` (uint8 → Float), `.npy` (float32 `'<f4'` or float16
  /// `'<f2'`, 2-D, C order).
  ///
  /// Throws `io` (missing, unreadable or non-regular path), `emptyFile`, `truncated` (the record and
  /// its byte offset), `corrupt` (inconsistent or out-of-range dimension, bad npy magic, header,
  /// dtype, shape or order) or `nonFinite` (row, column). The whole file is read once and converted
  /// with unsafe pointers; for files larger than memory use `MappedVectorFile`.
  public static func readVectors(at path: String) throws -> VectorBatch {
    let format = try knownFormat(path)
    guard let element = StoredElement.floatVectors(format) else {
      throw VQError.invalidArgument("\(path): an .ivecs file holds int32 ids; read it with VectorIO.readIntVectors")
    }
    return try POSIXFile.withContents(of: path) { bytes in
      let layout = format == .npy
        ? try StoredLayout.npy(bytes, supported: [.float32, .float16], path: path)
        : try StoredLayout.scanVecs(bytes, element: element, path: path)
      return try RowDecoding.floats(bytes, layout, rows: 0..<layout.count, path: path)
    }
  }

  /// Reads int32 vectors (ground-truth ids): `.ivecs`, or `.npy` `'<i4'` (also `'<i8'` whose values
  /// fit in int32), 2-D. Validation as in `readVectors`.
  public static func readIntVectors(at path: String) throws -> IntMatrix {
    let format = try knownFormat(path)
    guard format == .ivecs || format == .npy else {
      throw VQError.invalidArgument("\(path): int32 vectors are read from .ivecs or .npy files, not .\(format.rawValue)")
    }
    return try POSIXFile.withContents(of: path) { bytes in
      let layout = format == .npy
        ? try StoredLayout.npy(bytes, supported: [.int32, .int64], path: path)
        : try StoredLayout.scanVecs(bytes, element: .int32, path: path)
      return try RowDecoding.integers(bytes, layout, path: path)
    }
  }

  /// Throws `VQError.dimensionMismatch` naming both inputs when their dimensions differ (a query
  /// file that does not match its base file).
  public static func checkSameDimension(_ a: VectorBatch, _ aName: String, _ b: VectorBatch, _ bName: String) throws {
    guard a.dimension == b.dimension else {
      throw VQError.dimensionMismatch(expected: a.dimension, got: b.dimension, what: "\(bName) (compared with \(aName), dimension \(a.dimension))")
    }
  }

  static func knownFormat(_ path: String) throws -> VectorFileFormat {
    guard let format = VectorFileFormat(path: path) else {
      throw VQError.invalidArgument(
        "\(path): unknown vector file extension (known: \(VectorFileFormat.allCases.map(\.fileExtension).joined(separator: ", ")))")
    }
    return format
  }
}
