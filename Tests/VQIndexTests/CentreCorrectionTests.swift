import Testing
import VQ
@testable import VQIndex

/// The IVF index's per-row centre corrections κ = ⟨r, c⟩ − r̂·⟨x̄, P·c⟩ (RaBitQ), on the embedded real data
/// (2,000 × 384 MiniLM, 100 queries).
@Suite("IVF centre corrections")
struct CentreCorrectionTests {
  static func ivf(_ spec: String, lists: Int = 8, corrections: Bool = true, centroids: VectorBatch? = nil,
                  base: VectorBatch? = nil) throws -> VectorIndex {
    let data = try #require(IndexTestData.miniLM)
    return try VectorIndex.build(
      base ?? data.base,
      configuration: IndexConfiguration(
        spec: try QuantizerSpec(spec), lists: lists, centreCorrections: corrections, centroids: centroids))
  }

  @Test("only IVF RaBitQ indexes carry them, 4 bytes per vector, and only when asked")
  func presence() throws {
    let with = try Self.ivf("rabitq:bits=2"), without = try Self.ivf("rabitq:bits=2", corrections: false)
    #expect(with.centreCorrections?.count == 2000 && without.centreCorrections == nil)
    #expect(with.bytesPerVector == without.bytesPerVector + 4)
    #expect(try Self.ivf("eden:bits=2").centreCorrections == nil)
    #expect(try Self.ivf("rabitq:bits=2", lists: 0).centreCorrections == nil)
  }

  /// With the correction the estimate is r̂·⟨x̄, P·(q − c)⟩ + ⟨q, c⟩ + ⟨r, c⟩: for a query equal to a row's
  /// centroid the estimated part vanishes, so the exact estimator gives ⟨c, o⟩ to float rounding, where the
  /// uncorrected one misses by the code's noise on ⟨r, c⟩.
  @Test("a row's estimate at its own centroid is exact")
  func exactAtTheCentroid() throws {
    let data = try #require(IndexTestData.miniLM)
    let index = try Self.ivf("rabitq:bits=3")
    let rabitq = try #require(index.quantizer as? RaBitQ)
    let kappa = try #require(index.centreCorrections)
    let centroids = try #require(index.centroids)
    var worstCorrected = 0.0, worstPlain = 0.0
    for list in 0..<index.listCount {
      let c = centroids[row: list]
      let rotated = try c.withUnsafeBufferPointer { try rabitq.rotate(query: $0).rotated }
      let rows = index.listOffsets[list]..<index.listOffsets[list + 1]
      let estimates = rabitq.exactEstimates(index.codes, rows: rows, rotated: rotated)
      for (k, row) in rows.enumerated() {
        let o = data.base[row: Int(index.ids[row])]
        var exact = 0.0, centreSquares = 0.0
        for j in 0..<o.count { exact += Double(o[j]) * Double(c[j]); centreSquares += Double(c[j]) * Double(c[j]) }
        worstCorrected = max(worstCorrected, abs(centreSquares + estimates[k] + Double(kappa[row]) - exact))
        worstPlain = max(worstPlain, abs(centreSquares + estimates[k] - exact))
      }
    }
    #expect(worstCorrected < 1e-5, "corrected: worst error \(worstCorrected)")
    #expect(worstPlain > 1e-2, "uncorrected: worst error \(worstPlain)")
  }

  @Test("recall@10 without re-ranking rises with the corrections (1 and 2 bits, every one of 8 lists probed)", arguments: [1, 2])
  func recallRises(bits: Int) throws {
    let data = try #require(IndexTestData.miniLM)
    let parameters = SearchParameters(k: 10, rerank: 0, nprobe: 8)
    let with = try Self.ivf("rabitq:bits=\(bits)").search(data.queries, parameters: parameters)
    let without = try Self.ivf("rabitq:bits=\(bits)", corrections: false).search(data.queries, parameters: parameters)
    let a = IndexTestData.recall(with, truth: data.truth, k: 10), b = IndexTestData.recall(without, truth: data.truth, k: 10)
    #expect(a > b, "bits \(bits): with \(a), without \(b)")
  }

  @Test("a file whose flat or non-RaBitQ index carries centre corrections is refused as corrupt, naming the section")
  func refusedWhereTheyDoNotBelong() throws {
    for (spec, lists) in [("rabitq:bits=2", 0), ("eden:bits=2", 4)] {
      var index = try Self.ivf(spec, lists: lists)
      #expect(index.centreCorrections == nil)
      index.centreCorrections = [Float](repeating: 0, count: index.rowCount)
      let path = IndexFileTests.temporaryPath("misplaced-corrections-\(lists).vqx")
      try IndexFile.write(index, to: path)
      do {
        _ = try IndexFile.read(path)
        Issue.record("\(spec) lists \(lists): read a file with misplaced centre corrections")
      } catch let error as VQError {
        guard case .corrupt(_, let detail) = error else { Issue.record("\(error)"); continue }
        #expect(detail.contains("centre corrections"), "\(detail)")
      }
    }
  }

  @Test("add, compact and save → load carry them: the same as building on everything at once")
  func plumbing() throws {
    let data = try #require(IndexTestData.miniLM)
    let whole = try Self.ivf("rabitq:bits=2")
    let centroids = try #require(whole.centroids)
    var grown = try Self.ivf("rabitq:bits=2", centroids: centroids, base: data.base.slice(0..<1200))
    _ = try grown.add(data.base.slice(1200..<2000))
    #expect(grown.ids == whole.ids && grown.centreCorrections == whole.centreCorrections)
    let parameters = SearchParameters(k: 10, rerank: 0, nprobe: 3)
    #expect(try grown.search(data.queries, parameters: parameters) == whole.search(data.queries, parameters: parameters))

    try grown.delete([5, 77, 1500])
    var compacted = grown
    compacted.compact()
    #expect(try compacted.search(data.queries, parameters: parameters) == grown.search(data.queries, parameters: parameters))
    let path = IndexFileTests.temporaryPath("centre-corrections.vqx")
    try IndexFile.write(compacted, to: path)
    for mapped in [false, true] {
      let loaded = try IndexFile.read(path, mapped: mapped)
      #expect(loaded.centreCorrections == compacted.centreCorrections)
      #expect(try loaded.search(data.queries, parameters: parameters) == compacted.search(data.queries, parameters: parameters))
    }
  }
}
