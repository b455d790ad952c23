import RealModule

/// A streaming low-rank tracker for activation or KV vectors: store each block `X_t` (B × D) as its
/// coefficients `Z_t = X_t·Q` (B × k) in a tracked orthonormal basis `Q` (D × k), with the basis updated
/// by power iterations and reset from the data when fidelity drops.
///
/// Paper: B. Çakar, M. Raghu, A. Zheng, "LASER: Low-Rank Activation SVD for Efficient Recursion"
/// (arXiv:2604.17224, ICLR 2026 LIT workshop). Only the abstract and a figure were available; this is
/// **our implementable reading** of it (research/geometry.md §6), not the authors' code. Thresholds,
/// iteration counts and the version rule below are ours.
///
/// Algorithm (η: the energy/fidelity target; s power iterations; β forgetting):
/// 1. First block: `Q` = top-k right singular vectors (thin SVD), k the least with Σ_{i≤k} σ_i² ≥ η·Σ σ_i².
/// 2. Each block: `Z = X·Q_v` with the current basis version v; fidelity f = 1 − ‖X − Z·Q_vᵀ‖²_F/‖X‖²_F.
/// 3. f ≥ η: store Z under version v. Always: update the *tracked* basis by s orthogonal iterations on the
///    running covariance without forming it, `Y = Xᵀ(X·M) + β·Q_tr·Λ·(Q_trᵀM)`, `M = qr(Y).Q`.
/// 4. f < η: if the tracked basis reaches η, it becomes a new version (a *refresh*, no SVD); else
///    **reset**: thin SVD of the current block, k re-chosen by the energy rule (it grows when the new
///    subspace needs more), a new version.
/// 5. Decode `X̂_t = Ẑ_t·Q_vᵀ (+ R̂_t)` with the block's own version: old blocks keep their basis.
///
/// Why versions: a basis that encoded a block must be kept to decode it. Re-versioning after every power
/// update would cost D·k per block; instead a basis is frozen once it encodes, and the power-iterated
/// basis replaces it only when the frozen one fails the fidelity test. Memory, in the input's precision:
/// `(Σ_t B_t·k_t + Σ_versions D·k_v) / (Σ_t B_t·D)`; the tracked basis and its energies (D·k + k) are
/// working state, not stored data, and are not counted.
///
/// Composition with any `VectorQuantizer` (`coefficientQuantizer`, `residualQuantizer`):
/// - on the coefficients: each version gets its own quantizer of dimension k_v (made by the factory, fitted
///   on the Z of the block that opened the version — streaming, no look-ahead); Z is stored as its codes
///   (`layout.bytesPerVector` bytes per row, side values included) instead of k floats;
/// - on the residual: one D-dimensional quantizer (fitted on the first block's residual) codes
///   `R = X − Ẑ·Q_vᵀ`, so it corrects the low-rank error and the coefficient quantizer's error both.
/// `memory` counts every stored bit: codes with their side values, unquantized coefficients at
/// `valueBits`, bases at `valueBits`.
///
/// Guarantee: every stored block has low-rank fidelity f ≥ η by construction (kept and refreshed blocks
/// pass the test; a reset block's top-k SVD leaves Σ_{i>k} σ_i² ≤ (1 − η)·‖X‖²_F), except (a) when
/// `maxRank` caps k below what the energy rule asks (the block is stored anyway; `BlockRecord.fidelity`
/// says how far it fell short) and (b) after a coefficient or residual quantizer, whose own error comes
/// on top (`BlockRecord.storedFidelity` measures it). A noiseless stream of exact rank r ≤ B decodes to
/// rounding error when the energy rule keeps all r directions (each carries more than 1 − η of a block's
/// energy). Values are kept in Double; rounding them to the input's float32 would change a
/// reconstruction by ~1e-7 relative, far below 1 − η for any η here.
public struct LowRankTracker: Sendable {
  /// The tracker's parameters.
  public struct Configuration: Sendable, Equatable {
    /// η in (0, 1): the energy rule's fraction and the fidelity every stored block must reach.
    public var energy: Double
    /// s: orthogonal (power) iterations per block on the running covariance, 0…16 (0: no tracking,
    /// every failure is a reset).
    public var iterations: Int
    /// β in [0, 1]: weight of the past in the running covariance (0: the current block alone; the
    /// past's weight after m blocks is β^m).
    public var forgetting: Double
    /// The largest rank k a reset may choose (nil: D). A cap below the energy rule's k lets stored blocks
    /// fall below η (recorded, not hidden).
    public var maxRank: Int?

