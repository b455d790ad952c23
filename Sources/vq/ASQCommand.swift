import ArgumentParser
import Foundation
import VQ
import VQBench

/// `vq asq`: adaptive stochastic quantization levels for each vector of a file, with their error.
struct ASQCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "asq",
    abstract: "Optimal unbiased quantization levels (ASQ) for each vector of a file, and their error.",
    discussion: """
      Each vector (a 1-D .npy is one vector) gets the s levels minimizing the variance of unbiased \
      stochastic rounding: exactly (sort + DP), or with --approx M on an M-point histogram without \
      sorting. --weights gives per-coordinate weights (one vector, used for every input vector, or one \
      per input vector): the weighted objective sum w_i (x_i - a_i)(b_i - x_i), e.g. query second \
      moments for the average-case inner-product error. Prints the mean vNMSE (weighted: over sum w x^2), \
      the summed objective, the first vector's levels and the time spent computing levels.
      """)

  @Option(help: "Input vectors: .npy (float32/float16, 1-D or 2-D) or .fvecs.")
  var input: String

  @Option(help: "Number of levels s (2...65536).")
  var levels: Int

  @Option(help: "Histogram grid points M (>= 2): the sort-free approximate solver.")
  var approx: Int?

  @Option(help: "Coordinate-descent polish sweeps after the histogram DP (needs --approx).")
  var polish: Int = 0

  @Option(help: "Per-coordinate weights (.npy or .fvecs): one vector, or one per input vector.")
  var weights: String?

  @Flag(help: "Print one JSON object with keys vnmse, objective, levels, seconds.")
  var json = false

  func run() throws {
    guard (2...65536).contains(levels) else {
      throw VQError.outOfRange("--levels must be in 2...65536, got \(levels)")
    }
    if let approx, approx < 2 { throw VQError.outOfRange("--approx must be at least 2 grid points, got \(approx)") }
    guard polish >= 0 else { throw VQError.outOfRange("--polish must be non-negative, got \(polish)") }
    if polish > 0 && approx == nil {
      throw VQError.invalidArgument("--polish applies to the histogram solver; give --approx M (the exact solver is optimal)")
    }
    let vectors = try VectorIO.readVectors(at: input)
    var weightRows: VectorBatch?
    if let weights {
      let w = try VectorIO.readVectors(at: weights)
      try VectorIO.checkSameDimension(vectors, input, w, weights)
      guard w.count == 1 || w.count == vectors.count else {
        throw VQError.invalidArgument("\(weights): \(w.count) weight vectors; expected 1 or \(vectors.count) (one per input vector)")
      }
      for (index, value) in w.values.enumerated() where !(value >= 0) {
        throw VQError.invalidArgument("\(weights): weight at row \(index / w.dimension), column \(index % w.dimension) is \(value); weights must be non-negative")
      }
      weightRows = w
    }
    var totalVNMSE = 0.0, objective = 0.0, firstLevels: [Double] = []
    var seconds = 0.0
    for i in 0..<vectors.count {
      let w: [Double]? = weightRows.map { rows in rows.withRow(rows.count == 1 ? 0 : i) { $0.map(Double.init) } }
      try vectors.withRow(i) { row in
        let start = DispatchTime.now().uptimeNanoseconds
        let solution: ASQ.Solution
        if let approx {
          solution = try w.map { weights in
            try weights.withUnsafeBufferPointer {
              try ASQ.approximateLevels(row, weights: $0, levels: levels, gridPoints: approx, polishSweeps: polish)
            }
          } ?? ASQ.approximateLevels(row, levels: levels, gridPoints: approx, polishSweeps: polish)
        } else {
          solution = try w.map { weights in
            try weights.withUnsafeBufferPointer { try ASQ.exactLevels(row, weights: $0, levels: levels) }
          } ?? ASQ.exactLevels(row, levels: levels)
        }
        seconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        if i == 0 { firstLevels = solution.levels }
        let sumOfVariances = w.map { weights in
          weights.withUnsafeBufferPointer { ASQObjective.sumOfVariances(row, levels: solution.levels, weights: $0) }
        } ?? ASQObjective.sumOfVariances(row, levels: solution.levels)
        objective += sumOfVariances
        var norm = 0.0
        for j in 0..<row.count { norm += (w?[j] ?? 1) * Double(row[j]) * Double(row[j]) }
        totalVNMSE += norm > 0 ? sumOfVariances / norm : 0
      }
    }
    let vnmse = totalVNMSE / Double(vectors.count)
    if json {
      let object = JSONValue.object([
        ("vnmse", .double(vnmse)), ("objective", .double(objective)),
        ("levels", .array(firstLevels.map { .double($0) })), ("seconds", .double(seconds)),
      ])
      print(object.rendered())
    } else {
      let solver = approx.map { "histogram M=\($0)" + (polish > 0 ? " + \(polish) polish sweeps" : "") } ?? "exact"
      print("\(vectors.count) vector(s) of dimension \(vectors.dimension), s = \(levels) levels, \(solver)\(weights == nil ? "" : ", weighted")")
      print("vnmse      \(vnmse)")
      print("objective  \(objective)")
      print("levels     \(firstLevels.map { String($0) }.joined(separator: " "))")
      print("seconds    \(String(format: "%.6f", seconds))")
    }
  }
}
