import Testing
import VQ
import VQTestSupport

/// Distributed mean estimation against research/asq-ipaware.md §6 and §7 item 8, and the issue's
/// done-means (EDEN 1-bit with n clients within 3 SE of (π/2 − 1)/n). Every vector is N(0, I) from a
/// seeded generator; sample sizes and standard errors are stated next to each assertion.
@Suite struct DistributedMeanEstimationTests {
  static let d = 1024

  /// Mean and standard error of the normalized error over `repetitions` fresh draws of n clients.
  static func errorStatistics(
    _ compressor: any ClientCompressor, clients n: Int, sameVector: Bool = false, repetitions: Int, seed: UInt64
  ) throws -> (mean: Double, se: Double) {
    var values: [Double] = []
    for rep in 0..<repetitions {
      var x = TestData.gaussian(count: sameVector ? 1 : n, dimension: compressor.dimension, seed: seed &+ UInt64(rep) &* 131)
      if sameVector { x = VectorBatch.concatenated(Array(repeating: x, count: n), dimension: compressor.dimension) }
      values.append(try DistributedMeanEstimation.estimateMean(x, compressor: compressor, seed: seed ^ UInt64(rep)).normalizedError)
    }
    let mean = values.reduce(0, +) / Double(repetitions)
    let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(repetitions - 1)
    return (mean, (variance / Double(repetitions)).squareRoot())
  }

  /// The done-means: EDEN 1-bit with n = 10 clients has NMSE (π/2 − 1)/n within 3 SE.
  @Test func edenOneBitAveragesDownAsOneOverN() throws {
    let eden = try EDENCompressor.eden(bits: 1, dimension: Self.d)
    let n = 10
    // 300 repetitions of 10 clients at d = 1024; observed SE ≈ 0.00014 (0.25 % of the mean).
    let many = try Self.errorStatistics(eden, clients: n, repetitions: 300, seed: 11)
    let theory = (Double.pi / 2 - 1) / Double(n)
    #expect(abs(many.mean - theory) <= 3 * many.se, "NMSE \(many.mean) ± \(many.se) vs (π/2 − 1)/10 = \(theory)")
  }

  /// §7 item 8: single-client vNMSE ranges at d = 1024, and n = 10 scaling as 1/n within 10 %.
  @Test(arguments: [(1, 0.55, 0.59), (2, 0.125, 0.14), (4, 0.0090, 0.0100)])
  func edenRangesAndScaling(bits: Int, low: Double, high: Double) throws {
    let eden = try EDENCompressor.eden(bits: bits, dimension: Self.d)
    // 400 single-client repetitions (SE ≈ 0.1 % of the mean) and 150 repetitions of 10 clients (SE ≈ 0.3 %).
    let one = try Self.errorStatistics(eden, clients: 1, repetitions: 400, seed: 21)
    let many = try Self.errorStatistics(eden, clients: 10, repetitions: 150, seed: 22)
    #expect(one.mean >= low && one.mean <= high, "b = \(bits): vNMSE \(one.mean) ± \(one.se) outside [\(low), \(high)]")
    #expect(abs(many.mean * 10 / one.mean - 1) <= 0.10, "b = \(bits): n = 10 NMSE \(many.mean) vs vNMSE/10 = \(one.mean / 10)")
    // And the d → ∞ theory 1/(1 − D_b) − 1 within 1 % (finite d reads ≈ 0.4 % low at b = 1).
    let theory = try DistributedMeanEstimation.edenTheoreticalVNMSE(bits: bits)
    #expect(abs(one.mean / theory - 1) <= 0.01 + 3 * one.se / theory, "b = \(bits): vNMSE \(one.mean) vs theory \(theory)")
  }

