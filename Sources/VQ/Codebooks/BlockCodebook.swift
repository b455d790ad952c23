import Dispatch
import RealModule

/// A data-oblivious vector codebook for blocks of `p` coordinates of a uniform unit vector in `n`
/// coordinates: the k-means solution, with `K = 2^(b·p)` codewords, for the exact joint law of `p`
/// coordinates (BlockQuant's codebook, research/rotation.md §5.3).
///
/// The law: `w = (z₁…z_p)` for `z` uniform on S^{n−1} has density ∝ `(1−‖w‖²)^{(n−p−2)/2}` on the unit
/// p-ball, and is sampled exactly as `g/√(‖g‖² + χ²_{n−p})` with `g ~ N(0, I_p)` (rotation.md §1). The
/// codebook lives in standardized units `√n·w` (each coordinate has variance 1), like `ScalarCodebook`.
///
/// Training (deterministic for (n, p, b, seed), on every machine and thread count):
/// 1. draw `N = sampleCount(K)` exact samples from a `SeededGenerator` stream of (n, p, b, seed);
/// 2. k-means++ seeding (D²-weighted draws from the same stream);
/// 3. at most `maxIterations(K)` Lloyd iterations, stopping early when the mean squared error improves by
///    less than 2e−5 relative; the work is split over both cores in a fixed number of chunks whose
///    partial sums are added in chunk order (so the result does not depend on scheduling);
/// 4. an empty cell keeps its previous codeword.
/// Codebooks are cached per key for the life of the process (`LockedCache`), like `ScalarCodebook`.
/// At the default seed, `cached` first looks for the shipped file of the key (`BlockCodebookStore`: the
/// default block sizes at 1…8 bits for n = 64, 128, 384, 768, 1024, 1536), which holds exactly the floats
/// training produces; training runs only for keys without a file.
///
/// The k-means solution is a local optimum, so `trainingDistortion` is an upper bound on the optimal
/// k-means distortion of the law up to sampling error (rotation.md §7 item 22: b1p4 0.340, b2p2 0.107,
/// b2p4 0.097, b3p2 0.030 at n = 1536).
public struct BlockCodebook: Sendable {
  /// The sphere dimension n whose block marginal the codebook fits.
  public let dimension: Int
  /// Coordinates per block, p.
  public let blockSize: Int
  /// Bits per coordinate, b: `2^(b·p)` codewords.
  public let bits: Int
  public let seed: UInt64
  /// `K × p` codeword coordinates, row-major, in standardized units.
  public let codewords: [Float]
  /// The same, transposed (`p × K`), for the nearest-codeword search.
  let transposedCodewords: [Float]
  /// `‖c_k‖²/2`, the constant part of the search score `‖c‖²/2 − ⟨s,c⟩`.
  let halfSquaredNorms: [Float]
  /// Mean squared error per coordinate on the training sample, in standardized units.
  public let trainingDistortion: Double
  public let iterations: Int
  public let sampleCount: Int
  /// Whether the codewords came from a shipped file (else from training in this process).
  public let isShipped: Bool

  /// Bump whenever a change to sampling, seeding or Lloyd could change a trained codebook: shipped files
  /// of another trainer version are refused (`VQError.corrupt`) and must be regenerated.
  public static let trainerVersion: UInt32 = 1

  /// What a codebook file stores besides its key.
  struct Stored {
    var codewords: [Float]
    var iterations: Int
    var sampleCount: Int
    var trainingDistortion: Double
  }

  /// Number of codewords, `2^(b·p)`.
  public var count: Int { 1 << (bits * blockSize) }
  /// Bits of one block index, `b·p`.
  public var indexBits: Int { bits * blockSize }

  /// The largest codebook this type trains: `b·p ≤ 12` (4096 codewords; rotation.md §5.2).
  public static let maximumIndexBits = 12
  /// The training seed the quantizers use: codebooks are shared by every rotation seed.
  public static let defaultSeed: UInt64 = 0x5EED_B10C

