/// A fixed-size, 64-byte-aligned, zero-initialized heap buffer: the storage under `VectorBatch` and
/// `CodeBuffer`. Value semantics come from the owners (copy-on-write through `isKnownUniquelyReferenced`).
///
/// `@unchecked Sendable`: the owners only mutate a uniquely referenced instance.
final class AlignedStorage<Element: BitwiseCopyable>: @unchecked Sendable {
  static var alignment: Int { 64 }
  let count: Int
  let pointer: UnsafeMutablePointer<Element>

  init(count: Int) {
    precondition(count >= 0)
    self.count = count
    let bytes = max(count * MemoryLayout<Element>.stride, 1)
    let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Self.alignment)
    raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
    pointer = raw.bindMemory(to: Element.self, capacity: max(count, 1))
  }

  func copy() -> AlignedStorage<Element> {
    let other = AlignedStorage<Element>(count: count)
    other.pointer.update(from: pointer, count: count)
    return other
  }

  deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}