    public init(energy: Double = 0.99, iterations: Int = 2, forgetting: Double = 0.5, maxRank: Int? = nil) {
      self.energy = energy
      self.iterations = iterations
      self.forgetting = forgetting
      self.maxRank = maxRank
    }
  }

  /// What happened to one block.
  public enum Event: String, Sendable, Equatable {
    /// The first block: a thin SVD opened version 0.
    case initial
    /// The current version reached η: stored with it.
    case kept
    /// The current version fell short and the tracked (power-iterated) basis reached η: it became a new
    /// version.
    case refreshed
    /// Neither reached η: a thin SVD of this block opened a new version.
    case reset
  }

  /// One stored block's record.
  public struct BlockRecord: Sendable, Equatable {
    public var index: Int
    public var rows: Int
    /// The basis version the block is stored under.
    public var version: Int
    public var rank: Int
    public var event: Event
    /// Low-rank fidelity 1 − ‖X − Z·Qᵀ‖²/‖X‖² (1 for a zero block), before any quantizer.
    public var fidelity: Double
    /// 1 − ‖X − X̂‖²/‖X‖² of what decodes (quantizers included); equal to `fidelity` without quantizers.
    public var storedFidelity: Double
  }

  /// One basis version: D × k, orthonormal columns.
  public struct BasisVersion: Sendable {
    public var basis: DenseMatrix
    public var firstBlock: Int
    public var event: Event
    public var rank: Int { basis.columns }
    /// The coefficient quantizer of this version (dimension k), if any.
    var coefficientQuantizer: (any VectorQuantizer)?
  }

  /// Stored bits and the ratios that follow.
  public struct Memory: Sendable, Equatable {
    /// Σ_t B_t·D: values of the original stream.
    public var originalValues: Int
    /// Σ_t B_t·k_t: coefficient values (stored as floats, or as codes when quantized).
    public var coefficientValues: Int
    /// Σ_versions D·k_v.
    public var basisValues: Int
    /// Bits of the coefficients as stored: codes with side values, or `valueBits` per value.
    public var coefficientBits: Int
    /// Bits of the residual codes (0 without a residual quantizer).
    public var residualBits: Int
    /// Bits of the bases at `valueBits` per value.
    public var basisBits: Int
    /// The precision the original values are counted at (32 for float32 data).
    public var valueBits: Int

    /// Total stored bits per original coordinate.
    public var bitsPerCoordinate: Double {
      originalValues == 0 ? 0 : Double(coefficientBits + residualBits + basisBits) / Double(originalValues)
    }
    /// Stored bits over the original's bits (`bitsPerCoordinate / valueBits`).
    public var ratio: Double { bitsPerCoordinate / Double(valueBits) }
    /// `(Σ B·k + Σ D·k) / (Σ B·D)`: the same-precision ratio of research/geometry.md §6, quantizers ignored.
    public var lowRankRatio: Double {
      originalValues == 0 ? 0 : Double(coefficientValues + basisValues) / Double(originalValues)
    }
  }

  public typealias QuantizerFactory = @Sendable (_ dimension: Int) throws -> any VectorQuantizer

  public let dimension: Int
  public let configuration: Configuration
  /// Bits per original value for the memory account (32: float32 data).
  public let valueBits: Int
  public private(set) var versions: [BasisVersion] = []
  public private(set) var records: [BlockRecord] = []

  private let coefficientFactory: QuantizerFactory?
  private let residualFactory: QuantizerFactory?
  private var residualQuantizer: (any VectorQuantizer)?
  /// Per block: coefficients (rows × k, when not quantized) or their codes; the residual's codes.
  private var coefficients: [[Double]] = []
  private var coefficientCodes: [CodeBuffer?] = []
  private var residualCodes: [CodeBuffer?] = []
  /// The power-iterated basis (D × k) and its running energies Λ (k).
  private var tracked = DenseMatrix(rows: 0, columns: 0)
  private var trackedEnergy: [Double] = []

