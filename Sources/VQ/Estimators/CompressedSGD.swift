import RealModule

/// Distributed SGD with compressed communication: synchronous SGD (fp32 or quantized gradients), local
/// SGD with period p, and PQASGD (periodic quantized averaging), one simulation loop for all of them.
/// research/asq-ipaware.md §5.
///
/// Papers: P. Jiang, G. Agrawal, "A Linear Speedup Analysis of Distributed Deep Learning with Sparse and
/// Quantized Communication" (PQASGD, NeurIPS 2018); D. Alistarh et al., "QSGD" (NeurIPS 2017);
/// S. Vargaftik et al., "EDEN" (ICML 2022) as the quantizer of the update.
///
/// Algorithm (M workers, shared model x̄, period p, step η, a client compressor Q, K steps):
/// 1. each round every worker starts at x̄ with displacement δ_i = 0;
/// 2. it takes p local minibatch SGD steps: δ_i ← δ_i − η·g_i(x̄ + δ_i) (its own sample stream);
/// 3. it sends Q(δ_i) (its own message seed per round); bits += Q's message size;
/// 4. the server sets x̄ ← x̄ + (1/M) Σ_i Q(δ_i), summed in worker order;
/// 5. p = 1 is synchronous (quantized) SGD, Q = fp32 with p > 1 is local SGD, both is PQASGD.
///
/// Guarantee (Jiang & Agrawal, Thm. 1, smooth non-convex f, unbiased Q with variance factor q):
/// (1/K) Σ E‖∇f(x̄_k)‖² = O(1/√(MK)) for η = O(√(M/K)) and p, q bounded: linear speedup in M while
/// sending p times fewer (and b-bit) messages. With a constant step, the loss settles on a noise floor
/// that grows with the compressor's variance (QSGD's floor sits above EDEN's).

/// A sum-separable objective whose rows are split into one shard per worker.
public protocol DistributedObjective: Sendable {
  /// Parameters.
  var dimension: Int { get }
  /// Workers (shards).
  var workerCount: Int { get }
  /// The full objective f(w) over every shard (Double accumulation).
  func loss(_ w: UnsafeBufferPointer<Float>) -> Double
  /// A minibatch gradient of worker `worker`'s shard at `w`: `batch` rows drawn uniformly with
  /// replacement from `generator`; writes `dimension` values to `gradient`.
  func stochasticGradient(
    worker: Int, at w: UnsafeBufferPointer<Float>, batch: Int, generator: inout SeededGenerator,
    into gradient: UnsafeMutableBufferPointer<Float>)
}

extension DistributedObjective {
  public func loss(_ w: [Float]) -> Double { w.withUnsafeBufferPointer { loss($0) } }
}

/// Least squares f(w) = (1/2N) ‖Aw − y‖², rows split evenly over the workers.
public struct LeastSquaresObjective: DistributedObjective {
  public let dimension: Int
  public let workerCount: Int
  public let rowsPerWorker: Int
  /// N × d, row-major (N = workers × rowsPerWorker).
  public let features: [Float]
  public let targets: [Float]

  public init(features: [Float], targets: [Float], dimension: Int, workers: Int) throws {
    guard dimension >= 1, workers >= 1 else {
      throw VQError.outOfRange("least squares needs dimension ≥ 1 and workers ≥ 1, got \(dimension), \(workers)")
    }
    guard features.count == targets.count * dimension else {
      throw VQError.dimensionMismatch(expected: targets.count * dimension, got: features.count, what: "least-squares features")
    }
    guard targets.count % workers == 0, targets.count >= workers else {
      throw VQError.invalidArgument("least squares: \(targets.count) rows do not split evenly over \(workers) workers")
    }
    if let i = features.firstIndex(where: { !$0.isFinite }) {
      throw VQError.nonFinite(source: "least-squares features", row: i / dimension, column: i % dimension, value: features[i])
    }
    if let i = targets.firstIndex(where: { !$0.isFinite }) {
      throw VQError.nonFinite(source: "least-squares targets", row: i, column: 0, value: targets[i])
    }
    self.dimension = dimension
    workerCount = workers
    rowsPerWorker = targets.count / workers
    self.features = features
    self.targets = targets
  }

