import Testing
import VQ
@testable import VQIndex

/// BlockQuant (b·p = 4) searched with FastScan in the index, against the per-row lookup-table scan, on the
/// embedded MiniLM-small set (2,000 × 384, 100 queries, exact top-10 by inner product).
@Suite struct BlockQuantFastScanIndexTests {
  @Test(arguments: [("blockquant:bits=1,block=4", 0), ("blockquant:bits=2,block=2", 0), ("blockquant:bits=2,block=2", 8)])
  func fastScanRecallMatchesTheCodeScan(spec: String, lists: Int) throws {
    let data = try #require(IndexTestData.miniLM)
    let index = try VectorIndex.build(data.base, configuration: IndexConfiguration(spec: try QuantizerSpec(spec), lists: lists))
    #expect(index.blockQuantFastScan != nil)
    for rerank in [0, 4] {
      let base = SearchParameters(k: 10, rerank: rerank, nprobe: 4)
      var codes = base, fast = base, auto = base
      codes.scan = .codes
      fast.scan = .fastScan
      auto.scan = .auto
      let a = try index.search(data.queries, parameters: codes)
      let b = try index.search(data.queries, parameters: fast)
      #expect(try index.search(data.queries, parameters: auto) == b)  // auto picks FastScan for b·p = 4
      let ra = IndexTestData.recall(a, truth: data.truth, k: 10), rb = IndexTestData.recall(b, truth: data.truth, k: 10)
      // Tolerance 0.02 (20 of the 1,000 query–neighbour pairs): the byte tables move an estimate by at most
      // |S|·M·Δ/2 and typically |S|·Δ·√(M/12), about 1e-3 of the inner products here, which reorders only
      // near-ties; with re-ranking only the candidate set can change, and it rarely does.
      #expect(abs(ra - rb) <= 0.02, "\(spec), lists \(lists), rerank \(rerank): codes \(ra), fastscan \(rb)")
      var same = 0
      for q in 0..<a.count { same += Set(a[q].map(\.id)).intersection(b[q].map(\.id)).count }
      #expect(same >= 950, "\(spec), lists \(lists), rerank \(rerank): \(same) of 1000 ids shared")
    }
  }

  @Test func otherBlockSizesScanCodesAndRefuseFastScan() throws {
    let data = try #require(IndexTestData.miniLM)
    let index = try VectorIndex.build(
      data.base.slice(0..<200), configuration: IndexConfiguration(spec: try QuantizerSpec("blockquant:bits=2,block=3")))
    #expect(index.blockQuantFastScan == nil)
    #expect(throws: VQError.self) {
      try index.search(data.queries[row: 0], parameters: SearchParameters(k: 5, scan: .fastScan))
    }
    #expect(try index.search(data.queries[row: 0], parameters: SearchParameters(k: 5)).count == 5)
  }
}
