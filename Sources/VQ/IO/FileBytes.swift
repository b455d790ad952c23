#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of a whole file, either memory-mapped (read-only, private; pages load on demand, so a
/// file larger than memory can be searched) or read into a 64-byte-aligned heap buffer. The bytes live
/// as long as the object: views borrowed from it (`CodeBuffer(borrowingCodes:…owner:)`) keep it alive.
///
/// As with any mapping, truncating a mapped file while it is in use makes the process fault; the
/// writers in swift-vq never truncate in place (they write a temporary file and rename it).
public final class FileBytes: @unchecked Sendable {
  // @unchecked Sendable: the bytes never change after init.
  public let path: String
  public let isMapped: Bool
  public let bytes: UnsafeRawBufferPointer

  /// Opens `path` (a regular, non-empty file). `mapped: false` reads it whole.
  public init(path: String, mapped: Bool) throws {
    let (fd, size) = try POSIXFile.openForReading(path)
    defer { close(fd) }
    guard size > 0 else { throw VQError.emptyFile(path: path) }
    if mapped {
      let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
      guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
        throw POSIXFile.ioError(path, "mmap of \(size) bytes failed", errno: errno)
      }
      bytes = UnsafeRawBufferPointer(start: address, count: size)
    } else {
      let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
      do {
        try POSIXFile.readFully(fd, into: buffer, count: size, path: path)
      } catch {
        buffer.deallocate()
        throw error
      }
      bytes = UnsafeRawBufferPointer(start: buffer, count: size)
    }
    self.path = path
    isMapped = mapped
  }

  deinit {
    let base = UnsafeMutableRawPointer(mutating: bytes.baseAddress!)
    if isMapped { munmap(base, bytes.count) } else { base.deallocate() }
  }

  public var count: Int { bytes.count }
}