  /// Training samples: at least 2^16 (fewer overfit badly: 640 samples for 16 codewords give a held-out
  /// MSE 20 % above the training MSE), and 40 per codeword (rotation.md §5.2) up to 1024 codewords,
  /// 24 per codeword for 4096, whose Lloyd iterations dominate the cost.
  static func sampleCount(_ k: Int) -> Int { Swift.max(1 << 16, k * (k <= 1024 ? 40 : 24)) }
  static func maxIterations(_ k: Int) -> Int { k <= 64 ? 100 : (k <= 256 ? 60 : (k <= 1024 ? 40 : 20)) }
  /// Lloyd stops when an iteration improves the MSE by less than this fraction.
  static let relativeTolerance = 2e-5

  /// The cached codebook for blocks of `blockSize` coordinates of a unit vector in `dimension`
  /// coordinates at `bits` bits per coordinate.
  public static func cached(dimension: Int, blockSize: Int, bits: Int, seed: UInt64 = defaultSeed) throws -> BlockCodebook {
    let key = try validatedKey(dimension: dimension, blockSize: blockSize, bits: bits, seed: seed)
    return try cache.value(for: key) { key in
      if let stored = try BlockCodebookStore.load(key) { return BlockCodebook(key: key, stored: stored, shipped: true) }
      return BlockCodebook(key: key)
    }
  }

  /// A codebook trained now (neither the cache nor a shipped file): what `vq blockcodebooks` writes.
  public static func trained(dimension: Int, blockSize: Int, bits: Int, seed: UInt64 = defaultSeed) throws -> BlockCodebook {
    BlockCodebook(key: try validatedKey(dimension: dimension, blockSize: blockSize, bits: bits, seed: seed))
  }

  static func validatedKey(dimension: Int, blockSize: Int, bits: Int, seed: UInt64) throws -> BlockCodebookKey {
    guard blockSize >= 1, blockSize <= dimension else {
      throw VQError.outOfRange("block codebook: block size \(blockSize) must be in 1...\(dimension) (the dimension)")
    }
    guard bits >= 1, bits * blockSize <= maximumIndexBits else {
      throw VQError.outOfRange(
        "block codebook: bits·block = \(bits)·\(blockSize) must be in 1...\(maximumIndexBits) (at most 4096 codewords)")
    }
    return BlockCodebookKey(dimension: dimension, blockSize: blockSize, bits: bits, seed: seed)
  }

  private static let cache = LockedCache<BlockCodebookKey, BlockCodebook>()

  /// The block size BlockQuant uses by default: the largest divisor p of n with `b·p ≤ 12`
  /// (rotation.md §5.2: p = 12, 6, 4, 3 at b = 1…4 for n = 384, 768 or 1536; p = 8, 4, 4, 2 for n = 128).
  public static func defaultBlockSize(dimension n: Int, bits: Int) -> Int {
    var p = Swift.max(1, Swift.min(n, maximumIndexBits / Swift.max(bits, 1)))
    while p > 1 && n % p != 0 { p -= 1 }
    return p
  }

  // MARK: Search

  /// The nearest codeword of each of `count` points (`p` standardized values each, row-major at
  /// `points`): `indices[i]` and its score `‖c‖²/2 − ⟨s,c⟩` in `scores[i]` (ties: the smallest index).
  ///
  /// Why this shape: the search reads the whole codebook once per point, so four points share each load
  /// of 8 codewords' coordinates (SIMD8, the codebook stays in L2), and the running minimum stays in
  /// registers. Scores are formed as `half − v₀·c₀ − v₁·c₁ − …` in coordinate order with separate
  /// multiply and subtract (no fused multiply–add), so every caller — training, encoding, any machine —
  /// gets the same floats and therefore the same indices.
  func assign(_ points: UnsafePointer<Float>, count: Int, indices: UnsafeMutablePointer<Int32>,
              scores: UnsafeMutablePointer<Float>) {
    transposedCodewords.withUnsafeBufferPointer { t in
      halfSquaredNorms.withUnsafeBufferPointer { h in
        Self.assign(points, count: count, blockSize: blockSize, codewordCount: self.count,
                    transposed: t.baseAddress!, halfNorms: h.baseAddress!, indices: indices, scores: scores)
      }
    }
  }