  /// - Parameters:
  ///   - dimension: D, the length of every row.
  ///   - configuration: η, s, β, the rank cap.
  ///   - valueBits: bits per value of the original data (32 for float32), for `memory`.
  ///   - coefficientQuantizer: makes the quantizer of a version's coefficients, given k.
  ///   - residualQuantizer: makes the quantizer of the residual, given D.
  public init(
    dimension: Int, configuration: Configuration = Configuration(), valueBits: Int = 32,
    coefficientQuantizer: QuantizerFactory? = nil, residualQuantizer: QuantizerFactory? = nil
  ) throws {
    guard dimension >= 1 else { throw VQError.outOfRange("LowRankTracker: dimension must be at least 1, got \(dimension)") }
    let c = configuration
    guard c.energy.isFinite, c.energy > 0, c.energy < 1 else {
      throw VQError.outOfRange("LowRankTracker: energy η must be in (0, 1), got \(c.energy)")
    }
    guard (0...16).contains(c.iterations) else {
      throw VQError.outOfRange("LowRankTracker: iterations must be in 0...16, got \(c.iterations)")
    }
    guard c.forgetting.isFinite, c.forgetting >= 0, c.forgetting <= 1 else {
      throw VQError.outOfRange("LowRankTracker: forgetting β must be in [0, 1], got \(c.forgetting)")
    }
    if let cap = c.maxRank, !(1...dimension).contains(cap) {
      throw VQError.outOfRange("LowRankTracker: maxRank must be in 1...\(dimension) (the dimension), got \(cap)")
    }
    guard (1...64).contains(valueBits) else {
      throw VQError.outOfRange("LowRankTracker: valueBits must be in 1...64, got \(valueBits)")
    }
    self.dimension = dimension
    self.configuration = c
    self.valueBits = valueBits
    coefficientFactory = coefficientQuantizer
    residualFactory = residualQuantizer
  }

  /// Blocks stored so far.
  public var blockCount: Int { records.count }
  /// Resets after the first block.
  public var resetCount: Int { records.reduce(0) { $0 + ($1.event == .reset ? 1 : 0) } }
  /// Versions opened by the tracked basis.
  public var refreshCount: Int { records.reduce(0) { $0 + ($1.event == .refreshed ? 1 : 0) } }
  /// Rows stored so far.
  public var rowCount: Int { records.reduce(0) { $0 + $1.rows } }

  // MARK: Streaming

  /// Appends one block (rows × D, at least one row, finite values) and returns its record.
  @discardableResult
  public mutating func append(_ block: DenseMatrix) throws -> BlockRecord {
    let index = records.count
    guard block.columns == dimension else {
      throw VQError.dimensionMismatch(expected: dimension, got: block.columns, what: "LowRankTracker block \(index)")
    }
    guard block.rows >= 1 else { throw VQError.invalidArgument("LowRankTracker: block \(index) has no rows") }
    for (i, v) in block.values.enumerated() where !v.isFinite {
      throw VQError.nonFinite(
        source: "LowRankTracker block \(index)", row: i / dimension, column: i % dimension, value: Float(v))
    }
    let eta = configuration.energy
    let norm = block.frobeniusNormSquared
    var event: Event
    var z: DenseMatrix
    var fidelity: Double
    if versions.isEmpty {
      event = .initial
      (z, fidelity) = openVersionFromSVD(block, index: index, event: .initial, norm: norm)
    } else {
      let current = versions[versions.count - 1].basis
      z = block.multiplied(by: current)
      fidelity = Self.fidelity(block, z, current, norm: norm)
      event = .kept
      if fidelity < eta, configuration.iterations > 0 {
        let zt = block.multiplied(by: tracked)
        let ft = Self.fidelity(block, zt, tracked, norm: norm)
        if ft >= eta {
          versions.append(BasisVersion(basis: tracked, firstBlock: index, event: .refreshed))
          (z, fidelity, event) = (zt, ft, .refreshed)
        }
      }
      if fidelity < eta, event == .kept {
        event = .reset
        (z, fidelity) = openVersionFromSVD(block, index: index, event: .reset, norm: norm)
      } else {
        updateTrackedBasis(with: block)
      }
    }
    let v = versions.count - 1
    let stored = try store(block, coefficients: z, version: v, blockIndex: index, norm: norm)
    let record = BlockRecord(
      index: index, rows: block.rows, version: v, rank: z.columns, event: event, fidelity: fidelity,
      storedFidelity: stored)
    records.append(record)
    return record
  }

