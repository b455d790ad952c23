import ArgumentParser
import VQ
import VQBench

/// `vq eval`: quantize a base file with one spec and print the metrics.
struct EvalCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval",
    abstract: "Quantize base vectors with one spec and print the metrics.",
    discussion: """
      Inputs are L2-normalized unless --no-normalize is given. Without --queries, the last \
      min(100, count/10) base vectors are held out as queries (random ones with --seed). Without \
      --groundtruth, the exact top-10 of each query is computed by brute force.
      """)

  @Option(help: "The quantizer spec, e.g. 'int:bits=4' (see 'vq specs').")
  var spec: String

  @Option(help: "Base vectors: .fvecs, .bvecs or .npy.")
  var base: String

  @Option(help: "Query vectors (.fvecs, .bvecs or .npy); default: held out from the base.")
  var queries: String?

  @Option(name: .customLong("groundtruth"), help: "True neighbour ids per query (.ivecs or int32 .npy), best first; needs --queries.")
  var groundTruth: String?

  @Option(help: "Use only the first N base vectors.")
  var limit: Int?

  @Option(help: "Hold out randomly chosen base vectors as queries, drawn with this seed (default: the last rows).")
  var seed: UInt64?

  @Flag(help: "Print one JSON object instead of the table.")
  var json = false

  @Flag(name: .customLong("no-normalize"), help: "Keep the vectors' norms (default: scale every vector to unit length).")
  var noNormalize = false

  func validate() throws {
    if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
    if seed != nil && queries != nil {
      throw ValidationError("--seed picks held-out queries; it has no effect with --queries")
    }
    if groundTruth != nil && queries == nil {
      throw ValidationError("--groundtruth needs the --queries file it was computed for")
    }
  }

  func run() throws {
    let spec = try QuantizerSpec(self.spec)
    var baseVectors = try VectorIO.readVectors(at: base)
    if let limit, limit < baseVectors.count { baseVectors = baseVectors.slice(0..<limit) }
    var queryVectors: VectorBatch?
    if let queries {
      let q = try VectorIO.readVectors(at: queries)
      try VectorIO.checkSameDimension(baseVectors, base, q, queries)
      queryVectors = q
    }
    let truth = try groundTruth.map { try VectorIO.readIntVectors(at: $0) }
    let evaluation = try Evaluation(
      base: baseVectors, queries: queryVectors, groundTruth: truth, normalize: !noNormalize, holdoutSeed: seed,
      sources: .init(base: base, queries: queries ?? "queries", groundTruth: groundTruth ?? "ground truth"))
    let result = try evaluation.run(spec)
    print(json ? result.jsonString() : TextReport.evaluation(result, on: evaluation))
  }
}