  /// DRIVE's biased scale: one client at 1 − 2/π; with 10 clients holding the same vector its error
  /// stays at the bias floor (1 − 2/π)² + (2/π)(1 − 2/π)/10 = 0.1554, far above the 0.0363 that 1/n
  /// averaging would give; with independent zero-mean vectors the biases cancel (theory (1 − 2/π)/n).
  @Test func biasedDriveDoesNotAverageDown() throws {
    let drive = try EDENCompressor.drive(dimension: Self.d)
    // 300 repetitions each; SE ≈ 0.1–0.3 % of the means.
    let one = try Self.errorStatistics(drive, clients: 1, repetitions: 300, seed: 31)
    let same = try Self.errorStatistics(drive, clients: 10, sameVector: true, repetitions: 300, seed: 32)
    let singleTheory = 1 - 2 / Double.pi
    let sameTheory = DistributedMeanEstimation.driveTheoreticalNMSE(clients: 10)
    // Finite-d allowance 1 % besides 3 SE (the theory is the d → ∞ limit).
    #expect(abs(one.mean - singleTheory) <= 3 * one.se + 0.01 * singleTheory, "vNMSE \(one.mean) ± \(one.se) vs 1 − 2/π")
    #expect(abs(same.mean - sameTheory) <= 3 * same.se + 0.01 * sameTheory, "NMSE \(same.mean) ± \(same.se) vs \(sameTheory)")
    #expect(same.mean > 4 * singleTheory / 10, "the biased error must not average down: \(same.mean)")
    // EDEN (unbiased) on the same identical-vector clients does average down.
    let eden = try Self.errorStatistics(try EDENCompressor.eden(bits: 1, dimension: Self.d), clients: 10, sameVector: true,
                                        repetitions: 100, seed: 33)
    #expect(abs(eden.mean - (Double.pi / 2 - 1) / 10) <= 3 * eden.se + 0.01 * 0.0571, "EDEN same-vector NMSE \(eden.mean) ± \(eden.se)")
  }

  /// Unbiasedness per coordinate: the mean of T reconstructions of one fixed x (d = 64). Aggregate test:
  /// Σ_i z_i² (z_i = (mean_i − x_i)/SE_i) is χ²_64, asserted ≤ 64 + 3·√128 (3 SE of the χ² law); every
  /// |z_i| ≤ 4.5 (Bonferroni over 64 coordinates: a false alarm has probability < 5e-4). DRIVE's biased
  /// mean (2/π)x must fail the same test (power check).
  @Test func qsgdAndHadamardStochasticRoundingAreUnbiased() throws {
    let d = 64, trials = 20_000
    let x = TestData.gaussian(count: 1, dimension: d, seed: 41)[row: 0]
    func zScores(_ compressor: any ClientCompressor) throws -> [Double] {
      var sum = [Double](repeating: 0, count: d), squares = [Double](repeating: 0, count: d)
      for t in 0..<trials {
        let xHat = try compressor.roundTrip(x, seed: UInt64(t) &* 0x9E37 &+ 5)
        for i in 0..<d {
          sum[i] += Double(xHat[i])
          squares[i] += Double(xHat[i]) * Double(xHat[i])
        }
      }
      return (0..<d).map { i in
        let mean = sum[i] / Double(trials)
        let variance = (squares[i] / Double(trials) - mean * mean) * Double(trials) / Double(trials - 1)
        let se = (max(variance, 0) / Double(trials)).squareRoot()
        return se > 0 ? (mean - Double(x[i])) / se : (mean == Double(x[i]) ? 0 : .infinity)
      }
    }
    let chiSquareBound = Double(d) + 3 * (2 * Double(d)).squareRoot()
    for compressor: any ClientCompressor in [
      try QSGDCompressor(levels: 2, dimension: d), try QSGDCompressor(levels: 1, dimension: d),
      try StochasticRoundingCompressor.hadamard(bits: 2, dimension: d), try StochasticRoundingCompressor.hadamard(bits: 1, dimension: d),
      try StochasticRoundingCompressor.asq(bits: 2, dimension: d), try EDENCompressor.eden(bits: 1, dimension: d),
    ] {
      let z = try zScores(compressor)
      let chiSquare = z.map { $0 * $0 }.reduce(0, +)
      #expect(chiSquare <= chiSquareBound, "\(compressor.name): Σz² = \(chiSquare) > \(chiSquareBound) (T = \(trials))")
      #expect(z.allSatisfy { abs($0) <= 4.5 }, "\(compressor.name): max |z| = \(z.map { abs($0) }.max()!)")
    }
    let driveZ = try zScores(try EDENCompressor.drive(dimension: d))
    #expect(driveZ.map { $0 * $0 }.reduce(0, +) > 10 * chiSquareBound, "DRIVE's biased scale should be detected")
  }