  /// Appends the rows `rows` of a float batch as one block.
  @discardableResult
  public mutating func append(_ batch: VectorBatch, rows: Range<Int>? = nil) throws -> BlockRecord {
    guard batch.dimension == dimension else {
      throw VQError.dimensionMismatch(expected: dimension, got: batch.dimension, what: "LowRankTracker block \(records.count)")
    }
    let r = rows ?? 0..<batch.count
    guard r.lowerBound >= 0, r.upperBound <= batch.count else {
      throw VQError.outOfRange("LowRankTracker: rows \(r) outside the batch's 0..<\(batch.count)")
    }
    var m = DenseMatrix(rows: r.count, columns: dimension)
    batch.withUnsafeBufferPointer { src in
      for i in 0..<(r.count * dimension) { m.values[i] = Double(src[r.lowerBound * dimension + i]) }
    }
    return try append(m)
  }

  // MARK: Decoding and estimation

  /// The reconstruction of block `index` (rows × D) with its own basis version.
  public func decode(block index: Int) throws -> DenseMatrix {
    guard records.indices.contains(index) else {
      throw VQError.outOfRange("LowRankTracker: block \(index) outside the \(records.count) stored blocks")
    }
    return try reconstruct(index)
  }

  /// Every stored row, in stream order (rowCount × D).
  public func decodeAll() throws -> DenseMatrix {
    var out = DenseMatrix(rows: rowCount, columns: dimension)
    var start = 0
    for i in records.indices {
      let x = try reconstruct(i)
      for j in 0..<x.values.count { out.values[start + j] = x.values[j] }
      start += x.values.count
    }
    return out
  }

  /// ⟨query, x̂_i⟩ for every stored row i, computed the way a compressed cache would: the query projected
  /// once per version (`Q_vᵀq`, k values), then dotted with each row's coefficients — through the
  /// coefficient quantizer's own estimator when there is one — plus the residual quantizer's estimate.
  public func estimateInnerProducts(query: [Float]) throws -> [Double] {
    guard query.count == dimension else {
      throw VQError.dimensionMismatch(expected: dimension, got: query.count, what: "LowRankTracker query")
    }
    for (j, v) in query.enumerated() where !v.isFinite {
      throw VQError.nonFinite(source: "LowRankTracker query", row: 0, column: j, value: v)
    }
    var out = [Double](repeating: 0, count: rowCount)
    var projected: [[Double]] = []
    var prepared: [PreparedQuery?] = []
    for version in versions {
      let q = version.basis
      var p = [Double](repeating: 0, count: q.columns)
      for r in 0..<dimension {
        let x = Double(query[r])
        for c in 0..<q.columns { p[c] = Relaxed.multiplyAdd(x, q.values[r * q.columns + c], p[c]) }
      }
      projected.append(p)
      try prepared.append(version.coefficientQuantizer?.prepare(query: p.map { Float($0) }))
    }
    let residualQuery = try residualQuantizer?.prepare(query: query)
    var start = 0
    var scratch: [Float] = []
    for (b, record) in records.enumerated() {
      let v = record.version, k = record.rank
      if let codes = coefficientCodes[b], let quantizer = versions[v].coefficientQuantizer, let pq = prepared[v] {
        scratch = quantizer.estimateInnerProducts(pq, codes: codes)
        for i in 0..<record.rows { out[start + i] = Double(scratch[i]) }
      } else {
        let z = coefficients[b], p = projected[v]
        for i in 0..<record.rows {
          var s = 0.0
          for c in 0..<k { s = Relaxed.multiplyAdd(z[i * k + c], p[c], s) }
          out[start + i] = s
        }
      }
      if let codes = residualCodes[b], let quantizer = residualQuantizer, let rq = residualQuery {
        scratch = quantizer.estimateInnerProducts(rq, codes: codes)
        for i in 0..<record.rows { out[start + i] += Double(scratch[i]) }
      }
      start += record.rows
    }
    return out
  }