  /// The set-up of research/asq-ipaware.md §5: rows N(0, I/d), w_true ~ N(0, I), y = Aw_true + noise·N(0, 1).
  public static func synthetic(workers: Int, rowsPerWorker: Int, dimension: Int, noise: Double, seed: UInt64) throws -> LeastSquaresObjective {
    guard rowsPerWorker >= 1 else { throw VQError.outOfRange("rows per worker must be ≥ 1, got \(rowsPerWorker)") }
    let n = workers * rowsPerWorker
    var g = SeededGenerator(seed: seed, stream: 0x4C53_5152)   // "LSQR"
    let truth = (0..<dimension).map { _ in g.nextGaussian() }
    let rowScale = 1 / Double(dimension).squareRoot()
    var features = [Float](repeating: 0, count: n * dimension)
    var targets = [Float](repeating: 0, count: n)
    for r in 0..<n {
      var y = 0.0
      for j in 0..<dimension {
        let a = Float(g.nextGaussian() * rowScale)
        features[r * dimension + j] = a
        y += Double(a) * truth[j]
      }
      targets[r] = Float(y + noise * g.nextGaussian())
    }
    return try LeastSquaresObjective(features: features, targets: targets, dimension: dimension, workers: workers)
  }

  public var rowCount: Int { targets.count }

  public func loss(_ w: UnsafeBufferPointer<Float>) -> Double {
    let d = dimension
    var total = 0.0
    features.withUnsafeBufferPointer { a in
      for r in 0..<rowCount {
        var z: Float = 0
        for j in 0..<d { z = Relaxed.multiplyAdd(a[r * d + j], w[j], z) }
        let e = Double(z) - Double(targets[r])
        total = Relaxed.multiplyAdd(e, e, total)
      }
    }
    return total / (2 * Double(rowCount))
  }

  public func stochasticGradient(
    worker: Int, at w: UnsafeBufferPointer<Float>, batch: Int, generator: inout SeededGenerator,
    into gradient: UnsafeMutableBufferPointer<Float>
  ) {
    let d = dimension, first = worker * rowsPerWorker
    for j in 0..<d { gradient[j] = 0 }
    let inverseBatch = 1 / Float(batch)
    features.withUnsafeBufferPointer { a in
      for _ in 0..<batch {
        let r = first + Int(generator.next() % UInt64(rowsPerWorker))
        let row = a.baseAddress! + r * d
        var z: Float = 0
        for j in 0..<d { z = Relaxed.multiplyAdd(row[j], w[j], z) }
        let residual = (z - targets[r]) * inverseBatch
        for j in 0..<d { gradient[j] = Relaxed.multiplyAdd(residual, row[j], gradient[j]) }
      }
    }
  }

  /// The minimizer and f* from the normal equations (AᵀA)w = Aᵀy (Double, Cholesky).
  public func minimum() throws -> (weights: [Float], loss: Double) {
    let d = dimension
    var gram = [Double](repeating: 0, count: d * d), rhs = [Double](repeating: 0, count: d)
    features.withUnsafeBufferPointer { a in
      gram.withUnsafeMutableBufferPointer { m in
        for r in 0..<rowCount {
          let row = a.baseAddress! + r * d
          for i in 0..<d {
            let ai = Double(row[i])
            rhs[i] += ai * Double(targets[r])
            for j in i..<d { m[i * d + j] = Relaxed.multiplyAdd(ai, Double(row[j]), m[i * d + j]) }
          }
        }
        for i in 0..<d { for j in 0..<i { m[i * d + j] = m[j * d + i] } }
      }
    }
    let w = try DenseMatrix(rows: d, columns: d, values: gram).choleskySolve(DenseMatrix(rows: d, columns: 1, values: rhs))
    let weights = w.values.map { Float($0) }
    return (weights, loss(weights))
  }
}

/// L2-regularized logistic regression f(w) = (1/N) Σ [log(1 + e^{z_r}) − y_r z_r] + (λ/2)‖w‖²,
/// z_r = ⟨a_r, w⟩, labels y_r ∈ {0, 1}; rows split evenly over the workers (the last worker takes the
/// remainder). Put a constant column in `features` for an intercept.
public struct LogisticRegressionObjective: DistributedObjective {
  public let dimension: Int
  public let workerCount: Int
  public let features: [Float]
  public let labels: [Float]
  public let regularization: Double

