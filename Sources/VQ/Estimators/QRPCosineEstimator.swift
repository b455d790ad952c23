import RealModule

/// Cosine similarity from b-bit quantized Gaussian random projections: the maximum-likelihood estimator
/// over the bivariate-normal cell probabilities, its Fisher information, and the simple estimators it
/// is compared with (linear, normalised cosine, 1-bit SimHash).
///
/// Papers: P. Li, M. Mitzenmacher, M. Slawski, "Quantized Random Projections and Non-Linear Estimation
/// of Cosine Similarity", NeurIPS 2016 (the MLE, its Fisher information, bits vs projections); P. Li,
/// M. Slawski, "Simple strategies for recovering inner products from coarsely quantized random
/// projections", NeurIPS 2017 (the normalised estimator is nearly as good from 3 bits). research
/// geometry.md §4.
///
/// Model: unit x, y with ρ = ⟨x, y⟩ and k projections z = Gx, z' = Gy (G with i.i.d. N(0, 1) entries),
/// so the pairs (z_j, z'_j) are i.i.d. standard bivariate normal with correlation ρ; each coordinate is
/// coded by the b-bit Lloyd–Max quantizer of N(0, 1) (`ScalarCodebook.gaussian`, K = 2^b cells).
/// Algorithm:
/// 1. cell probabilities P_lm(ρ) = 4-corner differences of Φ2 at the thresholds (`BivariateNormal`);
///    equal by symmetry ((l, m) ~ (m, l) ~ (K−1−l, K−1−m)), so only ~K²/4 classes are kept;
/// 2. count the K × K table n_lm of code pairs (folded into the classes);
/// 3. ℓ(ρ) = Σ n_lm log P_lm(ρ) on a cached grid of 1 999 correlations (uniform in θ = arccos ρ);
/// 4. from the grid's argmax, safeguarded Newton on ℓ'(ρ) = 0 with exact ∂P/∂ρ = 4-corner φ2 and
///    ∂²P/∂ρ² = 4-corner ∂φ2/∂ρ (Plackett), kept inside the neighbouring grid points;
/// 5. all codes on the diagonal (l = m) give ρ̂ = 1, all on the anti-diagonal ρ̂ = −1 (the likelihood's
///    supremum is there).
///
/// Guarantee: asymptotically efficient, Var(ρ̂) ≈ 1/(k·I(ρ)) with I(ρ) = Σ (∂P_lm/∂ρ)²/P_lm (cells with
/// P < 1e−12 dropped: they carry no information Φ2's rounding could resolve); for b = 1 this is
/// sin²θ·θ(π − θ)/k with θ = arccos ρ, the SimHash variance, and the MLE is SimHash's
/// cos(π(1 − P̂_agree)). At k = 256 the measured variance is within MC error of 1/(kI) (geometry.md §4.3).
/// The linear estimator (1/k)Σ Q(z)Q(z')/E[Q²] is biased (b = 1: its mean is (2/π)·arcsin ρ); the
/// normalised cos(Q(z), Q(z')) is biased too, less so from 3 bits.
public struct QRPCosineEstimator: Sendable {
  /// Correlations of the likelihood grid (research: 1 999 points).
  public static let defaultGridSize = 1999
  /// Bit widths with a likelihood table (tables have ~4^b/4 classes × the grid; at 5–6 bits they take
  /// 0.3–2 s to build and the normalised estimator is already close to the MLE).
  public static let supportedBits: ClosedRange<Int> = 1...6
  /// Cells below this probability are left out of the Fisher information.
  public static let fisherCellFloor = 1e-12

  public let bits: Int
  /// K = 2^b cells per coordinate.
  public let levels: Int
  /// The Lloyd–Max codebook of N(0, 1) the codes come from.
  public let codebook: ScalarCodebook
  /// E[Q(z)²] for z ~ N(0, 1) (= 1 − distortion for a Lloyd–Max codebook).
  public let secondMoment: Double
  /// The likelihood grid, ascending in (−1, 1): ρ_g = −cos(π(g + 1)/(G + 1)).
  public let gridRho: [Double]
  /// Number of symmetry classes of cells.
  public let classCount: Int

