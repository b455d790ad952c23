import Foundation
import Testing
import VQ

/// The LASER-style streaming low-rank tracker (research/geometry.md §6, "What to build and test"):
/// synthetic rank-r low-rank-plus-noise streams whose subspace rotates slowly and jumps once.
@Suite struct LowRankTrackerTests {
  /// D = 48, r = 4, blocks of B = 24 rows. Rows are x = U(t)·z + noise with z ~ N(0, diag(9, 6.25, 4,
  /// 2.25)) (energy 21.5 per row) and noise N(0, 0.03²) per coordinate (0.043 per row: 0.2 % of the
  /// energy). U(t) = cos(δt)·A + sin(δt)·A′ rotates by δ radians per block in the planes of two
  /// orthonormal r-frames; at `jumpBlock` the stream moves to a fresh pair of frames orthogonal to the
  /// first (a rank-r jump). `noise: 0` gives an exact rank-r stream.
  struct Stream {
    static let dimension = 48, rank = 4, blockRows = 24
    static let scales = [3.0, 2.5, 2.0, 1.5]
    var blocks: [DenseMatrix] = []

    init(blocks count: Int, drift: Double, jumpBlock: Int?, noise: Double = 0.03, seed: UInt64) {
      let d = Self.dimension, r = Self.rank
      var g = SeededGenerator(seed: seed)
      var raw = DenseMatrix(rows: d, columns: 4 * r)
      for i in 0..<raw.values.count { raw.values[i] = g.nextGaussian() }
      let frames = raw.thinQR().q  // four orthonormal r-frames, mutually orthogonal
      for t in 0..<count {
        let jumped = jumpBlock.map { t >= $0 } ?? false
        let first = jumped ? 2 * r : 0
        let angle = drift * Double(t)
        var u = DenseMatrix(rows: d, columns: r)
        for row in 0..<d {
          for c in 0..<r {
            u[row, c] = cos(angle) * frames[row, first + c] + sin(angle) * frames[row, first + r + c]
          }
        }
        var z = DenseMatrix(rows: Self.blockRows, columns: r)
        for i in 0..<Self.blockRows { for c in 0..<r { z[i, c] = Self.scales[c] * g.nextGaussian() } }
        var x = z.multipliedTransposed(by: u)
        if noise > 0 { for i in 0..<x.values.count { x.values[i] += noise * g.nextGaussian() } }
        blocks.append(x)
      }
    }

    func run(_ configuration: LowRankTracker.Configuration = .init()) throws -> LowRankTracker {
      var tracker = try LowRankTracker(dimension: Self.dimension, configuration: configuration)
      for b in blocks { try tracker.append(b) }
      return tracker
    }
  }

  @Test func slowlyRotatingStreamIsTrackedWithoutResets() throws {
    let eta = 0.99
    for seed: UInt64 in [1, 2, 3] {
      let tracker = try Stream(blocks: 40, drift: 0.01, jumpBlock: nil, seed: seed).run(.init(energy: eta))
      #expect(tracker.resetCount == 0, "seed \(seed): \(tracker.records.filter { $0.event == .reset })")
      // 0.4 rad of drift over 40 blocks (0.01 per block): the frozen basis must be refreshed from the tracked one.
      #expect(tracker.refreshCount >= 3, "seed \(seed)")
      for r in tracker.records {
        #expect(r.fidelity >= eta, "seed \(seed) block \(r.index)")
        #expect(r.rank == Stream.rank, "seed \(seed) block \(r.index)")
      }
    }
  }

  @Test func rankJumpResetsExactlyOnceAtTheBlockAfterIt() throws {
    let eta = 0.99, jump = 25
    for seed: UInt64 in [4, 5, 6] {
      let tracker = try Stream(blocks: 40, drift: 0.01, jumpBlock: jump, seed: seed).run(.init(energy: eta))
      #expect(tracker.resetCount == 1, "seed \(seed)")
      #expect(tracker.records[jump].event == .reset, "seed \(seed)")
      #expect(tracker.records[0].event == .initial)
      for r in tracker.records {
        #expect(r.fidelity >= eta, "seed \(seed) block \(r.index)")
        #expect(r.storedFidelity == r.fidelity)
      }
      // Without tracking (s = 0), drift alone forces resets: the power iterations are what avoid them.
      let untracked = try Stream(blocks: 40, drift: 0.01, jumpBlock: jump, seed: seed).run(.init(energy: eta, iterations: 0))
      #expect(untracked.resetCount > 1, "seed \(seed)")
    }
  }