  public init(features: [Float], labels: [Float], dimension: Int, workers: Int, regularization: Double) throws {
    guard dimension >= 1, workers >= 1 else {
      throw VQError.outOfRange("logistic regression needs dimension ≥ 1 and workers ≥ 1, got \(dimension), \(workers)")
    }
    guard features.count == labels.count * dimension else {
      throw VQError.dimensionMismatch(expected: labels.count * dimension, got: features.count, what: "logistic-regression features")
    }
    guard labels.count >= workers else {
      throw VQError.invalidArgument("logistic regression: \(labels.count) rows for \(workers) workers (need at least one each)")
    }
    guard regularization >= 0, regularization.isFinite else {
      throw VQError.outOfRange("logistic regression: regularization must be finite and ≥ 0, got \(regularization)")
    }
    if let i = labels.firstIndex(where: { $0 != 0 && $0 != 1 }) {
      throw VQError.invalidArgument("logistic regression: label \(i) is \(labels[i]); labels must be 0 or 1")
    }
    if let i = features.firstIndex(where: { !$0.isFinite }) {
      throw VQError.nonFinite(source: "logistic-regression features", row: i / dimension, column: i % dimension, value: features[i])
    }
    self.dimension = dimension
    workerCount = workers
    self.features = features
    self.labels = labels
    self.regularization = regularization
  }

  public var rowCount: Int { labels.count }

  /// Worker `worker`'s rows.
  public func shard(_ worker: Int) -> Range<Int> {
    let size = rowCount / workerCount
    return (worker * size)..<(worker == workerCount - 1 ? rowCount : (worker + 1) * size)
  }

  @inline(__always)
  static func softplus(_ z: Double) -> Double { z > 0 ? z + Double.log(onePlus: Double.exp(-z)) : Double.log(onePlus: Double.exp(z)) }

  @inline(__always)
  static func sigmoid(_ z: Float) -> Float { z >= 0 ? 1 / (1 + Float.exp(-z)) : Float.exp(z) / (1 + Float.exp(z)) }

  public func loss(_ w: UnsafeBufferPointer<Float>) -> Double {
    let d = dimension
    var total = 0.0, norm = 0.0
    features.withUnsafeBufferPointer { a in
      for r in 0..<rowCount {
        var z: Float = 0
        for j in 0..<d { z = Relaxed.multiplyAdd(a[r * d + j], w[j], z) }
        total += Self.softplus(Double(z)) - Double(labels[r]) * Double(z)
      }
    }
    for j in 0..<d { norm = Relaxed.multiplyAdd(Double(w[j]), Double(w[j]), norm) }
    return total / Double(rowCount) + regularization / 2 * norm
  }

  /// The fraction of `rows` (default: every row) whose predicted label (z > 0) is right.
  public static func accuracy(weights w: [Float], features: [Float], labels: [Float]) -> Double {
    let d = w.count
    guard d > 0, !labels.isEmpty else { return 0 }
    var right = 0
    for r in 0..<labels.count {
      var z: Float = 0
      for j in 0..<d { z = Relaxed.multiplyAdd(features[r * d + j], w[j], z) }
      if (z > 0) == (labels[r] == 1) { right += 1 }
    }
    return Double(right) / Double(labels.count)
  }

  public func stochasticGradient(
    worker: Int, at w: UnsafeBufferPointer<Float>, batch: Int, generator: inout SeededGenerator,
    into gradient: UnsafeMutableBufferPointer<Float>
  ) {
    let d = dimension, rows = shard(worker)
    let lambda = Float(regularization)
    for j in 0..<d { gradient[j] = lambda * w[j] }
    let inverseBatch = 1 / Float(batch)
    features.withUnsafeBufferPointer { a in
      for _ in 0..<batch {
        let r = rows.lowerBound + Int(generator.next() % UInt64(rows.count))
        let row = a.baseAddress! + r * d
        var z: Float = 0
        for j in 0..<d { z = Relaxed.multiplyAdd(row[j], w[j], z) }
        let residual = (Self.sigmoid(z) - labels[r]) * inverseBatch
        for j in 0..<d { gradient[j] = Relaxed.multiplyAdd(residual, row[j], gradient[j]) }
      }
    }
  }

