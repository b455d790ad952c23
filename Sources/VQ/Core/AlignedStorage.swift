/// A fixed-size, 64-byte-aligned buffer: the storage under `VectorBatch` and `CodeBuffer`. Value
/// semantics come from the owners (copy-on-write through `isKnownUniquelyReferenced`).
///
/// Either owned (allocated here, zero-initialized, freed on deinit) or borrowed: a view of memory kept
/// alive by `owner` (a memory-mapped `.vqx` section), never written and never freed here. Owners copy a
/// borrowed storage before their first write (`needsCopyBeforeWrite`), so a read-only mapping is never
/// written through.
///
/// `@unchecked Sendable`: the owners only mutate a uniquely referenced, owned instance.
final class AlignedStorage<Element: BitwiseCopyable>: @unchecked Sendable {
  static var alignment: Int { 64 }
  let count: Int
  let pointer: UnsafeMutablePointer<Element>
  /// What keeps borrowed memory alive; nil for owned storage.
  private let owner: AnyObject?

  init(count: Int) {
    precondition(count >= 0)
    self.count = count
    let bytes = max(count * MemoryLayout<Element>.stride, 1)
    let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Self.alignment)
    raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
    pointer = raw.bindMemory(to: Element.self, capacity: max(count, 1))
    owner = nil
  }

  /// A view of `count` elements at `start` (aligned to the element), kept alive by `owner`.
  init(borrowing start: UnsafeRawPointer, count: Int, owner: AnyObject) {
    precondition(count >= 0)
    precondition(Int(bitPattern: start) % MemoryLayout<Element>.alignment == 0, "misaligned borrowed storage")
    self.count = count
    pointer = UnsafeMutableRawPointer(mutating: start).assumingMemoryBound(to: Element.self)
    self.owner = owner
  }

  var isBorrowed: Bool { owner != nil }

  func copy() -> AlignedStorage<Element> {
    let other = AlignedStorage<Element>(count: count)
    other.pointer.update(from: pointer, count: count)
    return other
  }

  deinit {
    if owner == nil { UnsafeMutableRawPointer(pointer).deallocate() }
  }
}

extension AlignedStorage {
  /// Makes `storage` safe to write: unique and owned.
  static func prepareForWrite(_ storage: inout AlignedStorage<Element>) {
    if !isKnownUniquelyReferenced(&storage) || storage.isBorrowed { storage = storage.copy() }
  }
}
