import Foundation
import Testing
import VQ
import VQTestSupport

/// Compressed distributed SGD: the PQASGD smoke test of research/asq-ipaware.md §7 item 10 on the §5
/// least-squares set-up, the loop against a hand-written SGD, bit accounting and determinism.
@Suite struct CompressedSGDTests {
  /// §7 item 10: PQASGD (EDEN 1-bit on the displacement, p = 4) ends with f − f* ≤ 1.3 × sync fp32 SGD's
  /// while sending ≤ 1/50 of its bits. §5 set-up: M = 8, d = 256, 512 rows/worker, K = 2000, batch 8,
  /// η = 0.5. f − f* of one run fluctuates around the constant-step floor (≈ 7e-4, run-to-run SE ≈ 3e-5
  /// in the notes, ≈ 4 %), so each method is averaged over 2 data sets × 2 seeds; the 1.3 margin is ≈ 7 SE.
  @Test func pqasgdMatchesFullPrecisionWithAFiftiethOfTheBits() throws {
    var fp32Excess = 0.0, pqasgdExcess = 0.0
    var fp32Bits = 0, pqasgdBits = 0
    for dataSeed: UInt64 in [1, 2] {
      let problem = try LeastSquaresObjective.synthetic(workers: 8, rowsPerWorker: 512, dimension: 256, noise: 0.1, seed: dataSeed)
      let optimum = try problem.minimum().loss
      let fp32 = CompressedSGD.Configuration(steps: 2000, batch: 8, learningRate: 0.5, period: 1,
                                             compressor: try FullPrecisionCompressor(dimension: 256), checkpoints: 1)
      var pqasgd = fp32
      pqasgd.period = 4
      pqasgd.compressor = try EDENCompressor.eden(bits: 1, dimension: 256)
      for seed: UInt64 in [10, 20] {
        let a = try CompressedSGD.run(problem, fp32, seed: seed &+ dataSeed, threads: 2)
        let b = try CompressedSGD.run(problem, pqasgd, seed: seed &+ dataSeed, threads: 2)
        fp32Excess += a.finalLoss - optimum
        pqasgdExcess += b.finalLoss - optimum
        fp32Bits = a.bitsPerWorker
        pqasgdBits = b.bitsPerWorker
      }
    }
    #expect(fp32Bits == 2000 * 256 * 32)
    #expect(pqasgdBits == 500 * (256 + 32))
    #expect(pqasgdBits * 50 <= fp32Bits)
    #expect(pqasgdExcess <= 1.3 * fp32Excess, "PQASGD f − f* \(pqasgdExcess / 4) vs fp32 \(fp32Excess / 4)")
    #expect(fp32Excess / 4 < 2e-3, "fp32 SGD did not converge: f − f* = \(fp32Excess / 4)")
  }

