/// How the values of a vector file are stored on disk.
enum StoredElement: Sendable {
  case float32, float16, uint8, int32, int64

  var byteCount: Int {
    switch self {
    case .uint8: return 1
    case .float16: return 2
    case .float32, .int32: return 4
    case .int64: return 8
    }
  }

  /// The element of a float vector file (`.npy`: float32 here, the header decides), or `nil` for
  /// `.ivecs`, which holds int32 ids.
  static func floatVectors(_ format: VectorFileFormat) -> StoredElement? {
    switch format {
    case .fvecs, .npy: return .float32
    case .bvecs: return .uint8
    case .ivecs: return nil
    }
  }
}

/// Where the rows of a vector file lie in its bytes, validated against the file's size: `count`
/// rows of `dimension` elements, row `i`'s values at `firstRowOffset + i · rowStride`, each row of a
/// `.fvecs`/`.ivecs`/`.bvecs` file preceded by its int32 dimension field.
struct StoredLayout: Sendable {
  var element: StoredElement
  var dimension: Int
  var count: Int
  var firstRowOffset: Int
  var rowStride: Int
  var hasDimensionFields: Bool

  /// Rows stored back to back with nothing between them (`.npy`): one bulk conversion suffices.
  var isContiguous: Bool { !hasDimensionFields && rowStride == dimension * element.byteCount }

  static func checkDimension(_ d: Int, path: String, _ location: String) throws {
    guard d >= 1 && d <= VectorIO.maximumDimension else {
      throw VQError.corrupt(path: path, detail: "dimension \(d) \(location) is out of range 1...\(VectorIO.maximumDimension)")
    }
  }

  // MARK: .fvecs / .ivecs / .bvecs