  /// `assign` on raw codebook arrays (`transposed`: p × k, `halfNorms`: k).
  static func assign(
    _ points: UnsafePointer<Float>, count: Int, blockSize p: Int, codewordCount k: Int,
    transposed: UnsafePointer<Float>, halfNorms: UnsafePointer<Float>,
    indices: UnsafeMutablePointer<Int32>, scores: UnsafeMutablePointer<Float>
  ) {
    guard k >= 8 else {
      for i in 0..<count {
        let s = points + i * p
        var best = Float.infinity, index = 0
        for c in 0..<k {
          var score = halfNorms[c]
          for j in 0..<p { score -= s[j] * transposed[j * k + c] }
          if score < best { best = score; index = c }
        }
        indices[i] = Int32(index); scores[i] = best
      }
      return
    }
    var i = 0
    while i + 4 <= count {
      nearestFour(points + i * p, blockSize: p, codewordCount: k, transposed: transposed, halfNorms: halfNorms,
                  indices: indices + i, scores: scores + i)
      i += 4
    }
    while i < count {
      nearestOne(points + i * p, blockSize: p, codewordCount: k, transposed: transposed, halfNorms: halfNorms,
                 index: indices + i, score: scores + i)
      i += 1
    }
  }

  /// The lane-wise running minimum reduced to (smallest score, smallest index among equal scores).
  @inline(__always)
  static func reduce(_ best: SIMD8<Float>, _ index: SIMD8<Int32>) -> (Int32, Float) {
    var value = best[0], position = index[0]
    for lane in 1..<8 where best[lane] < value || (best[lane] == value && index[lane] < position) {
      value = best[lane]; position = index[lane]
    }
    return (position, value)
  }