  /// One worker, fp32, p = 1 is plain minibatch SGD: the loop reproduces a hand-written SGD exactly.
  @Test func oneWorkerFullPrecisionIsPlainSGD() throws {
    let problem = try LeastSquaresObjective.synthetic(workers: 1, rowsPerWorker: 64, dimension: 16, noise: 0.1, seed: 3)
    let configuration = CompressedSGD.Configuration(steps: 50, batch: 4, learningRate: 0.3, period: 1,
                                                    compressor: try FullPrecisionCompressor(dimension: 16), checkpoints: 5)
    let outcome = try CompressedSGD.run(problem, configuration, seed: 7)
    // By hand: the same sample stream (worker 0's stream of the seed), w ← w − η g.
    var w = [Float](repeating: 0, count: 16), g = [Float](repeating: 0, count: 16)
    var generator = SeededGenerator(seed: 7, stream: 0x5347_4400)
    for _ in 0..<50 {
      w.withUnsafeBufferPointer { wb in
        g.withUnsafeMutableBufferPointer { problem.stochasticGradient(worker: 0, at: wb, batch: 4, generator: &generator, into: $0) }
      }
      for j in 0..<16 { w[j] = Float(Double(w[j]) + Double(-Float(0.3) * g[j] + 0)) }
    }
    for j in 0..<16 { #expect(abs(outcome.weights[j] - w[j]) <= 1e-6 * max(1, abs(w[j])), "coordinate \(j)") }
    #expect(outcome.trace.count == 6 && outcome.trace.map(\.round) == [0, 10, 20, 30, 40, 50])
    #expect(outcome.trace.last!.loss < outcome.trace.first!.loss)
  }

  /// Same outcome with 1 or 2 threads and with the task-group API.
  @Test func deterministicWhateverTheScheduling() async throws {
    let problem = try LeastSquaresObjective.synthetic(workers: 4, rowsPerWorker: 32, dimension: 40, noise: 0.1, seed: 5)
    for compressor: any ClientCompressor in [try EDENCompressor.eden(bits: 2, dimension: 40), try QSGDCompressor(levels: 2, dimension: 40)] {
      let c = CompressedSGD.Configuration(steps: 40, batch: 4, learningRate: 0.5, period: 2, compressor: compressor, checkpoints: 4)
      let one = try CompressedSGD.run(problem, c, seed: 3, threads: 1)
      let two = try CompressedSGD.run(problem, c, seed: 3, threads: 2)
      let grouped = try await CompressedSGD.runConcurrently(problem, c, seed: 3)
      #expect(one.weights == two.weights && one.weights == grouped.weights, "\(compressor.name)")
      #expect(one.trace == grouped.trace)
      #expect(one.bitsPerWorker == 20 * compressor.bitsPerMessage)
    }
  }

  /// Logistic regression: Newton's minimum has a vanishing gradient and SGD gets close to it.
  @Test func logisticRegressionMinimumAndSGD() throws {
    var g = SeededGenerator(seed: 8)
    let rows = 400, d = 6
    var features = [Float](), labels = [Float]()
    for _ in 0..<rows {
      let x = (0..<(d - 1)).map { _ in Float(g.nextGaussian()) } + [1]
      let z = 1.5 * Double(x[0]) - Double(x[1]) + 0.3
      labels.append(g.nextUniform() < 1 / (1 + Foundation.exp(-z)) ? 1 : 0)
      features += x
    }
    let problem = try LogisticRegressionObjective(features: features, labels: labels, dimension: d, workers: 4, regularization: 1e-3)
    let (w, optimum) = try problem.minimum()
    for j in 0..<d {
      var plus = w, minus = w
      plus[j] += 1e-2
      minus[j] -= 1e-2
      #expect(problem.loss(plus) >= optimum && problem.loss(minus) >= optimum, "coordinate \(j)")
    }
    let c = CompressedSGD.Configuration(steps: 400, batch: 8, learningRate: 0.5, period: 4,
                                        compressor: try EDENCompressor.eden(bits: 2, dimension: d))
    let outcome = try CompressedSGD.run(problem, c, seed: 1)
    #expect(outcome.finalLoss - optimum < 0.05 * (problem.loss([Float](repeating: 0, count: d)) - optimum))
    #expect(LogisticRegressionObjective.accuracy(weights: outcome.weights, features: features, labels: labels) > 0.7)
  }

  @Test func badConfigurationThrows() throws {
    let problem = try LeastSquaresObjective.synthetic(workers: 2, rowsPerWorker: 8, dimension: 4, noise: 0.1, seed: 1)
    let fp32 = try FullPrecisionCompressor(dimension: 4)
    #expect(throws: VQError.self) {
      try CompressedSGD.run(problem, .init(steps: 10, batch: 2, learningRate: 0.1, period: 4, compressor: fp32), seed: 1)
    }
    #expect(throws: VQError.self) {
      try CompressedSGD.run(problem, .init(steps: 8, batch: 2, learningRate: 0.1, period: 4,
                                           compressor: try FullPrecisionCompressor(dimension: 5)), seed: 1)
    }
    #expect(throws: VQError.self) {
      try CompressedSGD.run(problem, .init(steps: 8, batch: 0, learningRate: 0.1, period: 4, compressor: fp32), seed: 1)
    }
    #expect(throws: VQError.self) {
      try LogisticRegressionObjective(features: [1, 2], labels: [2], dimension: 2, workers: 1, regularization: 0)
    }
    #expect(throws: VQError.self) {
      try LeastSquaresObjective(features: [1, 2, 3], targets: [1, 2], dimension: 2, workers: 1)
    }
  }
}
