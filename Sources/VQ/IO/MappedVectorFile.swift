#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
  private let mapping: UnsafeRawBufferPointer

  public init(path: String) throws {
    let format = try VectorIO.knownFormat(path)
    guard let element = StoredElement.floatVectors(format) else {
      throw VQError.invalidArgument("\(path): MappedVectorFile maps float vector files (.fvecs, .bvecs, .npy), not .ivecs")
    }
    let (fd, size) = try POSIXFile.openForReading(path)
    defer { close(fd) }
    guard size > 0 else { throw VQError.emptyFile(path: path) }
    let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
    guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
      throw POSIXFile.ioError(path, "mmap of \(size) bytes failed", errno: errno)
    }
    let mapping = UnsafeRawBufferPointer(start: address, count: size)
    do {
      layout = format == .npy
        ? try StoredLayout.npy(mapping, supported: [.float32, .float16], path: path)
        : try StoredLayout.vecsFromSize(mapping, element: element, path: path)
    } catch {
      munmap(address, size)
      throw error
    }
    self.path = path
    self.format = format
    self.mapping = mapping
    dimension = layout.dimension
    count = layout.count
  }

  deinit {
    munmap(UnsafeMutableRawPointer(mutating: mapping.baseAddress), mapping.count)
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
