import Testing
import VQ
@testable import VQIndex

@Suite("scan threshold filter")
struct ScanFilterTests {
  /// `forEachRow` may skip a group of 16 only when no lane passes: every row at or above the threshold is
  /// visited, in increasing order, once; NaN lanes follow the predicate (here `.!(x .< t)`, which keeps them).
  @Test(arguments: [0, 5, 16, 33, 1000])
  func visitsEveryPassingRow(count: Int) {
    var g = SeededGenerator(seed: UInt64(count) + 5)
    var values = (0..<count).map { _ in Float.random(in: -1...1, using: &g) }
    for k in stride(from: 3, to: count, by: 97) { values[k] = .nan }
    for threshold: Float in [-2, 0.9, 0.99, 2] {
      var visited: [Int] = []
      values.withUnsafeBufferPointer { v in
        VectorIndex.forEachRow(of: v, passing: { .!($0 .< SIMD16(repeating: threshold)) }) { visited.append($0) }
      }
      #expect(visited == visited.sorted() && Set(visited).count == visited.count)
      let needed = values.indices.filter { !(values[$0] < threshold) }
      #expect(Set(needed).isSubset(of: Set(visited)), "threshold \(threshold)")
      if threshold == 2 && count >= 1000 {
        // Only the groups holding a NaN (and the short tail) are visited.
        #expect(visited.count <= 16 * 11 + 15, "visited \(visited.count)")
      }
    }
  }
}
