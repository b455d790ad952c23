#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Atomic file writing, used by every writer in swift-vq (vector files, index files).
///
/// The content goes to a temporary file in the target's folder (`.<name>.tmp-<pid>-<random>`); it is
/// then flushed, fsync'ed, closed and renamed over `path`, and the folder is fsync'ed so the rename is
/// durable. Readers therefore see either the old file or the complete new one, never a partial file.
/// If `body` or any step before the rename throws, the temporary file is removed and an existing file
/// at `path` is left untouched. A file replaced this way keeps the permission bits of the old one.
/// A writer killed before its rename (SIGKILL, power loss) leaves its temporary file behind; the next
/// successful write of the same target removes the temporary files of writers that are no longer
/// running (their pid is in the name), so they never accumulate.
public enum AtomicFile {
  /// Writes the file at `path` from what `body` writes into the sink.
  public static func write(to path: String, _ body: (inout FileSink) throws -> Void) throws {
    let (folder, name) = POSIXFile.split(path)
    guard !name.isEmpty else { throw VQError.io(path: path, detail: "is a folder path, not a file path") }

    var existing = stat()
    let replacesFile = stat(path, &existing) == 0
    if replacesFile && existing.st_mode & S_IFMT == S_IFDIR {
      throw VQError.io(path: path, detail: "is a directory, cannot write a file there")
    }

    let (fd, temporaryPath) = try createTemporaryFile(folder: folder, name: name, target: path)
    let state = FileSink.State(fd: fd, path: path)
    var sink = FileSink(state: state)
    do {
      try body(&sink)
      try state.flush()
      if replacesFile { _ = fchmod(fd, existing.st_mode & 0o7777) }  // keep the old permissions
      var result: Int32
      repeat { result = fsync(fd) } while result != 0 && errno == EINTR
      guard result == 0 else { throw POSIXFile.ioError(path, "fsync failed", errno: errno) }
      state.fd = -1
      guard close(fd) == 0 else {
        let code = errno
        throw POSIXFile.ioError(path, "close failed", errno: code)
      }
      guard rename(temporaryPath, path) == 0 else {
        throw POSIXFile.ioError(path, "cannot rename the temporary file into place", errno: errno)
      }
    } catch {
      if state.fd >= 0 { close(state.fd); state.fd = -1 }
      unlink(temporaryPath)
      throw error
    }
    syncFolder(folder)
    removeStaleTemporaryFiles(folder: folder, name: name)
  }

  /// Removes `.<name>.tmp-<pid>-<tag>` files in `folder` whose writer process no longer exists
  /// (`kill(pid, 0)` fails with ESRCH). Files of live writers, of this process and of other targets
  /// are left alone. Best effort: failures are ignored.
  static func removeStaleTemporaryFiles(folder: String, name: String) {
    guard let directory = opendir(folder) else { return }
    defer { closedir(directory) }
    let prefix = ".\(name).tmp-"
    var stale: [String] = []
    while let entry = readdir(directory) {
      let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      guard entryName.hasPrefix(prefix) else { continue }
      let rest = entryName.dropFirst(prefix.count)
      guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), pid > 0, pid != getpid() else { continue }
      if kill(pid, 0) != 0 && errno == ESRCH { stale.append(entryName) }
    }
    for entryName in stale { unlink((folder == "/" ? "" : folder) + "/" + entryName) }
  }

  /// Creates a new, empty temporary file next to the target (O_EXCL, so never someone else's file).
  private static func createTemporaryFile(folder: String, name: String, target: String) throws -> (Int32, String) {
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<16 {
      let tag = String(generator.next() & 0xFFFF_FFFF_FFFF, radix: 36)
      let temporaryPath = (folder == "/" ? "" : folder) + "/.\(name).tmp-\(getpid())-\(tag)"
      var fd: Int32
      repeat {
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
      } while fd < 0 && errno == EINTR
      if fd >= 0 { return (fd, temporaryPath) }
      if errno != EEXIST {
        throw POSIXFile.ioError(target, "cannot create a temporary file in '\(folder)'", errno: errno)
      }
    }
    throw VQError.io(path: target, detail: "cannot create a unique temporary file in '\(folder)'")
  }

  /// Makes the rename durable. Best effort: the new file is already in place, and some file systems
  /// refuse fsync on a folder, so a failure here is not reported.
  private static func syncFolder(_ folder: String) {
    let fd = open(folder, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return }
    _ = fsync(fd)
    close(fd)
  }
}

