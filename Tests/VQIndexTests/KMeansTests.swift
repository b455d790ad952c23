import Testing
import VQ
@testable import VQIndex

/// The IVF index's coarse quantizer on the embedded real data (2,000 × 384 MiniLM, 100 queries).
@Suite("k-means")
struct KMeansTests {
  static func dots(_ x: VectorBatch, row: Int, _ centroids: VectorBatch) -> [Double] {
    (0..<centroids.count).map { c in
      var s = 0.0
      for j in 0..<x.dimension { s += Double(x[row: row][j]) * Double(centroids[row: c][j]) }
      return s
    }
  }

  @Test("spherical k-means: unit centroids, each point in the list of its largest inner product, same on 1 and 2 threads")
  func sphericalCentroids() throws {
    let data = try #require(IndexTestData.miniLM)
    let one = try KMeans(clusters: 16, iterations: 8, seed: 7, threads: 1, spherical: true).train(data.base)
    let two = try KMeans(clusters: 16, iterations: 8, seed: 7, threads: 2, spherical: true).train(data.base)
    #expect(one.values == two.values)
    for c in 0..<one.count {
      let norm = one[row: c].reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
      #expect(abs(norm - 1) <= 1e-5, "centroid \(c): norm \(norm)")
    }
    let (assignment, _) = try KMeans.assign(data.base, to: one)
    for i in stride(from: 0, to: data.base.count, by: 7) {
      let d = Self.dots(data.base, row: i, one)
      #expect(d[assignment[i]] >= d.max()! - 1e-5, "row \(i): list \(assignment[i])")
    }
  }

  @Test("the index trains spherical centroids only when asked, and never for l2")
  func indexOption() throws {
    let data = try #require(IndexTestData.miniLM)
    func centroidNorms(spherical: Bool, metric: IndexMetric) throws -> [Double] {
      let configuration = IndexConfiguration(
        spec: try QuantizerSpec("rabitq:bits=1"), metric: metric, lists: 8, sphericalCentroids: spherical)
      let centroids = try VectorIndex.trainCentroids(data.base, configuration: configuration)
      return (0..<centroids.count).map { c in centroids[row: c].reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }
    }
    #expect(try centroidNorms(spherical: true, metric: .innerProduct).allSatisfy { abs($0 - 1) <= 1e-5 })
    #expect(try centroidNorms(spherical: true, metric: .cosine).allSatisfy { abs($0 - 1) <= 1e-5 })
    // Mean centroids of unit vectors are shorter than 1.
    #expect(try centroidNorms(spherical: false, metric: .innerProduct).allSatisfy { $0 < 0.99 })
    #expect(try centroidNorms(spherical: true, metric: .l2).allSatisfy { $0 < 0.99 })
  }

  /// Probing ranks lists by ⟨q, centroid⟩. With mean centroids (assigned by distance) the lists a query
  /// probes hold fewer of its true neighbours than with spherical centroids, whose assignment and probing
  /// agree. Measured here (16 lists, 2 probes, true top-10 of 100 queries): see the expectation message.
  @Test("spherical centroids put more true neighbours in the probed lists than mean centroids (inner product)")
  func sphericalProbesBetter() throws {
    let data = try #require(IndexTestData.miniLM)
    func coverage(spherical: Bool) throws -> Double {
      let centroids = try KMeans(clusters: 16, iterations: 10, seed: 3, spherical: spherical).train(data.base)
      let (assignment, _) = try KMeans.assign(data.base, to: centroids)
      var found = 0
      for q in 0..<data.queries.count {
        let d = Self.dots(data.queries, row: q, centroids)
        let probed = Set(d.indices.sorted { d[$0] > d[$1] }.prefix(2))
        for t in 0..<10 where probed.contains(assignment[Int(data.truth.values[q * data.truth.columns + t])]) { found += 1 }
      }
      return Double(found) / Double(10 * data.queries.count)
    }
    let spherical = try coverage(spherical: true), mean = try coverage(spherical: false)
    #expect(spherical > mean, "coverage spherical \(spherical), mean centroids \(mean)")
  }
}
