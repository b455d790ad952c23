import Dispatch

/// Work split over the cores in a way that never changes a result.
public enum Parallel {
  /// Splits `0..<count` into `chunks` contiguous ranges (a number the caller fixes, independent of the
  /// machine), runs `body` on them concurrently (at most `threads` at a time when given) and returns the
  /// outcomes in range order. Reducing them in order gives the numbers one thread would; the first
  /// error in range order is rethrown.
  public static func mapChunks<T: Sendable>(
    count: Int, chunks: Int, threads: Int? = nil, _ body: @escaping @Sendable (Range<Int>) throws -> T
  ) throws -> [T] {
    let n = max(0, min(chunks, count))
    guard n > 0 else { return [] }
    let ranges = (0..<n).map { c in (count * c / n)..<(count * (c + 1) / n) }
    let slots = ResultSlots<Result<T, any Error>>(count: n)
    defer { slots.free() }
    let workers = max(1, min(threads ?? n, n))
    if workers == 1 {
      for c in 0..<n { slots.store(Result { try body(ranges[c]) }, at: c) }
    } else {
      // `workers` lanes, lane w takes chunks w, w + workers, …: at most `workers` run at once.
      DispatchQueue.concurrentPerform(iterations: workers) { w in
        var c = w
        while c < n {
          slots.store(Result { try body(ranges[c]) }, at: c)
          c += workers
        }
      }
    }
    return try (0..<n).map { try slots.load($0)!.get() }
  }

  /// Cores the machine offers (at least 1).
  public static var availableCores: Int { max(1, System.activeProcessorCount) }
}

/// One write-once slot per concurrent iteration. `@unchecked Sendable`: each iteration writes only its
/// own slot, and the slots are read after `concurrentPerform` has returned (which orders the writes).
private struct ResultSlots<Value>: @unchecked Sendable {
  private let base: UnsafeMutablePointer<Value?>
  private let count: Int

  init(count: Int) {
    self.count = count
    base = .allocate(capacity: count)
    base.initialize(repeating: nil, count: count)
  }

  func store(_ value: Value, at i: Int) { base[i] = value }
  func load(_ i: Int) -> Value? { base[i] }

  func free() {
    base.deinitialize(count: count)
    base.deallocate()
  }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private enum System {
  static var activeProcessorCount: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}