/// The buffered output of one `AtomicFile.write`. Writes are collected in a 1 MiB buffer and handed
/// to the system in large blocks; blocks larger than the buffer go straight through.
///
/// A sink is only valid inside the `AtomicFile.write` body that received it; using it afterwards
/// throws `VQError.io`.
public struct FileSink {
  final class State {
    var fd: Int32
    let path: String
    let capacity = 1 << 20
    let buffer: UnsafeMutableRawPointer
    var used = 0
    var flushed = 0

    init(fd: Int32, path: String) {
      self.fd = fd
      self.path = path
      buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
    }

    deinit { buffer.deallocate() }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
      guard fd >= 0 else {
        throw VQError.io(path: path, detail: "write to a FileSink after its AtomicFile.write finished")
      }
      guard let source = bytes.baseAddress, bytes.count > 0 else { return }
      if bytes.count <= capacity - used {
        (buffer + used).copyMemory(from: source, byteCount: bytes.count)
        used += bytes.count
        return
      }
      try flush()
      if bytes.count >= capacity {
        try POSIXFile.writeFully(fd, bytes, path: path)
        flushed += bytes.count
      } else {
        buffer.copyMemory(from: source, byteCount: bytes.count)
        used = bytes.count
      }
    }

    func appendZeros(_ count: Int) throws {
      var left = count
      while left > 0 {
        if used == capacity { try flush() }
        let n = min(left, capacity - used)
        (buffer + used).initializeMemory(as: UInt8.self, repeating: 0, count: n)
        used += n
        left -= n
      }
    }

    func flush() throws {
      guard used > 0 else { return }
      try POSIXFile.writeFully(fd, UnsafeRawBufferPointer(start: buffer, count: used), path: path)
      flushed += used
      used = 0
    }
  }

  let state: State

  init(state: State) { self.state = state }

  /// The path being written (the final path, not the temporary one).
  public var path: String { state.path }

  /// Bytes written so far (the offset of the next byte in the file).
  public var bytesWritten: Int { state.flushed + state.used }

  /// Appends raw bytes.
  public mutating func write(_ bytes: UnsafeRawBufferPointer) throws { try state.append(bytes) }

  /// Appends raw bytes.
  public mutating func write(_ bytes: [UInt8]) throws {
    try bytes.withUnsafeBytes { try state.append($0) }
  }

  /// Appends the UTF-8 bytes of `string` (no terminator, no length prefix).
  public mutating func write(utf8 string: String) throws {
    var copy = string
    try copy.withUTF8 { try state.append(UnsafeRawBufferPointer($0)) }
  }

  /// Appends a scalar value (an integer or floating-point number) in little-endian byte order.
  /// Buffers and arrays of scalars go to the overloads below; do not pass other composite values.
  public mutating func write<T: BitwiseCopyable>(littleEndian value: T) throws {
    #if _endian(big)
    var bytes = withUnsafeBytes(of: value) { Array($0.reversed()) }
    try bytes.withUnsafeBytes { try state.append($0) }
    #else
    try withUnsafeBytes(of: value) { try state.append($0) }
    #endif
  }

  /// Appends scalar values (integers or floating-point numbers), each in little-endian byte order.
  public mutating func write<T: BitwiseCopyable>(littleEndian values: UnsafeBufferPointer<T>) throws {
    #if _endian(big)
    for v in values { try write(littleEndian: v) }
    #else
    try state.append(UnsafeRawBufferPointer(values))
    #endif
  }

  /// Appends scalar values, each in little-endian byte order. (This overload exists so that a mutable
  /// buffer is not taken for one `BitwiseCopyable` value, which would write the pointer itself.)
  public mutating func write<T: BitwiseCopyable>(littleEndian values: UnsafeMutableBufferPointer<T>) throws {
    try write(littleEndian: UnsafeBufferPointer(values))
  }

  /// Appends scalar values, each in little-endian byte order.
  public mutating func write<T: BitwiseCopyable>(littleEndian values: [T]) throws {
    try values.withUnsafeBufferPointer { try write(littleEndian: $0) }
  }

  /// Appends raw bytes.
  public mutating func write(_ bytes: UnsafeMutableRawBufferPointer) throws { try state.append(UnsafeRawBufferPointer(bytes)) }

  /// Appends `count` zero bytes.
  public mutating func writeZeros(count: Int) throws {
    precondition(count >= 0)
    try state.appendZeros(count)
  }

  /// Appends zero bytes until `bytesWritten` is a multiple of `alignment` (for 64-byte aligned sections).
  public mutating func pad(toMultipleOf alignment: Int) throws {
    precondition(alignment > 0)
    let rest = bytesWritten % alignment
    if rest != 0 { try state.appendZeros(alignment - rest) }
  }
}