  @Test func memoryRatioIsRankOverDimensionPlusBasisOverhead() throws {
    let d = Stream.dimension, r = Stream.rank, b = Stream.blockRows, n = 40
    // Stationary subspace: one version, so the ratio is r/D + r/(n·B) exactly (to rounding).
    let still = try Stream(blocks: n, drift: 0, jumpBlock: nil, seed: 7).run()
    #expect(still.versions.count == 1)
    let m = still.memory
    #expect(abs(m.lowRankRatio - (Double(r) / Double(d) + Double(r) / Double(n * b))) < 1e-15)
    #expect(abs(m.ratio - m.lowRankRatio) < 1e-15)  // no quantizer: bits ratio = value ratio
    #expect(m.bitsPerCoordinate == 32 * m.lowRankRatio)
    // Drifting with one jump: V versions cost V·D·r values; every block has rank r, so the ratio is
    // r/D + V·r/(n·B) exactly, and tracking keeps V small: the overhead stays under 0.05 (V ≤ 12 of 40).
    let moving = try Stream(blocks: n, drift: 0.01, jumpBlock: 25, seed: 8).run()
    let v = moving.versions.count
    #expect(abs(moving.memory.lowRankRatio - (Double(r) / Double(d) + Double(v * r) / Double(n * b))) < 1e-15)
    #expect(moving.memory.lowRankRatio - Double(r) / Double(d) < 0.05, "versions \(v)")
  }

  @Test func noiselessRankRStreamDecodesExactly() throws {
    let stream = Stream(blocks: 12, drift: 0, jumpBlock: 6, noise: 0, seed: 9)
    let tracker = try stream.run(.init(energy: 0.999))
    #expect(tracker.resetCount == 1 && tracker.records[6].event == .reset)
    let all = try tracker.decodeAll()
    #expect(all.rows == 12 * Stream.blockRows)
    var worst = 0.0, scale = 0.0
    for (t, x) in stream.blocks.enumerated() {
      let xHat = try tracker.decode(block: t)
      for i in 0..<x.values.count {
        worst = max(worst, abs(x.values[i] - xHat.values[i]))
        scale = max(scale, abs(x.values[i]))
        #expect(all.values[t * x.values.count + i] == xHat.values[i])
      }
    }
    #expect(worst <= 1e-10 * scale, "max error \(worst), max |x| \(scale)")
    // Inner products from the coefficients equal those of the decoded rows.
    var g = SeededGenerator(seed: 10)
    let q = (0..<Stream.dimension).map { _ in Float(g.nextGaussian()) }
    let est = try tracker.estimateInnerProducts(query: q)
    for i in 0..<all.rows {
      var s = 0.0
      for c in 0..<Stream.dimension { s += Double(q[c]) * all[i, c] }
      #expect(abs(est[i] - s) <= 1e-9 * (1 + abs(s)))
    }
  }