  /// Class of cell (l, m), row-major K × K.
  let classOfCell: [Int]
  /// Cells per class.
  let multiplicity: [Int]
  /// A class's representative as a cell (K/2 + row, K/2 + column) of the upper-right quadrant, at
  /// correlation +ρ or, when flipped, −ρ (reflecting Y → −Y).
  let representativeRow: [Int]
  let representativeColumn: [Int]
  let flipped: [Bool]
  /// Thresholds of the upper half with both ends: 0, t_{K/2+1}, …, t_{K−1}, +∞.
  let upperEdges: [Double]
  /// log P_c(ρ_g) for one cell of class c, class-major (classCount × grid), floored at log 1e−300.
  let logProbability: [Double]

  /// The estimator for b-bit codes, tables built once per process (`gridSize` = 1 999).
  public static func cached(bits: Int) throws -> QRPCosineEstimator {
    guard supportedBits.contains(bits) else {
      throw VQError.outOfRange("QRP cosine estimator: bits=\(bits) is out of range (allowed: \(supportedBits.lowerBound)...\(supportedBits.upperBound))")
    }
    return cache.value(for: bits) { QRPCosineEstimator(validBits: $0, gridSize: defaultGridSize) }
  }

  private static let cache = LockedCache<Int, QRPCosineEstimator>()

  /// Builds the tables for b-bit codes and a likelihood grid of `gridSize` correlations.
  public init(bits: Int, gridSize: Int = defaultGridSize) throws {
    guard Self.supportedBits.contains(bits) else {
      throw VQError.outOfRange("QRP cosine estimator: bits=\(bits) is out of range (allowed: \(Self.supportedBits.lowerBound)...\(Self.supportedBits.upperBound))")
    }
    guard (3...100_000).contains(gridSize) else {
      throw VQError.outOfRange("QRP cosine estimator: gridSize=\(gridSize) is out of range (allowed: 3...100000)")
    }
    self.init(validBits: bits, gridSize: gridSize)
  }

  private init(validBits bits: Int, gridSize: Int) {
    self.bits = bits
    let k = 1 << bits, half = k / 2
    levels = k
    codebook = try! ScalarCodebook.gaussian(bits: bits)   // 1...6 ⊂ the codebooks' 1...8
    var edges = [-Double.infinity] + codebook.thresholds + [Double.infinity]
    edges[half] = 0
    upperEdges = Array(edges[half...])
    var moment = 0.0
    for j in 0..<k {
      let mass = BivariateNormal.standardNormalCDF(edges[j + 1]) - BivariateNormal.standardNormalCDF(edges[j])
      moment += mass * codebook.centroids[j] * codebook.centroids[j]
    }
    secondMoment = moment

    // Symmetry classes: central symmetry puts l in the upper half, the reflection Y → −Y (at −ρ) puts
    // m there too, exchangeability orders the pair.
    var keyToClass: [Int: Int] = [:]
    var classOfCell = [Int](repeating: 0, count: k * k)
    var multiplicity: [Int] = [], rows: [Int] = [], columns: [Int] = [], flipped: [Bool] = []
    for l in 0..<k {
      for m in 0..<k {
        var (u, v) = l >= half ? (l, m) : (k - 1 - l, k - 1 - m)
        var flip = false
        if v < half { v = k - 1 - v; flip = true }
        if v > u { swap(&u, &v) }
        let key = ((flip ? 1 : 0) * k + u) * k + v
        let c: Int
        if let existing = keyToClass[key] {
          c = existing
        } else {
          c = multiplicity.count
          keyToClass[key] = c
          multiplicity.append(0); rows.append(u - half); columns.append(v - half); flipped.append(flip)
        }
        multiplicity[c] += 1
        classOfCell[l * k + m] = c
      }
    }
    self.classOfCell = classOfCell
    self.multiplicity = multiplicity
    representativeRow = rows
    representativeColumn = columns
    self.flipped = flipped
    classCount = multiplicity.count

    gridRho = (0..<gridSize).map { g in -Double.cos(Double.pi * Double(g + 1) / Double(gridSize + 1)) }
    var table = [Double](repeating: 0, count: multiplicity.count * gridSize)
    let classes = multiplicity.count
    // Built before `logProbability` is set, so through a helper that needs only the class geometry.
    let geometry = ClassGeometry(
      upperEdges: upperEdges, rows: rows, columns: columns, flipped: flipped)
    for g in 0..<gridSize {
      let p = geometry.probabilities(rho: gridRho[g], derivatives: false)
      for c in 0..<classes { table[c * gridSize + g] = Double.log(max(p.probability[c], 1e-300)) }
    }
    logProbability = table
  }