  @inline(__always)
  static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
  }

  static let laneOffsets = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)

  static func nearestFour(
    _ s: UnsafePointer<Float>, blockSize p: Int, codewordCount k: Int, transposed: UnsafePointer<Float>,
    halfNorms: UnsafePointer<Float>, indices: UnsafeMutablePointer<Int32>, scores: UnsafeMutablePointer<Float>
  ) {
    let s0 = s, s1 = s + p, s2 = s + 2 * p, s3 = s + 3 * p
    var best0 = SIMD8<Float>(repeating: .infinity), best1 = best0, best2 = best0, best3 = best0
    var at0 = SIMD8<Int32>(repeating: 0), at1 = at0, at2 = at0, at3 = at0
    var lanes = laneOffsets
    var c = 0
    while c < k {
      let half = load(halfNorms + c)
      var a0 = half, a1 = half, a2 = half, a3 = half
      for j in 0..<p {
        let row = load(transposed + j * k + c)
        a0 -= SIMD8(repeating: s0[j]) * row
        a1 -= SIMD8(repeating: s1[j]) * row
        a2 -= SIMD8(repeating: s2[j]) * row
        a3 -= SIMD8(repeating: s3[j]) * row
      }
      let m0 = a0 .< best0, m1 = a1 .< best1, m2 = a2 .< best2, m3 = a3 .< best3
      best0.replace(with: a0, where: m0); at0.replace(with: lanes, where: m0)
      best1.replace(with: a1, where: m1); at1.replace(with: lanes, where: m1)
      best2.replace(with: a2, where: m2); at2.replace(with: lanes, where: m2)
      best3.replace(with: a3, where: m3); at3.replace(with: lanes, where: m3)
      lanes &+= 8
      c += 8
    }
    (indices[0], scores[0]) = reduce(best0, at0)
    (indices[1], scores[1]) = reduce(best1, at1)
    (indices[2], scores[2]) = reduce(best2, at2)
    (indices[3], scores[3]) = reduce(best3, at3)
  }

  static func nearestOne(
    _ s: UnsafePointer<Float>, blockSize p: Int, codewordCount k: Int, transposed: UnsafePointer<Float>,
    halfNorms: UnsafePointer<Float>, index: UnsafeMutablePointer<Int32>, score: UnsafeMutablePointer<Float>
  ) {
    var best = SIMD8<Float>(repeating: .infinity), at = SIMD8<Int32>(repeating: 0)
    var lanes = laneOffsets
    var c = 0
    while c < k {
      var a = load(halfNorms + c)
      for j in 0..<p { a -= SIMD8(repeating: s[j]) * load(transposed + j * k + c) }
      let m = a .< best
      best.replace(with: a, where: m); at.replace(with: lanes, where: m)
      lanes &+= 8
      c += 8
    }
    (index.pointee, score.pointee) = reduce(best, at)
  }

  // MARK: Training

  /// Trains the codebook of `key`.
  private init(key: BlockCodebookKey) {
    let n = key.dimension, p = key.blockSize, k = 1 << (key.bits * key.blockSize)
    let sampleCount = Self.sampleCount(k)
    var generator = SeededGenerator(
      seed: key.seed, stream: UInt64(n) &* 0x1_0000 &+ UInt64(p) &* 0x100 &+ UInt64(key.bits))
    let samples = Self.drawBlockSamples(dimension: n, blockSize: p, count: sampleCount, using: &generator)
    var centroids = Self.seedPlusPlus(samples: samples, blockSize: p, count: k, using: &generator)
    var distortion = Double.infinity
    var iterations = 0
    let maxIterations = Self.maxIterations(k)
    while iterations < maxIterations {
      iterations += 1
      let step = Self.lloydStep(samples: samples, blockSize: p, centroids: centroids)
      centroids = step.centroids
      let previous = distortion
      distortion = step.distortion
      if previous.isFinite && previous - distortion <= Self.relativeTolerance * previous { break }
    }
    self.init(
      key: key,
      stored: Stored(codewords: centroids, iterations: iterations, sampleCount: sampleCount, trainingDistortion: distortion),
      shipped: false)
  }

  /// The codebook of `key` from its codewords (trained or read from a file).
  init(key: BlockCodebookKey, stored: Stored, shipped: Bool) {
    let p = key.blockSize, k = 1 << (key.bits * key.blockSize)
    precondition(stored.codewords.count == k * p, "\(stored.codewords.count) codeword floats for \(k) codewords of \(p)")
    dimension = key.dimension; blockSize = p; bits = key.bits; seed = key.seed
    iterations = stored.iterations
    sampleCount = stored.sampleCount
    trainingDistortion = stored.trainingDistortion
    isShipped = shipped
    let centroids = stored.codewords
    codewords = centroids
    var transposed = [Float](repeating: 0, count: k * p)
    var halves = [Float](repeating: 0, count: k)
    for c in 0..<k {
      var s: Float = 0
      for j in 0..<p {
        let v = centroids[c * p + j]
        transposed[j * k + c] = v
        s += v * v
      }
      halves[c] = s / 2
    }
    transposedCodewords = transposed
    halfSquaredNorms = halves
  }

  /// `count` exact samples of `√n·(z₁…z_p)`, row-major.
  static func drawBlockSamples(
    dimension n: Int, blockSize p: Int, count: Int, using g: inout SeededGenerator
  ) -> [Float] {
    var out = [Float](repeating: 0, count: count * p)
    let root = Double(n).squareRoot()
    var gaussians = [Double](repeating: 0, count: p)
    for i in 0..<count {
      var squared = 0.0
      for j in 0..<p {
        let v = g.nextGaussian()
        gaussians[j] = v
        squared += v * v
      }
      let rest = chiSquared(degrees: n - p, using: &g)
      let factor = root / (squared + rest).squareRoot()
      for j in 0..<p { out[i * p + j] = Float(gaussians[j] * factor) }
    }
    return out
  }

  /// A χ² variate with `k ≥ 0` degrees of freedom: a sum of squared normals for k ≤ 4, else
  /// 2·Gamma(k/2) by Marsaglia & Tsang (ACM TOMS 26(3), 2000), exact for shape ≥ 1.
  static func chiSquared(degrees k: Int, using g: inout SeededGenerator) -> Double {
    if k <= 4 {
      var s = 0.0
      for _ in 0..<k { let v = g.nextGaussian(); s += v * v }
      return s
    }
    let shape = Double(k) / 2
    let d = shape - 1.0 / 3.0, c = 1 / (9 * d).squareRoot()
    while true {
      let x = g.nextGaussian()
      let t = 1 + c * x
      guard t > 0 else { continue }
      let v = t * t * t
      let u = g.nextUniform()
      if u < 1 - 0.0331 * x * x * x * x { return 2 * d * v }
      if u > 0 && Double.log(u) < 0.5 * x * x + d * (1 - v + Double.log(v)) { return 2 * d * v }
    }
  }

  /// Fixed chunking of the sample for the parallel loops (independent of the core count).
  static let chunkCount = 8

  static func chunks(_ count: Int) -> [Range<Int>] {
    let m = Swift.min(chunkCount, Swift.max(count, 1))
    return (0..<m).map { c in (count * c / m)..<(count * (c + 1) / m) }
  }

  /// k-means++ (Arthur & Vassilvitskii 2007): the first centre is a uniform draw, each next one is drawn
  /// with probability ∝ the squared distance to the nearest centre so far.
  static func seedPlusPlus(samples: [Float], blockSize p: Int, count k: Int, using g: inout SeededGenerator) -> [Float] {
    let n = samples.count / p
    var centroids = [Float](repeating: 0, count: k * p)
    // Structure of arrays for a vectorized distance update.
    var columns = [Float](repeating: 0, count: n * p)
    for i in 0..<n { for j in 0..<p { columns[j * n + i] = samples[i * p + j] } }
    var nearest = [Float](repeating: .infinity, count: n)
    let ranges = chunks(n)
    var chunkTotals = [Double](repeating: 0, count: ranges.count)
    var chosen = Int(g.next() % UInt64(n))
    columns.withUnsafeBufferPointer { cols in
      nearest.withUnsafeMutableBufferPointer { dist in
        chunkTotals.withUnsafeMutableBufferPointer { totals in
          let colsBase = UnsafeShared(cols.baseAddress!), distBase = UnsafeMutableShared(dist.baseAddress!)
          let totalsBase = UnsafeMutableShared(totals.baseAddress!)
          for c in 0..<k {
            var centre = [Float](repeating: 0, count: p)
            for j in 0..<p { centre[j] = cols[j * n + chosen]; centroids[c * p + j] = centre[j] }
            guard c + 1 < k else { break }
            let sharedCentre = centre
            DispatchQueue.concurrentPerform(iterations: ranges.count) { r in
              let range = ranges[r]
              let x = colsBase.pointer, d = distBase.pointer
              let scratch = UnsafeMutablePointer<Float>.allocate(capacity: range.count)
              defer { scratch.deallocate() }
              scratch.initialize(repeating: 0, count: range.count)
              for j in 0..<p {
                let cj = sharedCentre[j], column = x + j * n + range.lowerBound
                for i in 0..<range.count { let t = column[i] - cj; scratch[i] += t * t }
              }
              var total = 0.0
              for i in 0..<range.count {
                let v = Swift.min(d[range.lowerBound + i], scratch[i])
                d[range.lowerBound + i] = v
                total += Double(v)
              }
              totalsBase.pointer[r] = total
            }
            var grand = 0.0
            for r in 0..<ranges.count { grand += totals[r] }
            // Draw the next centre ∝ D²: pick the chunk, then the sample inside it.
            var target = g.nextUniform() * grand
            var r = 0
            while r < ranges.count - 1 && target >= totals[r] { target -= totals[r]; r += 1 }
            chosen = ranges[r].upperBound - 1
            for i in ranges[r] {
              target -= Double(dist[i])
              if target < 0 { chosen = i; break }
            }
          }
        }
      }
    }
    return centroids
  }

  /// One Lloyd iteration: assign every sample to its nearest centroid, then move each centroid to the
  /// mean of its cell. Returns the new centroids and the mean squared error per coordinate of the
  /// assignment (made with the old centroids).
  static func lloydStep(samples: [Float], blockSize p: Int, centroids: [Float]) -> (centroids: [Float], distortion: Double) {
    let k = centroids.count / p, n = samples.count / p
    var transposed = [Float](repeating: 0, count: k * p)
    var halves = [Float](repeating: 0, count: k)
    for c in 0..<k {
      var s: Float = 0
      for j in 0..<p { let v = centroids[c * p + j]; transposed[j * k + c] = v; s += v * v }
      halves[c] = s / 2
    }
    let ranges = chunks(n)
    // Per chunk: K·p coordinate sums, K counts, squared error.
    var sums = [Double](repeating: 0, count: ranges.count * k * p)
    var counts = [Int](repeating: 0, count: ranges.count * k)
    var errors = [Double](repeating: 0, count: ranges.count)
    samples.withUnsafeBufferPointer { xs in
      transposed.withUnsafeBufferPointer { t in
        halves.withUnsafeBufferPointer { h in
          sums.withUnsafeMutableBufferPointer { sumBuffer in
            counts.withUnsafeMutableBufferPointer { countBuffer in
              errors.withUnsafeMutableBufferPointer { errorBuffer in
                let x = UnsafeShared(xs.baseAddress!), tt = UnsafeShared(t.baseAddress!), hh = UnsafeShared(h.baseAddress!)
                let sumOut = UnsafeMutableShared(sumBuffer.baseAddress!)
                let countOut = UnsafeMutableShared(countBuffer.baseAddress!)
                let errorOut = UnsafeMutableShared(errorBuffer.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: ranges.count) { r in
                  let range = ranges[r]
                  let best = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(range.count, 1))
                  let nearest = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(range.count, 1))
                  defer { best.deallocate(); nearest.deallocate() }
                  assign(x.pointer + range.lowerBound * p, count: range.count, blockSize: p, codewordCount: k,
                         transposed: tt.pointer, halfNorms: hh.pointer, indices: nearest, scores: best)
                  let mySums = sumOut.pointer + r * k * p, myCounts = countOut.pointer + r * k
                  var error = 0.0
                  for i in range {
                    let s = x.pointer + i * p
                    let index = Int(nearest[i - range.lowerBound]), best = best[i - range.lowerBound]
                    var norm: Float = 0
                    for j in 0..<p { norm += s[j] * s[j]; mySums[index * p + j] += Double(s[j]) }
                    myCounts[index] += 1
                    error += Double(Swift.max(0, norm + 2 * best))
                  }
                  errorOut.pointer[r] = error
                }
              }
            }
          }
        }
      }
    }
    var next = centroids
    var totalError = 0.0
    for r in 0..<ranges.count { totalError += errors[r] }
    for c in 0..<k {
      var m = 0
      for r in 0..<ranges.count { m += counts[r * k + c] }
      guard m > 0 else { continue }  // an empty cell keeps its codeword
      for j in 0..<p {
        var s = 0.0
        for r in 0..<ranges.count { s += sums[(r * k + c) * p + j] }
        next[c * p + j] = Float(s / Double(m))
      }
    }
    return (next, totalError / Double(n * p))
  }
}

struct BlockCodebookKey: Hashable, Sendable {
  var dimension: Int
  var blockSize: Int
  var bits: Int
  var seed: UInt64
}

/// A pointer handed to `concurrentPerform` iterations that read it (or write disjoint parts of it).
/// `@unchecked Sendable`: the owner keeps the memory alive and unaliased for the whole parallel loop.
struct UnsafeShared<T>: @unchecked Sendable {
  let pointer: UnsafePointer<T>
  init(_ pointer: UnsafePointer<T>) { self.pointer = pointer }
}

struct UnsafeMutableShared<T>: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<T>
  init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}
