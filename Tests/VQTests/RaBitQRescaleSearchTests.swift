import Testing
import VQKernels
import VQTestSupport
@testable import VQ

/// The rescale search against exhaustive walks of every breakpoint (the definition).
@Suite struct RaBitQRescaleSearchTests {
  /// Best N²/S over all states with t in [from, to]: the state at `from`, then every breakpoint in order.
  static func exhaustive(_ a: [Float], _ A: [Int32], K: Int32, from: Float, to: Float) -> Double {
    let start = RaBitQReference.rescaleEvaluate(a, fixed: A, count: a.count, t: from, maxLevel: K)
    var capacity = 1 << 12
    var events = [RaBitQEvent]()
    var n = 0
    repeat {
      events = [RaBitQEvent](repeating: RaBitQEvent(t: 0, numerator: 0, squares: 0), count: capacity)
      n = RaBitQReference.events(a, fixed: A, count: a.count, from: from, to: to, maxLevel: K, into: &events, capacity: capacity)
      capacity = max(capacity, n)
    } while n > events.count
    let sorted = events.prefix(n).sorted { $0.t < $1.t }
    var num = Double(start.numerator), sq = Double(start.squares)
    var best = num * num / sq
    var k = 0
    while k < sorted.count {
      let t = sorted[k].t
      while k < sorted.count, sorted[k].t == t {
        num += Double(sorted[k].numerator)
        sq += Double(sorted[k].squares)
        k += 1
      }
      best = max(best, num * num / sq)
    }
    return best
  }

  static func ratio(_ a: [Float], _ A: [Int32], K: Int32, t: Float) -> Double {
    let s = RaBitQReference.rescaleEvaluate(a, fixed: A, count: a.count, t: t, maxLevel: K)
    return Double(s.numerator) * Double(s.numerator) / Double(s.squares)
  }

  /// Gaussian, sparse, one-hot, equal-magnitude (every breakpoint tied), half-zero and heavy-tailed
  /// vectors.
  static func inputs(dimension d: Int, seed: UInt64) -> [[Float]] {
    var g = SeededGenerator(seed: seed)
    var out: [[Float]] = []
    for _ in 0..<12 { out.append((0..<d).map { _ in Float(g.nextGaussian()) }) }
    out.append((0..<d).map { i in i < 3 ? Float(i + 1) : 0 })
    out.append((0..<d).map { i in i == 5 % d ? -2 : 0 })
    out.append((0..<d).map { i in i % 2 == 0 ? 1 : -1 })
    out.append((0..<d).map { i in i % 2 == 0 ? Float(g.nextGaussian()) : 0 })
    out.append((0..<d).map { _ in let v = Float(g.nextGaussian()); return v * v * v })
    return out
  }

  /// For B = 2…9 and 17 vectors each at d = 64 and 384 (272 searches): the chosen rescale reaches the
  /// exhaustive optimum of the window (RaBitQ-Library's domain, walked breakpoint by breakpoint). How
  /// often a better code lies outside the window (the exhaustive walk over every t ≥ 0) is printed.
  @Test(arguments: [64, 384])
  func searchFindsTheExhaustiveOptimum(d: Int) {
    var outsideWindowBetter = 0, total = 0
    for bits in 2...9 {
      var search = RaBitQRescaleSearch(dimension: d, extendedBits: bits - 1)
      let K = Int32((1 << (bits - 1)) - 1)
      for (v, x) in Self.inputs(dimension: d, seed: UInt64(d * 10 + bits)).enumerated() {
        var y = x
        let t = y.withUnsafeMutableBufferPointer { search.bestRescale($0.baseAddress!).t }
        var a = [Float](repeating: 0, count: d), A = [Int32](repeating: 0, count: d)
        let largest = RaBitQReference.magnitudes(x, count: d, into: &a, fixed: &A)
        let tEnd = (Float(K) + 10) / largest
        let tStart = tEnd * RaBitQRescaleSearch.windowStart[bits - 1]
        let window = Self.exhaustive(a, A, K: K, from: tStart, to: tEnd)
        let global = Self.exhaustive(a, A, K: K, from: 0, to: (Float(K) + 1) * 4_194_304 / largest)
        let found = Self.ratio(a, A, K: K, t: t)
        #expect(found >= window * (1 - 1e-12), "d \(d) B \(bits) vector \(v): \(found) < window optimum \(window)")
        #expect(found <= global * (1 + 1e-12))
        if global > found * (1 + 1e-12) { outsideWindowBetter += 1 }
        total += 1
      }
    }
    print("rescale search d=\(d): \(outsideWindowBetter) of \(total) vectors have a better code outside the reference window")
  }

  /// The search's work on Gaussian vectors (d = 384, B = 4, 50 vectors): it lists a small fraction of
  /// the breakpoints an exhaustive walk of the window visits, and makes a bounded number of O(D)
  /// passes. (Structure, not time: the number of breakpoints and passes are deterministic.)
  @Test func searchTouchesFewBreakpoints() {
    let d = 384, bits = 4, K: Int32 = 7
    var search = RaBitQRescaleSearch(dimension: d, extendedBits: bits - 1)
    var listed = 0, inWindow = 0, passes = 0
    var g = SeededGenerator(seed: 44)
    for _ in 0..<50 {
      var x = (0..<d).map { _ in Float(g.nextGaussian()) }
      var a = [Float](repeating: 0, count: d), A = [Int32](repeating: 0, count: d)
      let largest = RaBitQReference.magnitudes(x, count: d, into: &a, fixed: &A)
      let tEnd = (Float(K) + 10) / largest
      var none = [RaBitQEvent]()
      inWindow += RaBitQReference.events(a, fixed: A, count: d, from: tEnd * RaBitQRescaleSearch.windowStart[bits - 1],
                                         to: tEnd, maxLevel: K, into: &none, capacity: 0)
      _ = x.withUnsafeMutableBufferPointer { search.bestRescale($0.baseAddress!) }
      listed += search.lastListedEvents
      passes += search.lastEvaluations
    }
    print("rescale search d=384 B=4: \(Double(listed) / 50) breakpoints listed of \(Double(inWindow) / 50) in the window, \(Double(passes) / 50) passes per vector")
    #expect(listed * 4 < inWindow)
    #expect(passes < 50 * 40)
  }

  /// Extreme magnitudes are scaled by a power of two first: the same codes as the unscaled vector.
  @Test func extremeMagnitudesGiveTheSameCodes() throws {
    let q = try RaBitQ("rabitq:bits=4,rotation=none", dimension: 32)
    let x = TestData.gaussian(count: 1, dimension: 32, seed: 3).values
    let tiny = try VectorBatch(dimension: 32, values: x.map { $0 * 0x1p-60 })
    let huge = try VectorBatch(dimension: 32, values: x.map { $0 * 0x1p60 })
    let c = try q.encode(try VectorBatch(dimension: 32, values: x))
    #expect(try q.encode(tiny).code(0) == c.code(0))
    #expect(try q.encode(huge).code(0) == c.code(0))
    #expect(abs(try q.encode(tiny).side("cosine")[0] - c.side("cosine")[0]) <= 1e-6)
  }
}