  /// Walks every record of a `.fvecs`/`.ivecs`/`.bvecs` file: each must have the first record's
  /// dimension (else `corrupt` naming the record and both dimensions) and be complete (else
  /// `truncated` naming the record and its byte offset). Records are numbered from 0.
  static func scanVecs(_ bytes: UnsafeRawBufferPointer, element: StoredElement, path: String) throws -> StoredLayout {
    guard bytes.count > 0 else { throw VQError.emptyFile(path: path) }
    let size = bytes.count
    var dimension = 0, stride = 0
    var offset = 0, record = 0
    while offset < size {
      let remaining = size - offset
      guard remaining >= 4 else {
        throw VQError.truncated(path: path, record: record, byteOffset: offset,
                                detail: "only \(remaining) of the 4 bytes of the record's dimension field remain")
      }
      let d = Int(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
      if record == 0 {
        try checkDimension(d, path: path, "in the header of record 0")
        dimension = d
        stride = 4 + d * element.byteCount
      } else if d != dimension {
        throw VQError.corrupt(path: path, detail:
          "inconsistent dimension: record \(record) (byte offset \(offset)) has dimension \(d), but record 0 has dimension \(dimension)")
      }
      guard remaining >= stride else {
        throw VQError.truncated(path: path, record: record, byteOffset: offset,
                                detail: "the record needs \(stride) bytes (dimension \(d)), only \(remaining) remain")
      }
      offset += stride
      record += 1
    }
    return StoredLayout(element: element, dimension: dimension, count: record, firstRowOffset: 4,
                        rowStride: stride, hasDimensionFields: true)
  }

  /// The layout of a `.fvecs`/`.bvecs` file from its first dimension field and its size alone (for
  /// files too large to walk up front): a size that is not a whole number of records is `truncated`
  /// naming the partial record. The other records' dimension fields are checked as rows are read.
  static func vecsFromSize(_ bytes: UnsafeRawBufferPointer, element: StoredElement, path: String) throws -> StoredLayout {
    let size = bytes.count
    guard size > 0 else { throw VQError.emptyFile(path: path) }
    guard size >= 4 else {
      throw VQError.truncated(path: path, record: 0, byteOffset: 0,
                              detail: "only \(size) of the 4 bytes of the record's dimension field remain")
    }
    let d = Int(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: Int32.self)))
    try checkDimension(d, path: path, "in the header of record 0")
    let stride = 4 + d * element.byteCount
    let (count, partial) = size.quotientAndRemainder(dividingBy: stride)
    guard partial == 0 else {
      throw VQError.truncated(path: path, record: count, byteOffset: count * stride, detail:
        "the file size \(size) is not a whole number of \(stride)-byte records (dimension \(d)): the last record has only \(partial) bytes")
    }
    return StoredLayout(element: element, dimension: d, count: count, firstRowOffset: 4,
                        rowStride: stride, hasDimensionFields: true)
  }

  // MARK: .npy

  /// The layout of an `.npy` file whose dtype must be one of `supported` (a 2-D C-order array, or a
  /// 1-D array read as one vector), its data size checked against the shape: too short is
  /// `truncated` naming the first incomplete row, too long is `corrupt`. A shape with no rows is an
  /// `emptyFile`.
  static func npy(_ bytes: UnsafeRawBufferPointer, supported: [StoredElement], path: String) throws -> StoredLayout {
    guard bytes.count > 0 else { throw VQError.emptyFile(path: path) }
    let header = try NPYHeader.parse(bytes, path: path)
    let element = try npyElement(header.dtype, supported: supported, path: path)
    let shapeText = PythonLiteral.tuple(header.shape.map { .integer($0) }).pythonText
    let rows: Int, columns: Int
    switch header.shape.count {
    case 2: rows = header.shape[0]; columns = header.shape[1]
    case 1: rows = 1; columns = header.shape[0]  // one vector
    default:
      throw VQError.corrupt(path: path, detail:
        "npy shape \(shapeText) is \(header.shape.count)-D; expected 2-D (count, dimension), or 1-D for one vector")
    }
    guard !header.fortranOrder else {
      throw VQError.corrupt(path: path, detail:
        "npy array of shape \(shapeText) is in Fortran (column-major) order; only C order is supported (save np.ascontiguousarray(x))")
    }
    if header.shape.count == 1 && columns == 0 { throw VQError.emptyFile(path: path) }
    try checkDimension(columns, path: path, "(npy shape \(shapeText))")
    guard rows > 0 else { throw VQError.emptyFile(path: path) }
    let rowBytes = columns * element.byteCount
    let (dataBytes, overflow) = rows.multipliedReportingOverflow(by: rowBytes)
    let available = bytes.count - header.dataOffset
    guard !overflow && dataBytes <= available else {
      let completeRows = available / rowBytes
      throw VQError.truncated(path: path, record: completeRows, byteOffset: header.dataOffset + completeRows * rowBytes,
                              detail: "npy shape \(shapeText) needs \(overflow ? "more than Int.max" : String(dataBytes)) data bytes, the file has \(available)")
    }
    guard dataBytes == available else {
      throw VQError.corrupt(path: path, detail:
        "\(available - dataBytes) bytes follow the \(dataBytes) data bytes that npy shape \(shapeText) describes")
    }
    return StoredLayout(element: element, dimension: columns, count: rows, firstRowOffset: header.dataOffset,
                        rowStride: rowBytes, hasDimensionFields: false)
  }

  /// The stored element of an npy dtype, if it is one of `supported`; else `corrupt` naming the dtype
  /// and what is supported.
  static func npyElement(_ dtype: NPYHeader.DType, supported: [StoredElement], path: String) throws -> StoredElement {
    let supportedText = supported.map(npyDescription).joined(separator: " or ")
    guard case .simple(let descr) = dtype else {
      if case .structured(let text) = dtype {
        throw VQError.corrupt(path: path, detail: "npy dtype \(text) is a structured (record) dtype; supported: \(supportedText)")
      }
      preconditionFailure()
    }
    var order = descr.first ?? "?"
    var code = String(descr.dropFirst())
    if !"<>|=".contains(order) { order = "="; code = descr }  // e.g. 'f4' with no byte order mark
    #if _endian(little)
    let nativeIsLittle = true
    #else
    let nativeIsLittle = false
    #endif
    let element: StoredElement?
    switch code {
    case "f4": element = .float32
    case "f2", "e": element = .float16
    case "u1", "B": element = .uint8
    case "i4": element = .int32
    case "i8": element = .int64
    default: element = nil
    }
    let bigEndian = order == ">" || (order == "=" && !nativeIsLittle)
    if let element, supported.contains(element) {
      if bigEndian && element.byteCount > 1 {
        throw VQError.corrupt(path: path, detail:
          "npy dtype '\(descr)' is big-endian; supported: \(supportedText) (convert with x.astype('<\(code)'))")
      }
      return element
    }
    let name = npyTypeNames[code].map { " (\($0))" } ?? ""
    let hint = supported.contains(.float32) && code.hasPrefix("f") ? " (convert with x.astype(np.float32))"
      : supported.contains(.int32) && (code.hasPrefix("i") || code.hasPrefix("u")) ? " (convert with x.astype(np.int32))" : ""
    throw VQError.corrupt(path: path, detail: "npy dtype '\(descr)'\(name) is not supported; supported: \(supportedText)\(hint)")
  }

  static func npyDescription(_ element: StoredElement) -> String {
    switch element {
    case .float32: return "'<f4' (float32)"
    case .float16: return "'<f2' (float16)"
    case .uint8: return "'|u1' (uint8)"
    case .int32: return "'<i4' (int32)"
    case .int64: return "'<i8' (int64, values within int32)"
    }
  }

  private static let npyTypeNames: [String: String] = [
    "f2": "float16", "f4": "float32", "f8": "float64", "f16": "float128", "c8": "complex64", "c16": "complex128",
    "i1": "int8", "i2": "int16", "i4": "int32", "i8": "int64", "u1": "uint8", "u2": "uint16", "u4": "uint32",
    "u8": "uint64", "b1": "bool", "?": "bool", "O": "object",
  ]
}
