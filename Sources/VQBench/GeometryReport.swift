import Foundation
import VQ

/// `vq bench --geometry`: direction preservation of every product format and every rotation / block /
/// lattice method against the optimal spherical-code bound (research/geometry.md §1.5 and "What to build
/// and test" table 1), plus the E8 line (§3).
///
/// For d ∈ {8, 32, 128, 768}: x uniform on S^(d−1) (N = 100 000 / 40 000 / 10 000 / 2 000 by default,
/// seed 12345), each method's expected cosine loss L ± s.e., p99 and sampled-max angle, the angle at the
/// harmonic witness u_i ∝ i^(−1/2), R_eff (the rate at which an optimal spherical code has loss L) and
/// the gap R_dir − R_eff in bits per coordinate. R_dir counts payload plus direction-changing block scales;
/// R_tot is everything stored (our layouts: side values are Float32).
public enum GeometryReport {
  public struct Method: Sendable {
    public let label: String
    public let spec: String
    /// Payload rate group (1, 2, 3, 4, 8) the method is listed under.
    public let group: Int
    /// R_dir at dimension d.
    public let directionRate: @Sendable (Int) -> Double
  }

  public struct Row: Sendable {
    public let label: String
    public let spec: String
    public let group: Int
    public let dimension: Int
    public let directionRate: Double
    public let totalRate: Double
    public let statistics: DirectionMeasures.Statistics
    public let witnessAngle: Double
    public let effectiveRate: Double
    public var gap: Double { directionRate - effectiveRate }
  }

  public static let dimensions = [8, 32, 128, 768]

  /// The note's sample sizes.
  public static func sampleSize(_ d: Int) -> Int {
    switch d { case ...8: return 100_000; case ...32: return 40_000; case ...128: return 10_000; default: return 2_000 }
  }

  /// Every method of the table, grouped by payload bits.
  public static let methods: [Method] = {
    var m: [Method] = []
    func fixed(_ r: Double) -> @Sendable (Int) -> Double { { _ in r } }
    m.append(Method(label: "sign", spec: "sign", group: 1, directionRate: fixed(1)))
    m.append(Method(label: "rot+Lloyd-Max 1 (eden)", spec: "eden:bits=1,scale=biased", group: 1, directionRate: fixed(1)))
    m.append(Method(label: "blockquant 1", spec: "blockquant:bits=1", group: 1, directionRate: fixed(1)))
    for b in 2...4 {
      let r = Double(b)
      m.append(Method(label: "INT\(b) absmax", spec: "int:bits=\(b)", group: b, directionRate: fixed(r)))
      m.append(Method(label: "rot+INT\(b) absmax", spec: "int:bits=\(b),rotation=hadamard", group: b, directionRate: fixed(r)))
      m.append(Method(label: "rot+Lloyd-Max \(b) (eden)", spec: "eden:bits=\(b),scale=biased", group: b, directionRate: fixed(r)))
      m.append(Method(label: "blockquant \(b)", spec: "blockquant:bits=\(b)", group: b, directionRate: fixed(r)))
      if b == 2 { m.append(Method(label: "e8 (E8P)", spec: "e8:bits=2", group: 2, directionRate: fixed(2))) }
      m.append(Method(label: "e8-voronoi \(b), 1 scale", spec: "e8-voronoi:bits=\(b),scales=1", group: b, directionRate: fixed(r)))
      m.append(Method(label: "e8-voronoi \(b), 4 scales", spec: "e8-voronoi:bits=\(b),scales=4", group: b,
                      directionRate: fixed(r + 0.25)))
    }
    m.append(Method(label: "FP4 E2M1 absmax", spec: "fp4", group: 4, directionRate: fixed(4)))
    m.append(Method(label: "MXFP4", spec: "mxfp4", group: 4, directionRate: { d in d < 32 ? 4 + 8 / Double(d) : 4.25 }))
    m.append(Method(label: "NVFP4", spec: "nvfp4", group: 4, directionRate: { d in d < 16 ? 4 + 8 / Double(d) : 4.5 }))
    m.append(Method(label: "FP8 E4M3 absmax", spec: "fp8-e4m3", group: 8, directionRate: fixed(8)))
    return m
  }()

  /// Measures `method` at dimension d on N uniform unit vectors (seeded).
  public static func measure(_ method: Method, dimension d: Int, samples: Int, seed: UInt64 = 12345) throws -> Row {
    let quantizer = try QuantizerRegistry.standard.makeQuantizer(method.spec, dimension: d)
    var g = SeededGenerator(seed: seed)
    let values = (0..<(samples * d)).map { _ in Float(g.nextGaussian()) }
    let x = try VectorBatch(dimension: d, values: values).normalized(source: "sphere sample")
    let stats = try DirectionMeasures.measure(quantizer, on: x)
    let witness = try DirectionMeasures.angle(quantizer, DirectionMeasures.harmonicWitness(dimension: d))
    let r = method.directionRate(d)
    return Row(label: method.label, spec: method.spec, group: method.group, dimension: d, directionRate: r,
               totalRate: quantizer.layout.bitsPerCoordinate(dimension: d), statistics: stats, witnessAngle: witness,
               effectiveRate: SphericalCodeBound.effectiveRate(dimension: d, cosineLoss: stats.cosineLoss))
  }