  var geometry: ClassGeometry {
    ClassGeometry(upperEdges: upperEdges, rows: representativeRow, columns: representativeColumn, flipped: flipped)
  }

  // MARK: Cell probabilities and Fisher information

  /// The K × K table P_lm(ρ) (row-major; sums to 1).
  public func cellProbabilities(rho: Double) -> [Double] {
    let p = geometry.probabilities(rho: rho, derivatives: false).probability
    return classOfCell.map { p[$0] }
  }

  /// Fisher information per projection, I(ρ) = Σ (∂P_lm/∂ρ)²/P_lm over cells with P ≥ 1e−12, |ρ| < 1.
  public func fisherInformation(rho: Double) -> Double {
    let p = geometry.probabilities(rho: rho, derivatives: true)
    var total = 0.0
    for c in 0..<classCount where p.probability[c] >= Self.fisherCellFloor {
      total += Double(multiplicity[c]) * p.firstDerivative[c] * p.firstDerivative[c] / p.probability[c]
    }
    return total
  }

  /// The MLE's asymptotic variance 1/(k·I(ρ)) from k projections.
  public func asymptoticVariance(rho: Double, projections: Int) -> Double {
    1 / (Double(projections) * fisherInformation(rho: rho))
  }

  // MARK: Counting

  /// The symmetry class of the code pair (a, b); codes are in 0..<K.
  @inline(__always)
  public func classIndex(_ a: Int, _ b: Int) -> Int { classOfCell[a * levels + b] }

  /// Counts of the code pairs (a_j, b_j) per symmetry class (`classCount` entries).
  public func classCounts(_ a: [UInt8], _ b: [UInt8]) -> [Int] {
    precondition(a.count == b.count, "code sequences of different lengths")
    var counts = [Int](repeating: 0, count: classCount)
    for j in 0..<a.count { counts[classOfCell[Int(a[j]) * levels + Int(b[j])]] += 1 }
    return counts
  }

  /// The K × K count table n_lm of the code pairs (row-major).
  public func countTable(_ a: [UInt8], _ b: [UInt8]) -> [Int] {
    precondition(a.count == b.count, "code sequences of different lengths")
    var table = [Int](repeating: 0, count: levels * levels)
    for j in 0..<a.count { table[Int(a[j]) * levels + Int(b[j])] += 1 }
    return table
  }

  /// The K × K count table folded into the symmetry classes.
  public func classCounts(table: [Int]) -> [Int] {
    precondition(table.count == levels * levels, "count table must be K × K = \(levels * levels)")
    var counts = [Int](repeating: 0, count: classCount)
    for cell in 0..<table.count { counts[classOfCell[cell]] += table[cell] }
    return counts
  }

  // MARK: Estimators

  /// ℓ(ρ) = Σ n_c log P_c(ρ) for class counts n_c, at any |ρ| < 1.
  public func logLikelihood(classCounts counts: [Int], rho: Double) -> Double {
    let p = geometry.probabilities(rho: rho, derivatives: false).probability
    var total = 0.0
    for c in 0..<classCount where counts[c] != 0 { total += Double(counts[c]) * Double.log(max(p[c], 1e-300)) }
    return total
  }

