/// Partial selection of the `k` best-scoring ids, the ordering every recall number in swift-vq uses.
///
/// Order: a larger score ranks first; equal scores rank the smaller id first (as the shipped ground
/// truth does); NaN ranks below every number. The result is sorted best first.
///
/// Algorithm: one pass with a bounded binary heap whose root is the worst of the `k` kept so far, so a
/// scan of `n` scores costs `O(n + m·log k)` where `m` is the number of candidates that displace the root
/// (few, for `k ≪ n`), then the `k` survivors are sorted.
public enum TopK {
  /// Indices of the `k` largest of `scores` (all of them if `k ≥ scores.count`), best first.
  public static func largest(_ scores: UnsafeBufferPointer<Float>, k: Int) -> [Int] {
    select(count: scores.count, k: k) { scores[$0] }
  }

  /// Indices of the `k` largest of `scores` (all of them if `k ≥ scores.count`), best first.
  public static func largest(_ scores: UnsafeBufferPointer<Double>, k: Int) -> [Int] {
    select(count: scores.count, k: k) { scores[$0] }
  }

  public static func largest(_ scores: [Float], k: Int) -> [Int] {
    scores.withUnsafeBufferPointer { largest($0, k: k) }
  }

  public static func largest(_ scores: [Double], k: Int) -> [Int] {
    scores.withUnsafeBufferPointer { largest($0, k: k) }
  }

  /// The `k` ids among `candidates` with the largest `scores[id]`, best first (re-ranking).
  public static func largest(_ scores: UnsafeBufferPointer<Double>, among candidates: [Int], k: Int) -> [Int] {
    let picked = select(count: candidates.count, k: k, id: { candidates[$0] }) { scores[candidates[$0]] }
    return picked.map { candidates[$0] }
  }

  // MARK: Implementation

  /// Selects among positions `0..<count`; `id(p)` is the id whose smaller value wins ties.
  @inline(__always)
  private static func select<T: BinaryFloatingPoint>(
    count: Int, k: Int, id: (Int) -> Int = { $0 }, score: (Int) -> T
  ) -> [Int] {
    let k = max(0, min(k, count))
    guard k > 0 else { return [] }
    var heap = BoundedWorstFirstHeap<T>(capacity: k)
    for p in 0..<count {
      let s = score(p)
      heap.offer(score: s.isNaN ? -.infinity : s, id: id(p), position: p)
    }
    return heap.positionsBestFirst()
  }
}

/// The `capacity` best (score, id) pairs seen so far, kept as a binary heap whose root is the worst.
private struct BoundedWorstFirstHeap<T: BinaryFloatingPoint> {
  private var scores: [T] = []
  private var ids: [Int] = []
  private var positions: [Int] = []
  private let capacity: Int

  init(capacity: Int) {
    self.capacity = capacity
    scores.reserveCapacity(capacity)
    ids.reserveCapacity(capacity)
    positions.reserveCapacity(capacity)
  }

  /// Whether (s1, id1) ranks below (s2, id2).
  @inline(__always)
  private static func worse(_ s1: T, _ id1: Int, _ s2: T, _ id2: Int) -> Bool {
    s1 < s2 || (s1 == s2 && id1 > id2)
  }

  @inline(__always)
  mutating func offer(score: T, id: Int, position: Int) {
    if scores.count < capacity {
      scores.append(score); ids.append(id); positions.append(position)
      siftUp(scores.count - 1)
    } else if Self.worse(scores[0], ids[0], score, id) {
      scores[0] = score; ids[0] = id; positions[0] = position
      siftDown(0)
    }
  }

  private mutating func swapAt(_ a: Int, _ b: Int) {
    scores.swapAt(a, b); ids.swapAt(a, b); positions.swapAt(a, b)
  }

  private mutating func siftUp(_ start: Int) {
    var child = start
    while child > 0 {
      let parent = (child - 1) / 2
      guard Self.worse(scores[child], ids[child], scores[parent], ids[parent]) else { return }
      swapAt(child, parent)
      child = parent
    }
  }

  private mutating func siftDown(_ start: Int) {
    var parent = start
    let n = scores.count
    while true {
      let left = 2 * parent + 1
      guard left < n else { return }
      var worst = left
      let right = left + 1
      if right < n && Self.worse(scores[right], ids[right], scores[left], ids[left]) { worst = right }
      guard Self.worse(scores[worst], ids[worst], scores[parent], ids[parent]) else { return }
      swapAt(worst, parent)
      parent = worst
    }
  }

  func positionsBestFirst() -> [Int] {
    let order = (0..<scores.count).sorted { a, b in Self.worse(scores[b], ids[b], scores[a], ids[a]) }
    return order.map { positions[$0] }
  }
}
