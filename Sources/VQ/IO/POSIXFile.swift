#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin wrappers over the POSIX calls the readers and writers use, turning every failure into a
/// `VQError.io` that names the path, the operation and the system's reason.
enum POSIXFile {
  /// The system's description of error number `code` ("No such file or directory").
  static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }

  static func ioError(_ path: String, _ operation: String, errno code: Int32) -> VQError {
    .io(path: path, detail: "\(operation): \(reason(code))")
  }

  /// Opens `path` read-only and returns the descriptor and size of the regular file there.
  /// Throws `io` for a missing, unreadable or non-regular path (a directory says so).
  static func openForReading(_ path: String) throws -> (fd: Int32, size: Int) {
    guard !path.isEmpty else { throw VQError.io(path: path, detail: "empty path") }
    var fd: Int32
    repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
    guard fd >= 0 else { throw ioError(path, "cannot open for reading", errno: errno) }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      let code = errno
      close(fd)
      throw ioError(path, "cannot stat", errno: code)
    }
    let kind = info.st_mode & S_IFMT
    guard kind == S_IFREG else {
      close(fd)
      throw VQError.io(path: path, detail: kind == S_IFDIR ? "is a directory, not a file" : "is not a regular file")
    }
    return (fd, Int(info.st_size))
  }

  /// Reads exactly `count` bytes from `fd` into `buffer` (retrying short reads and EINTR).
  static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int, path: String) throws {
    var done = 0
    while done < count {
      let n = read(fd, buffer + done, count - done)
      if n < 0 {
        if errno == EINTR { continue }
        throw ioError(path, "read failed at byte \(done)", errno: errno)
      }
      if n == 0 {
        throw VQError.io(path: path, detail: "file shrank while being read (got \(done) of \(count) bytes)")
      }
      done += n
    }
  }

  /// Calls `body` with the whole content of the regular file at `path`, read once into a
  /// 64-byte-aligned buffer that is freed afterwards.
  static func withContents<R>(of path: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
    let (fd, size) = try openForReading(path)
    defer { close(fd) }
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(size, 1), alignment: 64)
    defer { buffer.deallocate() }
    try readFully(fd, into: buffer, count: size, path: path)
    return try body(UnsafeRawBufferPointer(start: buffer, count: size))
  }

  /// Writes all of `bytes` to `fd` (retrying short writes and EINTR).
  static func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
    guard let base = bytes.baseAddress else { return }
    var done = 0
    while done < bytes.count {
      let n = write(fd, base + done, bytes.count - done)
      if n < 0 {
        if errno == EINTR { continue }
        throw ioError(path, "write failed", errno: errno)
      }
      done += n
    }
  }

  /// The folder part and the file name of `path` ("a/b.fvecs" → ("a", "b.fvecs"); "b" → (".", "b")).
  static func split(_ path: String) -> (folder: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let folder = String(path[..<slash])
    return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
  }
}