  /// The maximum-likelihood ρ̂ ∈ [−1, 1] from the class counts (`classCounts`): grid argmax, then
  /// safeguarded Newton between the neighbouring grid points to |Δρ| < 1e−12.
  public func maximumLikelihood(classCounts counts: [Int]) -> Double {
    precondition(counts.count == classCount, "class counts must have \(classCount) entries")
    var nonzero: [Int] = []
    var onDiagonal = true, onAntiDiagonal = true
    for c in 0..<classCount where counts[c] != 0 {
      nonzero.append(c)
      let diagonal = representativeRow[c] == representativeColumn[c]
      if !(diagonal && !flipped[c]) { onDiagonal = false }
      if !(diagonal && flipped[c]) { onAntiDiagonal = false }
    }
    if nonzero.isEmpty { return 0 }
    if onDiagonal { return 1 }
    if onAntiDiagonal { return -1 }

    let n = gridRho.count
    var best = 0
    var likelihood = [Double](repeating: 0, count: n)
    likelihood.withUnsafeMutableBufferPointer { acc in
      logProbability.withUnsafeBufferPointer { table in
        for c in nonzero {
          let weight = Double(counts[c])
          let column = table.baseAddress! + c * n
          for g in 0..<n { acc[g] += weight * column[g] }
        }
        var bestValue = -Double.infinity
        for g in 0..<n where acc[g] > bestValue { bestValue = acc[g]; best = g }
      }
    }
    var lo = best > 0 ? gridRho[best - 1] : -1
    var hi = best < n - 1 ? gridRho[best + 1] : 1
    var rho = gridRho[best]
    let geometry = self.geometry
    for _ in 0..<60 {
      let p = geometry.probabilities(rho: rho, derivatives: true)
      var first = 0.0, second = 0.0
      for c in nonzero {
        let pc = max(p.probability[c], 1e-300), w = Double(counts[c])
        let ratio = p.firstDerivative[c] / pc
        first += w * ratio
        second += w * (p.secondDerivative[c] / pc - ratio * ratio)
      }
      if first > 0 { lo = rho } else { hi = rho }
      var next = second < 0 ? rho - first / second : .nan
      if !(next > lo && next < hi) { next = (lo + hi) / 2 }
      let step = abs(next - rho)
      rho = next
      if step < 1e-12 || hi - lo < 1e-12 { break }
    }
    return rho
  }

  /// The MLE from two code sequences (one code in 0..<K per projection).
  public func maximumLikelihood(_ a: [UInt8], _ b: [UInt8]) -> Double {
    maximumLikelihood(classCounts: classCounts(a, b))
  }

  /// The linear estimator (1/k) Σ Q(z_j)Q(z'_j) / E[Q²] (biased: b = 1 gives (2/π) arcsin ρ on average).
  public func linearEstimate(_ a: [UInt8], _ b: [UInt8]) -> Double {
    precondition(a.count == b.count && !a.isEmpty, "code sequences of different lengths or empty")
    let c = codebook.centroids
    var sum = 0.0
    for j in 0..<a.count { sum += c[Int(a[j])] * c[Int(b[j])] }
    return sum / (Double(a.count) * secondMoment)
  }

  /// The normalised estimator cos(Q(z), Q(z')) = Σ QQ' / √(Σ Q² Σ Q'²).
  public func normalizedEstimate(_ a: [UInt8], _ b: [UInt8]) -> Double {
    precondition(a.count == b.count && !a.isEmpty, "code sequences of different lengths or empty")
    let c = codebook.centroids
    var ab = 0.0, aa = 0.0, bb = 0.0
    for j in 0..<a.count {
      let u = c[Int(a[j])], v = c[Int(b[j])]
      ab += u * v; aa += u * u; bb += v * v
    }
    return ab / (aa * bb).squareRoot()
  }

