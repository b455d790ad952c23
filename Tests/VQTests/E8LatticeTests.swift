import Testing
@testable import VQ
import VQTestSupport

/// E8 nearest point, E8P and the Voronoi code against research/geometry.md §3.
@Suite struct E8LatticeTests {
  static func randomPoint(_ g: inout SeededGenerator, spread: Double) -> [Double] {
    (0..<8).map { _ in (g.nextUniform() - 0.5) * spread }
  }

  // MARK: Nearest point

  @Test func nearestPointIsALatticePointAndIdempotent() {
    var g = SeededGenerator(seed: 8)
    for _ in 0..<2000 {
      let x = Self.randomPoint(&g, spread: 10)
      let p = E8Lattice.nearestPoint(x)
      #expect(E8Lattice.contains(p), "\(p) is not in E8")
      #expect(E8Lattice.nearestPoint(p) == p)
      // A lattice point plus noise of size 1e−3 comes back to itself.
      let noisy = p.map { $0 + (g.nextUniform() - 0.5) * 2e-3 }
      #expect(E8Lattice.nearestPoint(noisy) == p)
      // No lattice neighbour (p ± a root) is nearer: check the 16 roots ±e_i ± e_j with i = 0, and ±½·1.
      let d0 = zip(x, p).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
      var roots: [[Double]] = []
      for j in 1..<8 {
        for (s, t) in [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)] {
          var r = [Double](repeating: 0, count: 8); r[0] = s; r[j] = t; roots.append(r)
        }
      }
      roots.append([Double](repeating: 0.5, count: 8)); roots.append([Double](repeating: -0.5, count: 8))
      for r in roots {
        let other = zip(p, r).map { $0 + $1 }
        let d1 = zip(x, other).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        #expect(d0 <= d1 + 1e-12)
      }
    }
  }

  @Test func coordinatesRoundTripThroughTheBasis() {
    var g = SeededGenerator(seed: 9)
    var k = [Int](repeating: 0, count: 8), v = [Double](repeating: 0, count: 8), back = k
    for _ in 0..<1000 {
      for i in 0..<8 { k[i] = Int(g.next() % 21) - 10 }
      k.withUnsafeBufferPointer { kp in v.withUnsafeMutableBufferPointer { E8Lattice.point(kp.baseAddress!, into: $0.baseAddress!) } }
      #expect(E8Lattice.contains(v))
      v.withUnsafeBufferPointer { vp in back.withUnsafeMutableBufferPointer { E8Lattice.coordinates(vp.baseAddress!, into: $0.baseAddress!) } }
      #expect(back == k)
    }
  }

  /// G(E8) = E|x − NP(x)|²/8 for x uniform over a region much larger than a cell (V = 1):
  /// 929/12960 = 0.0716821 (geometry.md §3.1).
  @Test func normalizedSecondMoment() {
    var g = SeededGenerator(seed: 12)
    var stats = RunningStatistics()
    var x = [Double](repeating: 0, count: 8), p = x
    for _ in 0..<1_000_000 {
      for i in 0..<8 { x[i] = (g.nextUniform() - 0.5) * 64 }
      x.withUnsafeBufferPointer { xs in p.withUnsafeMutableBufferPointer { E8Lattice.nearestPoint(xs.baseAddress!, into: $0.baseAddress!) } }
      var e = 0.0
      for i in 0..<8 { e += (x[i] - p[i]) * (x[i] - p[i]) }
      stats.add(e / 8)
    }
    // N = 10^6 cells: SE ≈ 1.6e-5 (0.02 %); the issue asks for 1 %, we ask for 3 SE.
    #expect(Swift.abs(stats.mean - E8Lattice.normalizedSecondMoment) <= 3 * stats.standardError,
            "G = \(stats.mean) ± \(stats.standardError)")
    #expect(Swift.abs(stats.mean / E8Lattice.normalizedSecondMoment - 1) < 0.01)
  }

  // MARK: E8P

  @Test func e8pCodebookShape() {
    let book = E8PCodebook.shared
    var seen = Set<[Double]>()
    for index in 0..<65_536 {
      let c = book.codeword(index)
      // In E8 + ¼·(±1): the shift is the same sign on every coordinate.
      let shift = index >> 15 == 0 ? 0.25 : -0.25
      #expect(E8Lattice.contains(c.map { $0 - shift }))
      seen.insert(c)
    }
    // 65 536 entries, all distinct in our choice of the 29 norm-12 patterns (the note counts 65 280 for
    // QuIP#'s list, whose 29 patterns we did not copy).
    #expect(seen.count == 65_536)
    // Ball-shaped: every unshifted point has squared norm ≤ 12.
    #expect(stride(from: 0, to: 2048, by: 8).allSatisfy { p in
      (0..<8).reduce(0.0) { $0 + book.patterns[p + $1] * book.patterns[p + $1] } <= 12 })
  }

  @Test func e8pEncodeIsExact() {
    let book = E8PCodebook.shared
    let all = (0..<65_536).map { book.codeword($0) }
    var g = SeededGenerator(seed: 13)
    for trial in 0..<60 {
      let x = (0..<8).map { _ in g.nextGaussian() * 1.04 }
      let index = x.withUnsafeBufferPointer { book.encode($0.baseAddress!) }
      let found = zip(x, all[index]).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
      var best = Double.infinity
      for c in all { best = Swift.min(best, zip(x, c).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }) }
      #expect(Swift.abs(found - best) <= 1e-9, "trial \(trial): \(found) vs brute force \(best)")
    }
    // Every codeword encodes to itself.
    for index in stride(from: 0, to: 65_536, by: 7) {
      let c = all[index]
      #expect(c.withUnsafeBufferPointer { book.encode($0.baseAddress!) } == index)
    }
  }

  /// E8P on N(0,1) at scale 1.04: MSE 0.0913 per coordinate (geometry.md §3.2, 50 000 vectors).
  @Test func e8pGaussianDistortion() {
    let book = E8PCodebook.shared
    var g = SeededGenerator(seed: 14)
    var stats = RunningStatistics()
    var x = [Double](repeating: 0, count: 8), c = [Float](repeating: 0, count: 8)
    for _ in 0..<50_000 {
      for i in 0..<8 { x[i] = g.nextGaussian() }
      let scaled = x.map { $0 * 1.04 }
      let i2 = scaled.withUnsafeBufferPointer { book.encode($0.baseAddress!) }
      c.withUnsafeMutableBufferPointer { book.decode(i2, into: $0.baseAddress!, scale: Float(1 / 1.04)) }
      var e = 0.0
      for i in 0..<8 { e += (x[i] - Double(c[i])) * (x[i] - Double(c[i])) }
      stats.add(e / 8)
    }
    // N = 50 000 blocks: SE ≈ 2.7e-4. The note: 0.0913 from 50 000 vectors (its SE about the same).
    #expect(Swift.abs(stats.mean - 0.0913) <= 3 * stats.standardError * 2.squareRoot(),
            "E8P MSE \(stats.mean) ± \(stats.standardError)")
    #expect(stats.mean + 3 * stats.standardError < 0.117482)
  }

  /// e8:bits=2 on rotated unit vectors: NMSE within 3 % of 0.0913 (scale none: TurboQuant-style).
  @Test func e8QuantizerNMSE() throws {
    let d = 1024, count = 300
    let x = TestData.unitSphere(count: count, dimension: d, seed: 15)
    let q = try QuantizerRegistry.standard.makeQuantizer("e8:bits=2,scale=none", dimension: d)
    #expect(q.layout == CodeLayout(bytesPerCode: 256, sideFields: ["scale"]))
    let y = try q.decode(try q.encode(x))
    var stats = RunningStatistics()
    for r in 0..<count {
      let a = x[row: r], b = y[row: r]
      var e = 0.0
      for j in 0..<d { let t = Double(a[j]) - Double(b[j]); e += t * t }
      stats.add(e)
    }
    // N = 300 vectors × 128 blocks: SE ≈ 0.3 % of the NMSE.
    #expect(Swift.abs(stats.mean / 0.0913 - 1) <= 0.03, "e8 NMSE \(stats.mean) ± \(stats.standardError)")
    // The estimate agrees with ⟨q, x̂⟩.
    let query = TestData.gaussian(count: 1, dimension: d, seed: 16)[row: 0]
    let codes = try q.encode(x.slice(0..<5))
    let est = q.estimateInnerProducts(try q.prepare(query: query), codes: codes)
    let dec = try q.decode(codes)
    for r in 0..<5 {
      let exact = zip(query, dec[row: r]).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
      #expect(Swift.abs(Double(est[r]) - exact) <= 1e-4)
    }
  }

  // MARK: Voronoi code

  @Test func voronoiDecodeIsAFixedPointOfEncode() {
    var g = SeededGenerator(seed: 17)
    var k = [Int](repeating: 0, count: 8), k2 = k
    var v = [Double](repeating: 0, count: 8), scratch = [Double](repeating: 0, count: 16)
    for q in [4, 8, 16] {
      for _ in 0..<500 {
        for i in 0..<8 { k[i] = Int(g.next() % UInt64(q)) }
        k.withUnsafeBufferPointer { kp in v.withUnsafeMutableBufferPointer { vp in scratch.withUnsafeMutableBufferPointer { s in
          E8Lattice.voronoiDecode(kp.baseAddress!, q: q, into: vp.baseAddress!, scratch: s.baseAddress!) } } }
        #expect(E8Lattice.contains(v))
        v.withUnsafeBufferPointer { vp in k2.withUnsafeMutableBufferPointer { kp in scratch.withUnsafeMutableBufferPointer { s in
          E8Lattice.voronoiEncode(vp.baseAddress!, q: q, into: kp.baseAddress!, scratch: s.baseAddress!) } } }
        #expect(k2 == k)
      }
    }
  }

  /// One scale per block: the Voronoi code loses to scalar Lloyd–Max (geometry.md §3.2); four scales win
  /// back most of it. MSE on N(0,1) blocks through the quantizer (scale=none, no rotation, so the
  /// standardized input is the data itself up to its norm).
  @Test func voronoiSingleScaleLosesToLloydMax() throws {
    let d = 512, count = 200
    let x = TestData.gaussian(count: count, dimension: d, seed: 18)
    func nmse(_ spec: String) throws -> RunningStatistics {
      let q = try QuantizerRegistry.standard.makeQuantizer(spec, dimension: d)
      let y = try q.decode(try q.encode(x))
      var stats = RunningStatistics()
      for r in 0..<count {
        let a = x[row: r], b = y[row: r]
        var e = 0.0, n = 0.0
        for j in 0..<d { let t = Double(a[j]) - Double(b[j]); e += t * t; n += Double(a[j]) * Double(a[j]) }
        stats.add(e / n)
      }
      return stats
    }
    let single = try nmse("e8-voronoi:bits=2,scales=1,scale=none")
    let four = try nmse("e8-voronoi:bits=2,scales=4,scale=none")
    // N = 200 vectors × 64 blocks; SE < 1 % of each value. Our scan: 0.230 (one scale), 0.084 (four).
    #expect(single.mean > 0.117482 + 3 * single.standardError, "one scale: \(single.mean)")
    // The scan's own value carries ≈ 1 % sampling error (20 000 blocks); overloads make the spread large.
    #expect(Swift.abs(single.mean - 0.230) <= 3 * single.standardError + 0.01 * 0.230,
            "one scale: \(single.mean) ± \(single.standardError)")
    #expect(four.mean < 0.117482, "four scales: \(four.mean) ± \(four.standardError)")
  }
}
