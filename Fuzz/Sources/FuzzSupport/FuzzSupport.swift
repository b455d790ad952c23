import CFuzzDriver
#if canImport(Glibc)
import Glibc
#endif

/// Hands control to libFuzzer with `callback` as the test function; returns libFuzzer's exit status.
/// libFuzzer's own flags (`-runs=N`, `-max_total_time=S`, corpus folders) pass through. Exits with
/// libFuzzer's status.
public func runFuzzer(_ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Never {
  var argc = CommandLine.argc
  var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
  exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
}

/// A per-process scratch folder in /dev/shm (memory-backed) or /tmp, created once.
public let scratchFolder: String = {
  let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
  let folder = "\(base)/vq-fuzz-\(getpid())"
  mkdir(folder, 0o700)
  atexit { removeScratch() }
  return folder
}()

private func removeScratch() {
  let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
  let folder = "\(base)/vq-fuzz-\(getpid())"
  if let dir = opendir(folder) {
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      if name != "." && name != ".." { unlink(folder + "/" + name) }
    }
    closedir(dir)
  }
  rmdir(folder)
}

/// Writes `count` bytes at `data` to `scratchFolder/input.<fileExtension>` and returns the path (the
/// readers take paths, and the path's extension chooses the format).
public func writeInput(_ data: UnsafePointer<UInt8>?, _ count: Int, fileExtension: String) -> String {
  let path = "\(scratchFolder)/input.\(fileExtension)"
  let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
  precondition(fd >= 0, "cannot create \(path)")
  var done = 0
  while done < count, let data {
    let n = write(fd, data + done, count - done)
    precondition(n > 0, "cannot write \(path)")
    done += n
  }
  close(fd)
  return path
}

/// The input as a byte array.
public func bytes(_ data: UnsafePointer<UInt8>?, _ count: Int) -> [UInt8] {
  guard let data, count > 0 else { return [] }
  return Array(UnsafeBufferPointer(start: data, count: count))
}
