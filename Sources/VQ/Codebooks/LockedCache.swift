#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A process-wide memo table guarded by a pthread mutex (`Synchronization.Mutex` needs macOS 15; the
/// package supports macOS 14).
///
/// `value(for:make:)` computes a missing value while holding the lock, so a value is computed once even
/// when many threads ask for it at the same moment (codebooks take milliseconds; contention is rare).
/// `@unchecked Sendable`: every access to `storage` happens under `mutex`.
final class LockedCache<Key: Hashable & Sendable, Value: Sendable>: @unchecked Sendable {
  private let mutex: UnsafeMutablePointer<pthread_mutex_t>
  private var storage: [Key: Value] = [:]

  init() {
    mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    mutex.initialize(to: pthread_mutex_t())
    pthread_mutex_init(mutex, nil)
  }

  deinit {
    pthread_mutex_destroy(mutex)
    mutex.deinitialize(count: 1)
    mutex.deallocate()
  }

  func value(for key: Key, make: (Key) throws -> Value) rethrows -> Value {
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    if let v = storage[key] { return v }
    let v = try make(key)
    storage[key] = v
    return v
  }

  /// Number of cached values.
  var count: Int {
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    return storage.count
  }
}
