import Dispatch
import Foundation

/// Work split over the cores in a way that never changes a result.
enum Parallel {
  /// The cores the process may use.
  static var defaultThreads: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

  /// Splits `0..<count` into `chunks` contiguous ranges (a fixed number, independent of the machine),
  /// runs `body` on them on up to `threads` threads and returns the outcomes in range order. Reducing those
  /// outcomes in order gives the same numbers as one thread would, whatever `threads` is; the first error
  /// in range order is rethrown.
  static func mapChunks<T: Sendable>(
    count: Int, chunks: Int, threads: Int = defaultThreads, _ body: @escaping @Sendable (Range<Int>) throws -> T
  ) throws -> [T] {
    let n = max(0, min(chunks, count))
    guard n > 0 else { return [] }
    let ranges = (0..<n).map { c in (count * c / n)..<(count * (c + 1) / n) }
    let workers = max(1, min(threads, n))
    if workers == 1 { return try ranges.map(body) }
    let slots = Slots<Result<T, any Error>>(count: n)
    defer { slots.free() }
    // Worker w takes chunks w, w + workers, ...: each chunk is written by exactly one worker.
    DispatchQueue.concurrentPerform(iterations: workers) { w in
      for c in stride(from: w, to: n, by: workers) {
        slots.store(Result { try body(ranges[c]) }, at: c)
      }
    }
    return try (0..<n).map { try slots.load($0)!.get() }
  }
}

/// One write-once slot per concurrent iteration. `@unchecked Sendable`: each iteration writes only its
/// own slot, and the slots are read after `concurrentPerform` has returned (which orders the writes).
private struct Slots<Value>: @unchecked Sendable {
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