  /// The stored bits (`valueBits` per unquantized value).
  public var memory: Memory {
    var m = Memory(
      originalValues: 0, coefficientValues: 0, basisValues: 0, coefficientBits: 0, residualBits: 0, basisBits: 0,
      valueBits: valueBits)
    for (b, r) in records.enumerated() {
      m.originalValues += r.rows * dimension
      m.coefficientValues += r.rows * r.rank
      if let codes = coefficientCodes[b] {
        m.coefficientBits += 8 * codes.byteCount
      } else {
        m.coefficientBits += r.rows * r.rank * valueBits
      }
      if let codes = residualCodes[b] { m.residualBits += 8 * codes.byteCount }
    }
    for v in versions { m.basisValues += dimension * v.rank }
    m.basisBits = m.basisValues * valueBits
    return m
  }

  // MARK: Implementation

  /// 1 − ‖X − Z·Qᵀ‖²/‖X‖² (1 for a zero block), the residual computed directly (no cancellation).
  static func fidelity(_ x: DenseMatrix, _ z: DenseMatrix, _ q: DenseMatrix, norm: Double) -> Double {
    guard norm > 0 else { return 1 }
    let approx = z.multipliedTransposed(by: q)
    var err = 0.0
    for i in 0..<x.values.count {
      let d = x.values[i] - approx.values[i]
      err = Relaxed.multiplyAdd(d, d, err)
    }
    return 1 - err / norm
  }

  /// The least k with Σ_{i≤k} σ_i² ≥ η·Σ σ_i² (at least 1).
  static func energyRank(_ s: [Double], energy: Double) -> Int {
    var total = 0.0
    for v in s { total = Relaxed.multiplyAdd(v, v, total) }
    guard total > 0 else { return 1 }
    var acc = 0.0
    for (i, v) in s.enumerated() {
      acc += v * v
      if acc >= energy * total { return i + 1 }
    }
    return s.count
  }

  /// Opens a version from the block's thin SVD (energy rule, capped by `maxRank` and the block's rank
  /// bound); the tracked basis restarts there. Returns the coefficients and their fidelity.
  private mutating func openVersionFromSVD(
    _ block: DenseMatrix, index: Int, event: Event, norm: Double
  ) -> (DenseMatrix, Double) {
    let svd = block.thinSVD()
    let cap = min(configuration.maxRank ?? dimension, svd.s.count)
    let k = min(Self.energyRank(svd.s, energy: configuration.energy), cap)
    let basis = svd.v.leadingColumns(k)
    versions.append(BasisVersion(basis: basis, firstBlock: index, event: event))
    tracked = basis
    trackedEnergy = (0..<k).map { svd.s[$0] * svd.s[$0] }
    let z = block.multiplied(by: basis)
    return (z, Self.fidelity(block, z, basis, norm: norm))
  }

  /// s orthogonal iterations on C = XᵀX + β·Q_tr·Λ·Q_trᵀ (applied without forming it), then the new
  /// energies Λ_i = m_iᵀ C m_i.
  private mutating func updateTrackedBasis(with block: DenseMatrix) {
    let s = configuration.iterations, beta = configuration.forgetting
    guard s > 0 else { return }
    let old = tracked, lambda = trackedEnergy, k = old.columns
    func apply(_ m: DenseMatrix) -> DenseMatrix {
      var y = block.transposeMultiplied(by: block.multiplied(by: m))  // D × k
      if beta > 0 {
        var c = old.transposeMultiplied(by: m)  // k × k: Q_trᵀ M
        for i in 0..<k { for j in 0..<k { c[i, j] *= beta * lambda[i] } }
        let memory = old.multiplied(by: c)
        for i in 0..<y.values.count { y.values[i] += memory.values[i] }
      }
      return y
    }
    var m = old
    for _ in 0..<s { m = apply(m).thinQR().q }
    let xm = block.multiplied(by: m)
    let overlap = old.transposeMultiplied(by: m)
    var energy = [Double](repeating: 0, count: k)
    for c in 0..<k {
      var e = 0.0
      for r in 0..<xm.rows { e = Relaxed.multiplyAdd(xm[r, c], xm[r, c], e) }
      for i in 0..<k { e += beta * lambda[i] * overlap[i, c] * overlap[i, c] }
      energy[c] = e
    }
    tracked = m
    trackedEnergy = energy
  }