  /// SimHash (1 bit): ρ̂ = cos(π(1 − agreements/k)), the MLE for b = 1.
  public static func simHashEstimate(agreements: Int, projections: Int) -> Double {
    Double.cos(Double.pi * (1 - Double(agreements) / Double(projections)))
  }

  /// k·Var of SimHash (and of the 1-bit MLE): sin²θ·θ(π − θ), θ = arccos ρ; equals 1/I(ρ) at b = 1.
  public static func simHashScaledVariance(rho: Double) -> Double {
    let theta = Double.acos(rho), s = Double.sin(theta)
    return s * s * theta * (Double.pi - theta)
  }
}

/// The geometry of the symmetry classes: each class's representative cell in the upper-right
/// quadrant, and whether it is taken at −ρ. Computes every class's P, ∂P/∂ρ, ∂²P/∂ρ² at one ρ from
/// the upper orthant L(h, k; ±ρ) at the (K/2 + 1)² corners of the upper thresholds — tail cells are
/// differences of small orthant values, so their probabilities keep their absolute accuracy.
struct ClassGeometry: Sendable {
  let upperEdges: [Double]
  let rows: [Int]
  let columns: [Int]
  let flipped: [Bool]

  struct Values {
    var probability: [Double]
    var firstDerivative: [Double]
    var secondDerivative: [Double]
  }

  func probabilities(rho: Double, derivatives: Bool) -> Values {
    let n = upperEdges.count
    var orthant = ([Double](repeating: 0, count: n * n), [Double](repeating: 0, count: n * n))
    var density = ([Double](repeating: 0, count: n * n), [Double](repeating: 0, count: n * n))
    var densitySlope = ([Double](repeating: 0, count: n * n), [Double](repeating: 0, count: n * n))
    let needsFlipped = flipped.contains(true)
    for (sign, slot) in [(1.0, 0), (-1.0, 1)] where slot == 0 || needsFlipped {
      let r = sign * rho
      let law = BivariateNormal.AtCorrelation(rho: r)
      var l = [Double](repeating: 0, count: n * n)
      var f = [Double](repeating: 0, count: derivatives ? n * n : 0)
      var fs = [Double](repeating: 0, count: derivatives ? n * n : 0)
      for i in 0..<n {
        for j in i..<n {
          let h = upperEdges[i], k = upperEdges[j]
          let value = law.upperOrthant(h, k)
          l[i * n + j] = value; l[j * n + i] = value
          if derivatives {
            let d = BivariateNormal.density(h, k, rho: r)
            let s = BivariateNormal.densityRhoDerivative(h, k, rho: r)
            f[i * n + j] = d; f[j * n + i] = d
            fs[i * n + j] = s; fs[j * n + i] = s
          }
        }
      }
      if slot == 0 { orthant.0 = l; density.0 = f; densitySlope.0 = fs } else { orthant.1 = l; density.1 = f; densitySlope.1 = fs }
    }
    let classes = rows.count
    var out = Values(
      probability: [Double](repeating: 0, count: classes),
      firstDerivative: [Double](repeating: 0, count: derivatives ? classes : 0),
      secondDerivative: [Double](repeating: 0, count: derivatives ? classes : 0))
    @inline(__always) func corners(_ t: [Double], _ i: Int, _ j: Int) -> Double {
      t[i * n + j] - t[(i + 1) * n + j] - t[i * n + j + 1] + t[(i + 1) * n + j + 1]
    }
    for c in 0..<classes {
      let i = rows[c], j = columns[c]
      if flipped[c] {
        out.probability[c] = max(0, corners(orthant.1, i, j))
        if derivatives {
          out.firstDerivative[c] = -corners(density.1, i, j)
          out.secondDerivative[c] = corners(densitySlope.1, i, j)
        }
      } else {
        out.probability[c] = max(0, corners(orthant.0, i, j))
        if derivatives {
          out.firstDerivative[c] = corners(density.0, i, j)
          out.secondDerivative[c] = corners(densitySlope.0, i, j)
        }
      }
    }
    return out
  }
}
