import RealModule
import VQ
import VQKernels

/// Lloyd's k-means with k-means++ seeding, as the IVF index trains its coarse quantizer.
///
/// Deterministic for a given seed on every machine and thread count: the seeding draws from one
/// `SeededGenerator`; assignments are computed in fixed chunks over both cores and the centroid sums
/// are reduced in chunk order in Double. An empty cluster is re-seeded with the point farthest from
/// its centroid (ties: smallest index), as FAISS does in spirit, so every list stays populated.
public struct KMeans: Sendable {
  public var clusters: Int
  public var iterations: Int
  public var seed: UInt64
  public var threads: Int?

  /// Spherical k-means: every centroid is scaled to unit norm after seeding and after each update, so the
  /// nearest centroid (L2) is the one with the largest inner product. The IVF index trains this way for
  /// the inner-product and cosine metrics, whose probes rank lists by ⟨q, centroid⟩ (as FAISS's IVF does for
  /// METRIC_INNER_PRODUCT): with mean centroids the assignment (distance) and the probing (inner product)
  /// disagree, and long centroids draw probes they do not deserve.
  public var spherical: Bool

  public init(clusters: Int, iterations: Int = 20, seed: UInt64 = 42, threads: Int? = nil, spherical: Bool = false) {
    self.clusters = clusters
    self.iterations = iterations
    self.seed = seed
    self.threads = threads
    self.spherical = spherical
  }

  /// Fixed chunk count for the parallel passes (independent of the machine, so results are too).
  static let chunks = 16

  /// Trains on `sample` and returns the `clusters × dimension` centroids.
  public func train(_ sample: VectorBatch) throws -> VectorBatch {
    let n = sample.count, d = sample.dimension
    guard clusters >= 1 else { throw VQError.outOfRange("lists = \(clusters) is out of range: lists must be 1 or more") }
    guard n >= clusters else {
      throw VQError.outOfRange("lists = \(clusters) is out of range: the training sample has only \(n) vectors (need at least one per list)")
    }
    var centroids = seedPlusPlus(sample)
    if spherical { centroids = centroids.unitRowsKeepingZeros() }
    for _ in 0..<iterations {
      let (assignment, distances) = try Self.assign(sample, to: centroids, threads: threads)
      var sums = [Double](repeating: 0, count: clusters * d)
      var sizes = [Int](repeating: 0, count: clusters)
      sample.withUnsafeBufferPointer { x in
        for i in 0..<n {
          let c = assignment[i]
          sizes[c] += 1
          let row = x.baseAddress! + i * d
          for j in 0..<d { sums[c * d + j] += Double(row[j]) }
        }
      }
      // Empty clusters take the points farthest from their centroids, one each.
      var taken = Set<Int>()
      for c in 0..<clusters where sizes[c] == 0 {
        var best = -1
        var bestDistance = -Float.infinity
        for i in 0..<n where !taken.contains(i) && distances[i] > bestDistance {
          best = i
          bestDistance = distances[i]
        }
        guard best >= 0 else { break }
        taken.insert(best)
        sample.withRow(best) { row in for j in 0..<d { sums[c * d + j] = Double(row[j]) } }
        sizes[c] = 1
      }
      centroids.withUnsafeMutableBufferPointer { out in
        for c in 0..<clusters where sizes[c] > 0 {
          for j in 0..<d { out[c * d + j] = Float(sums[c * d + j] / Double(sizes[c])) }
        }
      }
      if spherical { centroids = centroids.unitRowsKeepingZeros() }
    }
    return centroids
  }

  /// k-means++: the first centre uniformly, each next one with probability ∝ squared distance.
  func seedPlusPlus(_ sample: VectorBatch) -> VectorBatch {
    let n = sample.count, d = sample.dimension
    var generator = SeededGenerator(seed: seed, stream: 0x6B6D_6561_6E73)  // "kmeans"
    var centroids = VectorBatch(dimension: d, count: clusters)
    var nearest = [Double](repeating: .infinity, count: n)
    var chosen = Int(generator.next() % UInt64(n))
    sample.withUnsafeBufferPointer { x in
      centroids.withUnsafeMutableBufferPointer { out in
        for c in 0..<clusters {
          (out.baseAddress! + c * d).update(from: x.baseAddress! + chosen * d, count: d)
          guard c + 1 < clusters else { break }
          var total = 0.0
          let centre = out.baseAddress! + c * d
          for i in 0..<n {
            let distance = Double(Self.squaredDistance(x.baseAddress! + i * d, centre, d))
            if distance < nearest[i] { nearest[i] = distance }
            total += nearest[i]
          }
          if total <= 0 {
            // Every point coincides with a chosen centre: take the next index not yet used.
            chosen = (chosen + 1) % n
            continue
          }
          let target = Double(generator.next() >> 11) * 0x1p-53 * total
          var running = 0.0
          chosen = n - 1
          for i in 0..<n {
            running += nearest[i]
            if running > target { chosen = i; break }
          }
        }
      }
    }
    return centroids
  }

  /// The nearest centroid of every row (ties: smallest centroid index) and its squared distance.
  ///
  /// ‖x − c‖² = ‖x‖² − 2⟨x, c⟩ + ‖c‖², with four centroids per pass over x (four independent relaxed
  /// dot products share each load of x), so the assignment runs at several times the speed of the direct
  /// difference loop. The result is deterministic: the same arithmetic on every thread count.
  public static func assign(_ x: VectorBatch, to centroids: VectorBatch, threads: Int? = nil) throws -> (
    assignment: [Int], distances: [Float]
  ) {
    let d = x.dimension, k = centroids.count
    let centroidNorms = centroids.squaredNorms()
    let parts = try Parallel.mapChunks(count: x.count, chunks: chunks, threads: threads) { range in
      var assignment = [Int](repeating: 0, count: range.count)
      var distances = [Float](repeating: 0, count: range.count)
      x.withUnsafeBufferPointer { xs in
        centroids.withUnsafeBufferPointer { cs in
          withUnsafeTemporaryAllocation(of: Float.self, capacity: k) { dots in
            for i in range {
              let row = xs.baseAddress! + i * d
              var rowNorm: Float = 0
              for j in 0..<d { rowNorm = Relaxed.multiplyAdd(row[j], row[j], rowNorm) }
              // ⟨row, centroid⟩ for every centroid in the C kernel (AVX2 + FMA; Swift alone gets SSE2 here).
              Kernels.dotRows(row, rows: cs.baseAddress!, count: k, dimension: d, into: dots.baseAddress!)
              var best = 0
              var bestDistance = Float.infinity
              for c in 0..<k {
                let distance = max(0, rowNorm - 2 * dots[c] + centroidNorms[c])
                if distance < bestDistance { best = c; bestDistance = distance }
              }
              assignment[i - range.lowerBound] = best
              distances[i - range.lowerBound] = bestDistance
            }
          }
        }
      }
      return (assignment, distances)
    }
    return (parts.flatMap(\.0), parts.flatMap(\.1))
  }

  @inline(__always)
  static func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
    var sum: Float = 0
    for j in 0..<d {
      let t = a[j] - b[j]
      sum = Relaxed.multiplyAdd(t, t, sum)
    }
    return sum
  }
}