  @Test func badParametersAndInputsThrow() throws {
    let d = 8
    for eta in [0.0, 1.0, -0.5, 1.5, .nan] {
      #expect(throws: VQError.self) { try LowRankTracker(dimension: d, configuration: .init(energy: eta)) }
    }
    #expect(throws: VQError.self) { try LowRankTracker(dimension: 0) }
    #expect(throws: VQError.self) { try LowRankTracker(dimension: d, configuration: .init(iterations: -1)) }
    #expect(throws: VQError.self) { try LowRankTracker(dimension: d, configuration: .init(iterations: 17)) }
    #expect(throws: VQError.self) { try LowRankTracker(dimension: d, configuration: .init(forgetting: 1.5)) }
    #expect(throws: VQError.self) { try LowRankTracker(dimension: d, configuration: .init(maxRank: 0)) }
    #expect(throws: VQError.self) { try LowRankTracker(dimension: d, configuration: .init(maxRank: d + 1)) }
    #expect(throws: VQError.self) { try LowRankTracker(dimension: d, valueBits: 0) }
    var tracker = try LowRankTracker(dimension: d)
    #expect(throws: VQError.dimensionMismatch(expected: d, got: d + 1, what: "LowRankTracker block 0")) {
      try tracker.append(DenseMatrix(rows: 4, columns: d + 1))
    }
    #expect(throws: VQError.self) { try tracker.append(DenseMatrix(rows: 0, columns: d)) }
    var bad = DenseMatrix(rows: 4, columns: d, repeating: 1)
    bad[2, 5] = .nan
    let error = #expect(throws: VQError.self) { try tracker.append(bad) }
    if case .nonFinite(let source, let row, let column, let value) = error {
      #expect(source == "LowRankTracker block 0" && row == 2 && column == 5 && value.isNaN)
    } else {
      Issue.record("expected a nonFinite error, got \(String(describing: error))")
    }
    #expect(tracker.blockCount == 0)
    try tracker.append(DenseMatrix(rows: 4, columns: d, repeating: 1))
    #expect(throws: VQError.self) { try tracker.decode(block: 1) }
    #expect(throws: VQError.self) { try tracker.estimateInnerProducts(query: [1, 2]) }
    let batch = try VectorBatch(dimension: d, values: [Float](repeating: 1, count: 3 * d))
    #expect(throws: VQError.self) { try tracker.append(batch, rows: 2..<5) }
    try tracker.append(batch, rows: 1..<3)
    #expect(tracker.rowCount == 6)
  }

  /// Z quantized with turbo-mse:bits=4 per version: the decode is Ẑ·Qᵀ with Ẑ that quantizer's own decode
  /// of Z, so by orthogonality ‖X − X̂‖² = ‖X − Z·Qᵀ‖² + ‖Z − Ẑ‖² (to rounding): the composition adds exactly
  /// the quantizer's error. A residual quantizer then codes X − Ẑ·Qᵀ, and X − X̂ is its own error.
  @Test func quantizersComposeWithTheirOwnError() throws {
    let stream = Stream(blocks: 16, drift: 0.01, jumpBlock: 10, seed: 11)
    let spec = "turbo-mse:bits=4"
    let registry = QuantizerRegistry.standard
    var tracker = try LowRankTracker(
      dimension: Stream.dimension, coefficientQuantizer: { try registry.makeQuantizer(spec, dimension: $0) },
      residualQuantizer: nil)
    for b in stream.blocks { try tracker.append(b) }
    var totalBits = 0
    for (t, x) in stream.blocks.enumerated() {
      let record = tracker.records[t]
      let basis = tracker.versions[record.version].basis
      let z = x.multiplied(by: basis)
      let coder = try registry.makeQuantizer(spec, dimension: record.rank)
      let batch = try VectorBatch(dimension: record.rank, values: z.values.map { Float($0) })
      let codes = try coder.encode(batch)
      totalBits += 8 * codes.byteCount
      let zHat = try coder.decode(codes).values.map { Double($0) }
      var quantError = 0.0, zNorm = 0.0
      for i in 0..<z.values.count {
        quantError += (z.values[i] - zHat[i]) * (z.values[i] - zHat[i])
        zNorm += z.values[i] * z.values[i]
      }
      let xHat = try tracker.decode(block: t)
      let norm = x.frobeniusNormSquared
      let total = (x - xHat).frobeniusNormSquared
      let lowRank = (1 - record.fidelity) * norm
      #expect(abs(total - (lowRank + quantError)) <= 1e-6 * norm, "block \(t)")
      #expect(abs((1 - record.storedFidelity) * norm - total) <= 1e-9 * norm)
      // 4-bit TurboQuant on k = 4 coordinates: relative error well under 5 %.
      #expect(quantError < 0.05 * zNorm, "block \(t): \(quantError / zNorm)")
    }
    let m = tracker.memory
    #expect(m.coefficientBits == totalBits)
    #expect(m.basisBits == 32 * m.basisValues && m.residualBits == 0)
    #expect(m.bitsPerCoordinate < 32 * m.lowRankRatio)

    // Residual: X̂ = Z·Qᵀ + R̂, R̂ the quantizer's decode of R = X − Z·Qᵀ.
    let rSpec = "turbo-mse:bits=2"
    var withResidual = try LowRankTracker(
      dimension: Stream.dimension, residualQuantizer: { try registry.makeQuantizer(rSpec, dimension: $0) })
    for b in stream.blocks { try withResidual.append(b) }
    let coder = try registry.makeQuantizer(rSpec, dimension: Stream.dimension)
    var residualBits = 0
    for (t, x) in stream.blocks.enumerated() {
      let record = withResidual.records[t]
      let basis = withResidual.versions[record.version].basis
      let lowRank = x.multiplied(by: basis).multipliedTransposed(by: basis)
      let residual = x - lowRank
      let codes = try coder.encode(try VectorBatch(dimension: Stream.dimension, values: residual.values.map { Float($0) }))
      residualBits += 8 * codes.byteCount
      let rHat = try coder.decode(codes).values
      let xHat = try withResidual.decode(block: t)
      for i in 0..<x.values.count {
        #expect(abs(xHat.values[i] - (lowRank.values[i] + Double(rHat[i]))) <= 1e-12 * (1 + abs(x.values[i])))
      }
      #expect(record.storedFidelity > record.fidelity, "block \(t)")
    }
    #expect(withResidual.memory.residualBits == residualBits)
    // The estimator path (projected query, quantizer estimates) agrees with the decoded rows.
    let all = try tracker.decodeAll()
    var g = SeededGenerator(seed: 12)
    let q = (0..<Stream.dimension).map { _ in Float(g.nextGaussian()) }
    let est = try tracker.estimateInnerProducts(query: q)
    var qNorm = 0.0
    for v in q { qNorm += Double(v) * Double(v) }
    for i in 0..<all.rows {
      var s = 0.0, rowNorm = 0.0
      for c in 0..<Stream.dimension {
        s += Double(q[c]) * all[i, c]
        rowNorm += all[i, c] * all[i, c]
      }
      #expect(abs(est[i] - s) <= 1e-5 * (rowNorm * qNorm).squareRoot(), "row \(i)")
    }
  }
}
