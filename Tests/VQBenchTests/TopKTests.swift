import Testing
import VQ
import VQTestSupport

@Suite struct TopKTests {
  /// The reference: a full sort by (score descending, id ascending), NaN last.
  static func referenceTop(_ scores: [Double], k: Int) -> [Int] {
    let key = { (i: Int) in scores[i].isNaN ? -Double.infinity : scores[i] }
    return Array(scores.indices.sorted { a, b in key(a) > key(b) || (key(a) == key(b) && a < b) }.prefix(k))
  }

  @Test func tiesGoToTheSmallerId() {
    let scores: [Float] = [1, 3, 3, 2, 3, 0, 3]
    #expect(TopK.largest(scores, k: 3) == [1, 2, 4])
    #expect(TopK.largest(scores, k: 5) == [1, 2, 4, 6, 3])
    // Ties decided at the boundary: the heap must keep the smaller ids, whatever order they arrive in.
    let flat = [Double](repeating: 0.5, count: 50)
    #expect(TopK.largest(flat, k: 10) == Array(0..<10))
  }

  @Test func nanRanksLastAndSmallInputsWork() {
    let scores: [Float] = [.nan, 1, -.infinity, 2, .nan]
    #expect(TopK.largest(scores, k: 2) == [3, 1])
    // -inf and NaN tie below every number, then by id.
    #expect(TopK.largest(scores, k: 5) == [3, 1, 0, 2, 4])
    #expect(TopK.largest(scores, k: 0) == [])
    #expect(TopK.largest([Float](), k: 3) == [])
    #expect(TopK.largest(scores, k: 99).count == 5)
  }

  @Test(arguments: [1, 2, 7, 10, 40, 100, 999, 1000, 1001])
  func matchesAFullSort(k: Int) {
    var g = SeededGenerator(seed: 42)
    // Quantized scores, so that many ties occur.
    let scores = (0..<1000).map { _ in (g.nextGaussian() * 8).rounded() / 8 }
    #expect(TopK.largest(scores, k: k) == Self.referenceTop(scores, k: k))
    let floats = scores.map(Float.init)
    #expect(TopK.largest(floats, k: k) == Self.referenceTop(scores, k: k))
  }

  @Test func reranksAmongCandidates() {
    let exact: [Double] = [0.1, 0.9, 0.5, 0.9, 0.7, 0.3]
    exact.withUnsafeBufferPointer { s in
      // Candidates in any order; ties (ids 1 and 3) still go to the smaller id.
      #expect(TopK.largest(s, among: [5, 3, 0, 1, 4], k: 3) == [1, 3, 4])
      #expect(TopK.largest(s, among: [2], k: 3) == [2])
    }
  }

  @Test func recallFraction() {
    #expect(Recall.fraction(found: [1, 2, 3, 4], truth: [4, 3, 9, 8]) == 0.5)
    #expect(Recall.fraction(found: [Int](), truth: [1]) == 0)
    #expect(Recall.fraction(found: [1], truth: [Int]()) == 1)
  }
}