  /// The same estimate with 1 or 2 threads and with the task-group API (any scheduling).
  @Test func resultsDoNotDependOnScheduling() async throws {
    let x = TestData.gaussian(count: 12, dimension: 300, seed: 51)
    for compressor: any ClientCompressor in [
      try EDENCompressor.eden(bits: 2, dimension: 300), try QSGDCompressor(levels: 3, dimension: 300),
      try StochasticRoundingCompressor.hadamard(bits: 4, dimension: 300), try StochasticRoundingCompressor.asq(bits: 1, dimension: 300),
    ] {
      let one = try DistributedMeanEstimation.estimateMean(x, compressor: compressor, seed: 9, round: 3, threads: 1)
      let two = try DistributedMeanEstimation.estimateMean(x, compressor: compressor, seed: 9, round: 3, threads: 2)
      let grouped = try await DistributedMeanEstimation.estimateMeanConcurrently(x, compressor: compressor, seed: 9, round: 3)
      #expect(one.mean == two.mean && one.mean == grouped.mean, "\(compressor.name)")
      #expect(one.normalizedError == grouped.normalizedError)
      // A different round draws different randomness.
      let other = try DistributedMeanEstimation.estimateMean(x, compressor: compressor, seed: 9, round: 4)
      #expect(other.mean != one.mean, "\(compressor.name)")
    }
  }

  /// Message sizes: every side value counted, the Hadamard padding included.
  @Test func bitsSentAreHonest() throws {
    #expect(try EDENCompressor.eden(bits: 1, dimension: 1024).bitsPerMessage == 1024 + 32)
    #expect(try EDENCompressor.eden(bits: 2, dimension: 1000).bitsPerMessage == 1024 * 2 + 32)   // padded to 1024
    #expect(try EDENCompressor.drive(dimension: 384).bitsPerMessage == 384 + 32)                  // 12·32: no padding
    #expect(try QSGDCompressor(levels: 2, dimension: 100).bitsPerMessage == 32 + 100 * 3)          // 5 symbols → 3 bits
    #expect(try QSGDCompressor(levels: 1, dimension: 100).bitsPerMessage == 32 + 100 * 2)
    #expect(try QSGDCompressor(levels: 15, dimension: 100).bitsPerMessage == 32 + 100 * 5)
    #expect(try StochasticRoundingCompressor.hadamard(bits: 4, dimension: 1000).bitsPerMessage == 1024 * 4 + 64)
    #expect(try StochasticRoundingCompressor.asq(bits: 2, dimension: 1000).bitsPerMessage == 1000 * 2 + 4 * 32)
    #expect(try FullPrecisionCompressor(dimension: 10).bitsPerCoordinate == 32)
    // A zero vector round-trips to zero.
    for compressor: any ClientCompressor in [try EDENCompressor.eden(bits: 1, dimension: 16), try QSGDCompressor(levels: 2, dimension: 16),
                                              try StochasticRoundingCompressor.hadamard(bits: 2, dimension: 16)] {
      #expect(try compressor.roundTrip([Float](repeating: 0, count: 16), seed: 1) == [Float](repeating: 0, count: 16))
    }
  }

  @Test func badInputThrows() throws {
    let eden = try EDENCompressor.eden(bits: 1, dimension: 8)
    #expect(throws: VQError.dimensionMismatch(expected: 8, got: 7, what: "client vector")) {
      try eden.roundTrip([Float](repeating: 1, count: 7), seed: 1)
    }
    var values = [Float](repeating: 1, count: 3 * 8)
    values[2 * 8 + 5] = .nan
    let batch = try VectorBatch(dimension: 8, values: values)
    #expect(throws: VQError.self) { try DistributedMeanEstimation.estimateMean(batch, compressor: eden, seed: 1) }
    do {
      _ = try DistributedMeanEstimation.estimateMean(batch, compressor: eden, seed: 1)
    } catch VQError.nonFinite(_, let row, let column, _) {
      #expect(row == 2 && column == 5)
    }
    #expect(throws: VQError.self) { try EDENCompressor.eden(bits: 9, dimension: 8) }
    #expect(throws: VQError.self) { try QSGDCompressor(levels: 0, dimension: 8) }
    #expect(throws: VQError.self) { try StochasticRoundingCompressor.hadamard(bits: 0, dimension: 8) }
    #expect(throws: VQError.self) {
      try DistributedMeanEstimation.estimateMean(TestData.gaussian(count: 2, dimension: 9, seed: 1), compressor: eden, seed: 1)
    }
  }
}