  /// The minimizer and f* by Newton's method (Hessian (1/N) Σ σ(1−σ) a aᵀ + λI, Cholesky solves),
  /// stopping when the Newton decrement is below 1e-12 or after `iterations`.
  public func minimum(iterations: Int = 30) throws -> (weights: [Float], loss: Double) {
    guard regularization > 0 else { throw VQError.invalidArgument("logistic regression minimum needs regularization > 0 (else it may not exist)") }
    let d = dimension, n = rowCount
    var w = [Double](repeating: 0, count: d)
    for _ in 0..<iterations {
      var hessian = [Double](repeating: 0, count: d * d), gradient = [Double](repeating: 0, count: d)
      features.withUnsafeBufferPointer { a in
        hessian.withUnsafeMutableBufferPointer { h in
          for r in 0..<n {
            let row = a.baseAddress! + r * d
            var z = 0.0
            for j in 0..<d { z = Relaxed.multiplyAdd(Double(row[j]), w[j], z) }
            let p = z >= 0 ? 1 / (1 + Double.exp(-z)) : Double.exp(z) / (1 + Double.exp(z))
            let residual = (p - Double(labels[r])) / Double(n), curvature = p * (1 - p) / Double(n)
            for i in 0..<d {
              let ai = Double(row[i])
              gradient[i] = Relaxed.multiplyAdd(residual, ai, gradient[i])
              let scaled = curvature * ai
              for j in i..<d { h[i * d + j] = Relaxed.multiplyAdd(scaled, Double(row[j]), h[i * d + j]) }
            }
          }
          for i in 0..<d {
            h[i * d + i] += regularization
            gradient[i] += regularization * w[i]
            for j in 0..<i { h[i * d + j] = h[j * d + i] }
          }
        }
      }
      let step = try DenseMatrix(rows: d, columns: d, values: hessian).choleskySolve(DenseMatrix(rows: d, columns: 1, values: gradient))
      var decrement = 0.0
      for i in 0..<d {
        decrement += step.values[i] * gradient[i]
        w[i] -= step.values[i]
      }
      if decrement < 1e-12 { break }
    }
    let weights = w.map { Float($0) }
    return (weights, loss(weights))
  }
}

/// The simulation loop.
public enum CompressedSGD {
  public struct Configuration: Sendable {
    /// Local SGD steps per worker in total (K); a multiple of `period`.
    public var steps: Int
    /// Minibatch rows per gradient.
    public var batch: Int
    /// Constant step η.
    public var learningRate: Double
    /// Local steps between communications (1: synchronous SGD).
    public var period: Int
    /// The compressor of each worker's update (`FullPrecisionCompressor`: exact fp32 averaging).
    public var compressor: any ClientCompressor
    /// Loss samples in the trace (besides the start), evenly spaced in rounds.
    public var checkpoints: Int

    public init(steps: Int, batch: Int, learningRate: Double, period: Int, compressor: any ClientCompressor, checkpoints: Int = 20) {
      self.steps = steps
      self.batch = batch
      self.learningRate = learningRate
      self.period = period
      self.compressor = compressor
      self.checkpoints = checkpoints
    }
  }

  /// The loss after a number of bits sent.
  public struct TracePoint: Sendable, Equatable {
    public var round: Int
    public var bitsPerWorker: Int
    public var loss: Double
  }

  public struct Outcome: Sendable {
    public var weights: [Float]
    public var finalLoss: Double
    /// Uplink bits each worker sent (rounds × message bits).
    public var bitsPerWorker: Int
    public var rounds: Int
    public var trace: [TracePoint]
  }

  /// Runs the simulation from w = 0. Workers of a round run concurrently over `Parallel` (at most
  /// `threads` at a time); synchronous for the same reason as `DistributedMeanEstimation.estimateMean`.
  /// The outcome depends only on the objective, the configuration and `seed`.
  public static func run(
    _ objective: some DistributedObjective, _ configuration: Configuration, seed: UInt64, threads: Int = 1
  ) throws -> Outcome {
    var state = try State(objective, configuration, seed: seed)
    for round in 0..<state.rounds {
      let shared = state.model, generators = state.generators
      let messages = try Parallel.mapChunks(count: objective.workerCount, chunks: objective.workerCount, threads: max(1, threads)) { range in
        try workerRound(objective, configuration, worker: range.lowerBound, round: round, model: shared,
                        generator: generators[range.lowerBound], seed: seed)
      }
      state.apply(messages, round: round, objective)
    }
    return state.outcome(objective)
  }

  /// `run` with one child task per worker and round (a task group); the same outcome, bit for bit.
  public static func runConcurrently(
    _ objective: some DistributedObjective, _ configuration: Configuration, seed: UInt64
  ) async throws -> Outcome {
    var state = try State(objective, configuration, seed: seed)
    for round in 0..<state.rounds {
      let shared = state.model, generators = state.generators
      let messages = try await withThrowingTaskGroup(of: (Int, WorkerMessage).self) { group in
        for i in 0..<objective.workerCount {
          group.addTask {
            (i, try workerRound(objective, configuration, worker: i, round: round, model: shared, generator: generators[i], seed: seed))
          }
        }
        var slots = [WorkerMessage?](repeating: nil, count: objective.workerCount)
        for try await (i, message) in group { slots[i] = message }
        return slots.map { $0! }
      }
      state.apply(messages, round: round, objective)
    }
    return state.outcome(objective)
  }

