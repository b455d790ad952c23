import ArgumentParser
import Foundation
import VQ
import VQIndex

/// `vq import`: a `.vqx` index from a FAISS flat index file or from a vector file.
struct ImportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Build an index (.vqx) from a FAISS flat index (IndexFlat, IndexIDMap over flat) or .fvecs/.bvecs/.npy.",
    discussion: """
      From FAISS the ids (IndexIDMap) and the metric come along: IndexFlatIP → ip, IndexFlatL2 → l2, an \
      L2 NormalizationTransform in front (as 'vq export' writes for cosine) → cosine. Vector files get ids \
      0..<count and --metric (default ip). The codes are made with --spec, as 'vq index build' would.
      """)

  @Argument(help: "A FAISS index file (any other extension) or vectors (.fvecs, .bvecs, .npy).")
  var input: String
  @Option(help: "The quantizer spec, e.g. 'rabitq:bits=1' (see 'vq specs').")
  var spec: String
  @Option(help: "The index file to write (.vqx).")
  var out: String
  @Option(help: "ip, cosine or l2 (FAISS input: must agree with the file's metric; default: the file's, ip for vectors).")
  var metric: String?
  @Option(help: "IVF lists (0: a flat index).")
  var ivf = 0
  @Option(help: "Seed of the k-means sample and seeding.")
  var seed: UInt64 = 42
  @Flag(name: .customLong("no-originals"), help: "Do not keep the original vectors.")
  var noOriginals = false
  @OptionGroup var threads: ThreadsOption

  func validate() throws {
    if ivf < 0 { throw ValidationError("--ivf must be 0 (flat) or more, got \(ivf)") }
    if let metric { _ = try IndexCommand.metric(metric) }
  }

  func run() throws {
    let spec = try QuantizerSpec(self.spec)
    let vectors: VectorBatch
    var ids: [UInt64]?
    var metric = try self.metric.map { try IndexCommand.metric($0) } ?? .innerProduct
    if VectorFileFormat(path: input) != nil {
      vectors = try VectorIO.readVectors(at: input)
    } else {
      let contents = try FAISSImport.readFlat(input)
      if let given = self.metric, contents.metric.rawValue != given {
        throw VQError.invalidArgument("\(input): the FAISS index's metric is \(contents.metric.rawValue), not \(given)")
      }
      metric = contents.metric
      vectors = contents.vectors
      ids = contents.ids
    }
    let configuration = IndexConfiguration(
      spec: spec, metric: metric, lists: ivf, keepOriginals: !noOriginals, seed: seed, threads: threads.threads)
    let index = try VectorIndex.build(vectors, ids: ids, configuration: configuration)
    try IndexFile.write(index, to: out)
    print("imported \(index.count) vectors × \(index.dimension) from \(input) into \(out): \(index.spec.description), "
      + "metric \(metric.rawValue), \(index.isFlat ? "flat" : "IVF \(index.listCount) lists")")
  }
}