  /// Stores a block's coefficients (quantized when asked) and residual codes; returns the stored fidelity.
  private mutating func store(
    _ block: DenseMatrix, coefficients z: DenseMatrix, version v: Int, blockIndex: Int, norm: Double
  ) throws -> Double {
    let basis = versions[v].basis
    var zHat = z
    if let factory = coefficientFactory {
      let batch = try Self.floatBatch(z)
      if versions[v].coefficientQuantizer == nil {
        var quantizer = try factory(z.columns)
        guard quantizer.dimension == z.columns else {
          throw VQError.dimensionMismatch(
            expected: z.columns, got: quantizer.dimension, what: "LowRankTracker coefficient quantizer of version \(v)")
        }
        try quantizer.fit(batch)
        versions[v].coefficientQuantizer = quantizer
      }
      let quantizer = versions[v].coefficientQuantizer!
      let codes = try quantizer.encode(batch)
      zHat = try Self.doubleMatrix(quantizer.decode(codes), rows: z.rows, columns: z.columns)
      coefficientCodes.append(codes)
      coefficients.append([])
    } else {
      coefficientCodes.append(nil)
      coefficients.append(z.values)
    }
    var approx = zHat.multipliedTransposed(by: basis)
    if let factory = residualFactory {
      let residual = try Self.floatBatch(block - approx)
      if residualQuantizer == nil {
        var quantizer = try factory(dimension)
        guard quantizer.dimension == dimension else {
          throw VQError.dimensionMismatch(
            expected: dimension, got: quantizer.dimension, what: "LowRankTracker residual quantizer")
        }
        try quantizer.fit(residual)
        residualQuantizer = quantizer
      }
      let codes = try residualQuantizer!.encode(residual)
      let rHat = try residualQuantizer!.decode(codes)
      rHat.withUnsafeBufferPointer { r in for i in 0..<approx.values.count { approx.values[i] += Double(r[i]) } }
      residualCodes.append(codes)
    } else {
      residualCodes.append(nil)
    }
    guard norm > 0 else { return 1 }
    var err = 0.0
    for i in 0..<block.values.count {
      let d = block.values[i] - approx.values[i]
      err = Relaxed.multiplyAdd(d, d, err)
    }
    return 1 - err / norm
  }

  private func reconstruct(_ b: Int) throws -> DenseMatrix {
    let record = records[b]
    let version = versions[record.version]
    var z: DenseMatrix
    if let codes = coefficientCodes[b], let quantizer = version.coefficientQuantizer {
      z = try Self.doubleMatrix(quantizer.decode(codes), rows: record.rows, columns: record.rank)
    } else {
      z = DenseMatrix(rows: record.rows, columns: record.rank, values: coefficients[b])
    }
    var x = z.multipliedTransposed(by: version.basis)
    if let codes = residualCodes[b], let quantizer = residualQuantizer {
      let r = try quantizer.decode(codes)
      r.withUnsafeBufferPointer { r in for i in 0..<x.values.count { x.values[i] += Double(r[i]) } }
    }
    return x
  }

  private static func floatBatch(_ m: DenseMatrix) throws -> VectorBatch {
    try VectorBatch(dimension: m.columns, values: m.values.map { Float($0) })
  }

  private static func doubleMatrix(_ b: VectorBatch, rows: Int, columns: Int) -> DenseMatrix {
    DenseMatrix(rows: rows, columns: columns, values: b.values.map { Double($0) })
  }
}
