extension VectorIO {
  /// Writes float vectors: `.fvecs`, `.npy` (float32, or float16 via `npyDType`), or `.bvecs` if
  /// every value is an integer in 0...255.
  ///
  /// Throws before anything is written for an empty batch, a NaN or ±Inf (`nonFinite`), a value
  /// `.bvecs` cannot hold or one beyond the float16 range (`outOfRange`, naming row and column).
  /// The file is written atomically (`AtomicFile`): on any error no file is left behind and an
  /// existing file at `path` is untouched. float16 rounds to nearest even (exact for values that
  /// binary16 represents; magnitudes below 2⁻²⁵ become zero).
  public static func writeVectors(_ batch: VectorBatch, to path: String, npyDType: NPYFloatType = .float32) throws {
    let format = try knownFormat(path)
    guard batch.count > 0 else { throw VQError.invalidArgument("\(path): no vectors to write (the batch is empty)") }
    guard batch.dimension <= maximumDimension else {
      throw VQError.outOfRange("\(path): dimension \(batch.dimension) is beyond the readable maximum \(maximumDimension)")
    }
    try batch.validateFinite(source: path)
    let d = batch.dimension
    switch format {
    case .fvecs:
      try AtomicFile.write(to: path) { sink in
        try batch.withUnsafeBufferPointer { values in
          for r in 0..<batch.count {
            try sink.write(littleEndian: Int32(d))
            try sink.write(littleEndian: UnsafeBufferPointer(rebasing: values[(r * d)..<((r + 1) * d)]))
          }
        }
      }
    case .bvecs:
      let bytes = try bvecsBytes(batch, path: path)
      try AtomicFile.write(to: path) { sink in
        try bytes.withUnsafeBytes { all in
          for r in 0..<batch.count {
            try sink.write(littleEndian: Int32(d))
            try sink.write(UnsafeRawBufferPointer(rebasing: all[(r * d)..<((r + 1) * d)]))
          }
        }
      }
    case .npy:
      switch npyDType {
      case .float32:
        try AtomicFile.write(to: path) { sink in
          try sink.write(NPYHeader.encode(descr: "<f4", shape: [batch.count, d]))
          try batch.withUnsafeBufferPointer { try sink.write(littleEndian: $0) }
        }
      case .float16:
        let halves = try float16Bits(batch, path: path)
        try AtomicFile.write(to: path) { sink in
          try sink.write(NPYHeader.encode(descr: "<f2", shape: [batch.count, d]))
          try halves.withUnsafeBufferPointer { try sink.write(littleEndian: $0) }
        }
      }
    case .ivecs:
      throw VQError.invalidArgument(
        "\(path): an .ivecs file holds int32 ids; write float vectors as .fvecs, .bvecs or .npy, ids with VectorIO.writeIntVectors")
    }
  }

  /// Writes int32 vectors (ground-truth ids) as `.ivecs` or `.npy` `'<i4'`, atomically.
  public static func writeIntVectors(_ m: IntMatrix, to path: String) throws {
    let format = try knownFormat(path)
    guard m.rows > 0 && m.columns > 0 else {
      throw VQError.invalidArgument("\(path): no values to write (the matrix is \(m.rows)×\(m.columns))")
    }
    guard m.columns <= maximumDimension else {
      throw VQError.outOfRange("\(path): \(m.columns) columns is beyond the readable maximum \(maximumDimension)")
    }
    let d = m.columns
    switch format {
    case .ivecs:
      try AtomicFile.write(to: path) { sink in
        try m.values.withUnsafeBufferPointer { values in
          for r in 0..<m.rows {
            try sink.write(littleEndian: Int32(d))
            try sink.write(littleEndian: UnsafeBufferPointer(rebasing: values[(r * d)..<((r + 1) * d)]))
          }
        }
      }
    case .npy:
      try AtomicFile.write(to: path) { sink in
        try sink.write(NPYHeader.encode(descr: "<i4", shape: [m.rows, d]))
        try m.values.withUnsafeBufferPointer { try sink.write(littleEndian: $0) }
      }
    case .fvecs, .bvecs:
      throw VQError.invalidArgument("\(path): int32 vectors are written as .ivecs or .npy, not .\(format.rawValue)")
    }
  }

  /// The values as bytes, or `outOfRange` at the first value that is not an integer in 0...255.
  private static func bvecsBytes(_ batch: VectorBatch, path: String) throws -> [UInt8] {
    let d = batch.dimension
    return try batch.withUnsafeBufferPointer { values in
      try [UInt8](unsafeUninitializedCapacity: values.count) { out, initialized in
        for i in 0..<values.count {
          guard let byte = UInt8(exactly: values[i]) else {
            throw VQError.outOfRange(
              "\(path): .bvecs stores integers 0...255, but row \(i / d), column \(i % d) is \(values[i])")
          }
          out[i] = byte
          initialized = i + 1
        }
      }
    }
  }

  /// The values rounded to binary16 bits, or `outOfRange` at the first value beyond ±65504 after rounding.
  private static func float16Bits(_ batch: VectorBatch, path: String) throws -> [UInt16] {
    let d = batch.dimension
    return try batch.withUnsafeBufferPointer { values in
      try [UInt16](unsafeUninitializedCapacity: values.count) { out, initialized in
        for i in 0..<values.count {
          let h = HalfPrecision.bits(from: values[i])
          guard h & 0x7C00 != 0x7C00 else {
            throw VQError.outOfRange(
              "\(path): row \(i / d), column \(i % d) is \(values[i]), beyond the float16 range ±65504")
          }
          out[i] = h
          initialized = i + 1
        }
      }
    }
  }
}