  struct WorkerMessage: Sendable {
    var decoded: [Float]
    var generator: SeededGenerator
  }

  /// One worker's round: p local steps from the shared model, then its compressed displacement.
  static func workerRound(
    _ objective: some DistributedObjective, _ configuration: Configuration, worker: Int, round: Int,
    model: [Float], generator: SeededGenerator, seed: UInt64
  ) throws -> WorkerMessage {
    let d = objective.dimension, eta = Float(configuration.learningRate)
    var generator = generator
    var displacement = [Float](repeating: 0, count: d), local = model, gradient = [Float](repeating: 0, count: d)
    displacement.withUnsafeMutableBufferPointer { delta in
      local.withUnsafeMutableBufferPointer { x in
        gradient.withUnsafeMutableBufferPointer { g in
          model.withUnsafeBufferPointer { m in
            for step in 0..<configuration.period {
              if step > 0 { for j in 0..<d { x[j] = m[j] + delta[j] } }
              objective.stochasticGradient(worker: worker, at: UnsafeBufferPointer(x), batch: configuration.batch,
                                           generator: &generator, into: g)
              for j in 0..<d { delta[j] = Relaxed.multiplyAdd(-eta, g[j], delta[j]) }
            }
          }
        }
      }
    }
    let decoded = try configuration.compressor.roundTrip(
      displacement, seed: DistributedMeanEstimation.messageSeed(seed, client: worker, round: round))
    return WorkerMessage(decoded: decoded, generator: generator)
  }

  /// The server: shared model, per-worker sample streams, bits and the loss trace.
  struct State {
    var model: [Float]
    var generators: [SeededGenerator]
    var bitsPerWorker = 0
    var trace: [TracePoint] = []
    let rounds: Int
    let checkpointRounds: Set<Int>
    let messageBits: Int

    init(_ objective: some DistributedObjective, _ c: Configuration, seed: UInt64) throws {
      guard c.period >= 1, c.steps >= c.period, c.steps % c.period == 0 else {
        throw VQError.invalidArgument("compressed SGD: steps (\(c.steps)) must be a positive multiple of the period (\(c.period))")
      }
      guard c.batch >= 1 else { throw VQError.outOfRange("compressed SGD: batch must be ≥ 1, got \(c.batch)") }
      guard c.learningRate > 0, c.learningRate.isFinite else {
        throw VQError.outOfRange("compressed SGD: learning rate must be finite and > 0, got \(c.learningRate)")
      }
      guard c.compressor.dimension == objective.dimension else {
        throw VQError.dimensionMismatch(expected: objective.dimension, got: c.compressor.dimension, what: "compressor")
      }
      guard c.checkpoints >= 1 else { throw VQError.outOfRange("compressed SGD: checkpoints must be ≥ 1, got \(c.checkpoints)") }
      model = [Float](repeating: 0, count: objective.dimension)
      generators = (0..<objective.workerCount).map { SeededGenerator(seed: seed, stream: 0x5347_4400 &+ UInt64($0)) }
      rounds = c.steps / c.period
      checkpointRounds = Set((1...c.checkpoints).map { $0 * (c.steps / c.period) / c.checkpoints })
      messageBits = c.compressor.bitsPerMessage
      trace = [TracePoint(round: 0, bitsPerWorker: 0, loss: objective.loss(model))]
    }

    /// x̄ ← x̄ + (1/M) Σ decoded_i, in worker order.
    mutating func apply(_ messages: [WorkerMessage], round: Int, _ objective: some DistributedObjective) {
      let d = model.count, inverse = 1 / Double(messages.count)
      var sum = [Double](repeating: 0, count: d)
      sum.withUnsafeMutableBufferPointer { total in
        for m in messages {
          m.decoded.withUnsafeBufferPointer { decoded in for j in 0..<d { total[j] += Double(decoded[j]) } }
        }
        model.withUnsafeMutableBufferPointer { x in for j in 0..<d { x[j] = Float(Double(x[j]) + total[j] * inverse) } }
      }
      generators = messages.map(\.generator)
      bitsPerWorker += messageBits
      if checkpointRounds.contains(round + 1) {
        trace.append(TracePoint(round: round + 1, bitsPerWorker: bitsPerWorker, loss: objective.loss(model)))
      }
    }

    func outcome(_ objective: some DistributedObjective) -> Outcome {
      Outcome(weights: model, finalLoss: trace.last!.loss, bitsPerWorker: bitsPerWorker, rounds: rounds, trace: trace)
    }
  }
}