  /// Runs the whole table. `sampleFraction` scales the note's sample sizes (1 = the note's).
  public static func run(
    dimensions: [Int] = dimensions, sampleFraction: Double = 1, methods: [Method] = methods,
    progress: (String) -> Void = { _ in }
  ) throws -> [Row] {
    var rows: [Row] = []
    for d in dimensions {
      let n = Swift.max(100, Int(Double(sampleSize(d)) * sampleFraction))
      for m in methods {
        progress("d=\(d) \(m.spec)")
        rows.append(try measure(m, dimension: d, samples: n))
      }
    }
    return rows
  }

  /// The table as text: per rate group, the bound rows then every method, one line per dimension.
  public static func text(_ rows: [Row], dimensions: [Int] = dimensions) -> String {
    var out = "Direction preservation: x uniform on the sphere, L = 1 - E cos(x, Q(x)); gap = R_dir - R_eff(L) (bits/coordinate)\n"
    out += "bound = optimal spherical code with 2^(d R) points (geometry.md 1.3); angles in degrees; witness = u_i ~ i^-1/2\n"
    out += TextColumns.left("method", 30) + TextColumns.right("d", 5) + TextColumns.right("R_dir", 7)
      + TextColumns.right("R_tot", 7) + "  " + TextColumns.left("L +- s.e.", 22)
      + ["p99", "max", "witness", "R_eff", "gap"].map { TextColumns.right($0, 8) }.joined() + "\n"
    for group in [1, 2, 3, 4, 8] {
      for d in dimensions {
        let b = SphericalCodeBound.bound(dimension: d, rate: Double(group))
        out += TextColumns.left("bound R=\(group)", 30) + String(format: "%5d %6.2f      -  ", d, Double(group))
          + TextColumns.left(String(format: "%.4g", b.cosineLoss), 22)
          + TextColumns.right("-", 8) + TextColumns.right(String(format: ">=%.2f", b.coveringAngleDegrees), 8)
          + TextColumns.right("-", 8) + String(format: " %7.3f %7.3f\n", Double(group), 0.0)
      }
      for row in rows where row.group == group {
        let s = row.statistics
        out += TextColumns.left(row.label, 30) + String(format: "%5d %6.2f %6.2f  ", row.dimension, row.directionRate, row.totalRate)
          + TextColumns.left(String(format: "%.4g +- %.2g", s.cosineLoss, s.standardError), 22)
          + String(format: " %7.2f %7.2f %7.2f %7.3f %7.3f\n", s.p99Angle, s.maxAngle, row.witnessAngle, row.effectiveRate, row.gap)
      }
    }
    out += e8Line()
    return out
  }

  /// G(E8), E8P and Voronoi MSE on N(0,1) against scalar Lloyd–Max (geometry.md §3), 20 000 blocks each.
  public static func e8Line(blocks: Int = 20_000) -> String {
    var g = SeededGenerator(seed: 31)
    // G(E8) from points uniform over a large cube.
    var gSum = 0.0
    for _ in 0..<blocks {
      let x = (0..<8).map { _ in (g.nextUniform() - 0.5) * 64 }
      let p = E8Lattice.nearestPoint(x)
      gSum += zip(x, p).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / 8
    }
    var out = String(format: "E8: G = %.5f (exact 929/12960 = %.7f, Z: 1/12 = 0.0833333), %d cells\n",
                     gSum / Double(blocks), E8Lattice.normalizedSecondMoment, blocks)
    let book = E8PCodebook.shared
    var e8p = 0.0
    for _ in 0..<blocks {
      let x = (0..<8).map { _ in g.nextGaussian() }
      let scaled = x.map { $0 * 1.04 }
      let c = book.codeword(scaled.withUnsafeBufferPointer { book.encode($0.baseAddress!) })
      e8p += zip(x, c).reduce(0) { $0 + ($1.0 - $1.1 / 1.04) * ($1.0 - $1.1 / 1.04) } / 8
    }
    out += String(format: "E8P (2 bits, scale 1.04) N(0,1) MSE %.4f vs Lloyd-Max 2-bit 0.1175\n", e8p / Double(blocks))
    let lloyd = [2: 0.117482, 3: 0.034548, 4: 0.009501]
    for b in 2...4 {
      var line = String(format: "Voronoi E8/%dE8 (%d bits) N(0,1) MSE:", 1 << b, b)
      for k in [1, 4] {
        let betas = E8Voronoi.latticeScales(q: 1 << b, count: k)
        var total = 0.0
        var gv = SeededGenerator(seed: 41)
        let n = blocks  // overloads make single-scale errors heavy-tailed: use every block
        for _ in 0..<n {
          let x = (0..<8).map { _ in gv.nextGaussian() }
          total += E8Voronoi.bestError(x, q: 1 << b, scales: betas) / 8
        }
        line += " \(k) scale\(k == 1 ? "" : "s")" + String(format: " %.4f (%.2f bits)", total / Double(n),
                        Double(b) + Double(k.trailingZeroBitCount) / 8)
      }
      out += line + String(format: "; Lloyd-Max %.4f\n", lloyd[b]!)
    }
    return out
  }
}
