import ArgumentParser
import Foundation
import VQ
import VQBench
import VQIndex

/// `vq index …`: build, search, inspect and change `.vqx` index files. Thin: parse, call VQIndex, print.
struct IndexCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "index",
    abstract: "Build and search compressed nearest-neighbour indexes (.vqx files).",
    subcommands: [Build.self, Search.self, Info.self, Add.self, Delete.self, Compact.self, Train.self, Merge.self])
}

/// What fixes how a base set is read and how IVF lists are trained (build and train share them, so
/// `train` gives the centroids `build --ivf` would).
struct TrainingOptions: ParsableArguments {
  @Option(help: "ip, cosine or l2.")
  var metric = "ip"
  @Option(help: "Use only the first N base vectors.")
  var limit: Int?
  @Option(name: .customLong("train-size"), help: "Vectors in the k-means sample (default min(count, max(256·lists, 10000)), as FAISS: 256 points per list).")
  var trainSize: Int?
  @Option(help: "Seed of the k-means sample and seeding.")
  var seed: UInt64 = 42
  @Flag(help: "Spherical k-means (unit centroids; ip and cosine): a higher recall ceiling at re-rank ×4 and up, lower recall at ×1.")
  var spherical = false
  @Flag(name: .customLong("no-centre-corrections"), help: "IVF rabitq: skip the per-row centre corrections (4 bytes per vector; they centre each estimate on its list).")
  var noCentreCorrections = false

  func validate() throws {
    if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
    if let trainSize, trainSize < 1 { throw ValidationError("--train-size must be at least 1, got \(trainSize)") }
    _ = try IndexCommand.metric(metric)
  }

  /// The configuration these options and the given spec, lists and centroids make.
  func configuration(spec: QuantizerSpec, lists: Int, keepOriginals: Bool = true, threads: Int?, centroids: VectorBatch? = nil) throws
    -> IndexConfiguration
  {
    IndexConfiguration(
      spec: spec, metric: try IndexCommand.metric(metric), lists: lists, keepOriginals: keepOriginals,
      trainingSampleSize: trainSize, sphericalCentroids: spherical, centreCorrections: !noCentreCorrections, seed: seed,
      threads: threads, centroids: centroids)
  }
}

/// Options every command that loads an index shares.
struct ThreadsOption: ParsableArguments {
  @Option(help: "Threads (default: all cores). Results never depend on it.")
  var threads: Int?

  func validate() throws {
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
  }
}

extension IndexCommand {
  struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Code a base file with one spec into a flat or IVF index.",
      discussion: """
        Ids are the base rows 0..<count. --ivf N trains N k-means lists on a sample and codes each \
        vector's residual to its list centroid. Originals are kept for re-ranking unless --no-originals.
        """)

    @Option(help: "The quantizer spec, e.g. 'rabitq:bits=1' (see 'vq specs').")
    var spec: String
    @Option(help: "Base vectors: .fvecs, .bvecs or .npy.")
    var base: String
    @Option(help: "The index file to write (.vqx); written to a temporary name and renamed into place.")
    var out: String
    @Option(help: "IVF lists (0: a flat index).")
    var ivf = 0
    @OptionGroup var training: TrainingOptions
    @Flag(name: .customLong("no-originals"), help: "Do not keep the original vectors (no re-ranking; smaller file).")
    var noOriginals = false
    @Option(help: "IVF centroids trained beforehand (.fvecs/.npy, from 'vq index train'); replaces --ivf.")
    var centroids: String?
    @Option(help: "Build shard i of n (0-based) of the base: its i-th contiguous range, read alone; join with 'vq index merge'.")
    var shard: String?
    @OptionGroup var threads: ThreadsOption
    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
      if centroids != nil && ivf > 0 { throw ValidationError("--centroids and --ivf exclude each other (the centroids fix the lists)") }
      if ivf < 0 { throw ValidationError("--ivf must be 0 (flat) or more, got \(ivf)") }
    }

    func run() throws {
      let spec = try QuantizerSpec(self.spec)
      let file = try MappedVectorFile(path: base)
      let total = min(file.count, training.limit ?? file.count)
      let shardInfo = try shard.map { try ShardInfo(parsing: $0, totalRows: total) }
      let rows = shardInfo?.rows ?? 0..<total
      let vectors = try file.read(rows)
      let given = try centroids.map { path -> VectorBatch in
        let c = try VectorIO.readVectors(at: path)
        guard c.dimension == file.dimension else {
          throw VQError.dimensionMismatch(expected: file.dimension, got: c.dimension, what: "centroids \(path)")
        }
        return c
      }
      let configuration = try training.configuration(
        spec: spec, lists: given?.count ?? ivf, keepOriginals: !noOriginals, threads: threads.threads, centroids: given)
      let clock = ContinuousClock()
      let start = clock.now
      let index = try shardInfo.map { try VectorIndex.buildShard(vectors, shard: $0, configuration: configuration) }
        ?? VectorIndex.build(vectors, configuration: configuration)
      try IndexFile.write(index, to: out)
      let seconds = IndexCommand.seconds(clock.now - start)
      if json {
        print(JSONValue.object([
          ("path", .string(out)), ("spec", .string(index.spec.description)), ("count", .int(index.count)),
          ("dimension", .int(index.dimension)), ("lists", .int(index.isFlat ? 0 : index.listCount)),
          ("bytes_per_vector", .int(index.bytesPerVector)), ("seconds", .double(seconds)),
        ]).rendered())
      } else {
        print("built \(out): \(index.count) vectors × \(index.dimension), \(index.spec.description), "
          + "\(index.isFlat ? "flat" : "IVF \(index.listCount) lists"), \(index.bytesPerVector) bytes/vector "
          + "in codes, \(String(format: "%.3f", seconds)) s")
      }
    }
  }

  struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Search an index with a query file; recall against ground truth when given.",
      discussion: """
        Prints recall@k (with --groundtruth), queries per second and the ids found. With --json: one \
        object with keys recall_at_k (only with --groundtruth), qps, k, rerank, nprobe, threads, \
        bytes_per_vector and ids (the top-k ids of each query, best first).
        """)

    @Argument(help: "The index file (.vqx).")
    var index: String
    @Option(help: "Query vectors: .fvecs, .bvecs or .npy.")
    var queries: String
    @Option(help: "Neighbours per query.")
    var k = 10
    @Option(help: "Re-rank the best rerank·k candidates with the original vectors (0: codes only).")
    var rerank = 0
    @Option(help: "IVF lists visited per query.")
    var nprobe = 1
    @Option(name: .customLong("groundtruth"), help: "True neighbour ids per query (.ivecs or int32 .npy), best first.")
    var groundTruth: String?
    @Option(name: .customLong("allow"), help: "Only return these ids: an .ivecs or int .npy file (all values are ids).")
    var allow: String?
    @Flag(help: "Memory-map the index instead of reading it (for indexes larger than memory).")
    var mmap = false
    @Option(help: "auto, codes (the quantizer's estimator on every row) or fastscan (rabitq: 4-bit LUT scan with bounds; blockquant with bits·block = 4: 16-entry LUT scan).")
    var scan = "auto"
    @OptionGroup var threads: ThreadsOption
    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
      if ScanMode(rawValue: scan) == nil { throw ValidationError("--scan must be one of auto, codes, fastscan; got '\(scan)'") }
      if k < 1 { throw ValidationError("--k must be at least 1, got \(k)") }
      if rerank < 0 { throw ValidationError("--rerank must be 0 or more, got \(rerank)") }
      if nprobe < 1 { throw ValidationError("--nprobe must be at least 1, got \(nprobe)") }
    }

    func run() throws {
      let loaded = try IndexFile.read(index, mapped: mmap)
      let queryVectors = try VectorIO.readVectors(at: queries)
      guard queryVectors.dimension == loaded.dimension else {
        throw VQError.dimensionMismatch(expected: loaded.dimension, got: queryVectors.dimension, what: "queries \(queries)")
      }
      guard k <= loaded.count else {
        throw VQError.outOfRange("k = \(k) is out of range: the index holds \(loaded.count) live vectors")
      }
      var filter: IDFilter?
      if let allow {
        let ids = try VectorIO.readIntVectors(at: allow).values
        if let negative = ids.first(where: { $0 < 0 }) {
          throw VQError.invalidArgument("\(allow): negative id \(negative) in the allow-list")
        }
        filter = IDFilter(allowing: ids.map { UInt64($0) })
      }
      let truth = try groundTruth.map { try VectorIO.readIntVectors(at: $0) }
      if let truth {
        guard truth.rows == queryVectors.count else {
          throw VQError.invalidArgument("\(groundTruth!): \(truth.rows) ground-truth rows for \(queryVectors.count) queries")
        }
        guard truth.columns >= k else {
          throw VQError.invalidArgument("\(groundTruth!): \(truth.columns) ids per query, fewer than k = \(k)")
        }
      }
      let parameters = SearchParameters(k: k, rerank: rerank, nprobe: nprobe, filter: filter, scan: ScanMode(rawValue: scan)!)
      let clock = ContinuousClock()
      let start = clock.now
      let results = try loaded.search(queryVectors, parameters: parameters, threads: threads.threads)
      let seconds = IndexCommand.seconds(clock.now - start)
      let qps = Double(queryVectors.count) / max(seconds, 1e-9)
      let recall = truth.map { truth in
        var total = 0.0
        for (q, hits) in results.enumerated() {
          let expected = (0..<k).map { Int(truth.values[q * truth.columns + $0]) }
          total += Recall.fraction(found: hits.map { Int($0.id) }, truth: expected)
        }
        return total / Double(max(results.count, 1))
      }
      let usedThreads = threads.threads ?? Parallel.availableCores
      if json {
        var members: [(String, JSONValue)] = []
        if let recall { members.append(("recall_at_k", .double(recall))) }
        members += [
          ("qps", .double(qps)), ("k", .int(k)), ("rerank", .int(rerank)), ("nprobe", .int(nprobe)),
          ("threads", .int(usedThreads)), ("bytes_per_vector", .int(loaded.bytesPerVector)),
          ("ids", .array(results.map { hits in .array(hits.map { .int(Int(truncatingIfNeeded: $0.id)) }) })),
        ]
        print(JSONValue.object(members).rendered())
      } else {
        var lines = ["\(index): \(loaded.spec.description), \(loaded.count) vectors, \(loaded.bytesPerVector) bytes/vector"]
        lines.append("k \(k), rerank \(rerank), nprobe \(nprobe), threads \(usedThreads): \(String(format: "%.1f", qps)) queries/s")
        if let recall { lines.append("recall@\(k): \(String(format: "%.4f", recall))") }
        for (q, hits) in results.prefix(5).enumerated() {
          lines.append("query \(q): " + hits.map { "\($0.id)" }.joined(separator: " "))
        }
        if results.count > 5 { lines.append("… (\(results.count - 5) more queries; --json prints all ids)") }
        print(lines.joined(separator: "\n"))
      }
    }
  }

  struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print what an index file holds (reads the header only).")

    @Argument(help: "The index file (.vqx).")
    var index: String
    @Flag(help: "Also verify every section's checksum (reads the whole file).")
    var verify = false
    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
      let header = try IndexFile.header(index)
      if verify { _ = try IndexFile.read(index, mapped: true, verifyChecksums: true) }
      if json {
        print(JSONValue.object([
          ("path", .string(index)), ("version", .int(Int(header.version))), ("spec", .string(header.spec.description)),
          ("dimension", .int(header.dimension)), ("rows", .int(header.rows)), ("deleted", .int(header.deletedRows)),
          ("count", .int(header.rows - header.deletedRows)), ("metric", .string(header.metric.rawValue)),
          ("lists", .int(header.lists)), ("seed", .int(Int(truncatingIfNeeded: header.seed))),
          ("bytes_per_vector", .int(header.bytesPerVector)), ("file_bytes", .int(header.fileBytes)),
          ("sections", .array(header.sections.map { .object([("name", .string($0.name)), ("offset", .int($0.offset)), ("bytes", .int($0.length))]) })),
          ("verified", .bool(verify)),
        ]).rendered())
      } else {
        var lines = [
          "\(index): .vqx version \(header.version), \(header.fileBytes) bytes\(verify ? ", checksums verified" : "")",
          "spec \(header.spec.description), metric \(header.metric.rawValue), dimension \(header.dimension)",
          "\(header.rows - header.deletedRows) live vectors (\(header.rows) rows, \(header.deletedRows) deleted), "
            + (header.lists == 0 ? "flat" : "IVF \(header.lists) lists") + ", seed \(header.seed)",
          "\(header.bytesPerVector) bytes/vector in codes (\(header.bytesPerCode) code + \(header.sideFields) side values"
            + (header.hasCentreCorrections ? " + 1 centre correction)" : ")"),
        ]
        for s in header.sections { lines.append("  \(s.name): \(s.length) bytes at \(s.offset)") }
        print(lines.joined(separator: "\n"))
      }
    }
  }

  struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Code and add vectors to an index (ids continue after the largest stored id).")

    @Argument(help: "The index file (.vqx), rewritten atomically unless --out is given.")
    var index: String
    @Option(help: "Vectors to add: .fvecs, .bvecs or .npy.")
    var vectors: String
    @Option(help: "Ids for the new vectors (.ivecs or int .npy, one per vector); default: continue after the largest id.")
    var ids: String?
    @Option(help: "Write the result here instead of replacing the index.")
    var out: String?
    @OptionGroup var threads: ThreadsOption

    func run() throws {
      var loaded = try IndexFile.read(index)
      let x = try VectorIO.readVectors(at: vectors)
      let given = try ids.map { path -> [UInt64] in
        let values = try VectorIO.readIntVectors(at: path).values
        if let negative = values.first(where: { $0 < 0 }) { throw VQError.invalidArgument("\(path): negative id \(negative)") }
        return values.map { UInt64($0) }
      }
      let added = try loaded.add(x, ids: given, threads: threads.threads)
      try IndexFile.write(loaded, to: out ?? index)
      print("added \(added.count) vectors (ids \(added.first.map(String.init) ?? "-")…\(added.last.map(String.init) ?? "-")); \(loaded.count) live")
    }
  }

  struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete ids from an index (tombstones; --compact drops them).")

    @Argument(help: "The index file (.vqx), rewritten atomically unless --out is given.")
    var index: String
    @Option(help: "Ids to delete, comma-separated.")
    var ids: String
    @Option(help: "Write the result here instead of replacing the index.")
    var out: String?
    @Flag(help: "Also drop the deleted rows from the file.")
    var compact = false

    func run() throws {
      var parsed: [UInt64] = []
      for token in ids.split(separator: ",", omittingEmptySubsequences: false) {
        guard let id = UInt64(String(token).trimmingCharacters(in: .whitespaces)) else {
          throw VQError.invalidArgument("--ids: '\(token)' is not an id (a non-negative integer)")
        }
        parsed.append(id)
      }
      var loaded = try IndexFile.read(index)
      let deleted = try loaded.delete(parsed)
      if compact { loaded.compact() }
      try IndexFile.write(loaded, to: out ?? index)
      print("deleted \(deleted) ids; \(loaded.count) live\(compact ? ", compacted" : "")")
    }
  }

  struct Compact: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Drop deleted rows from an index file.")

    @Argument(help: "The index file (.vqx), rewritten atomically unless --out is given.")
    var index: String
    @Option(help: "Write the result here instead of replacing the index.")
    var out: String?

    func run() throws {
      var loaded = try IndexFile.read(index)
      let dropped = loaded.deletedCount
      loaded.compact()
      try IndexFile.write(loaded, to: out ?? index)
      print("dropped \(dropped) deleted rows; \(loaded.count) live")
    }
  }

  struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Train IVF centroids once (k-means on a seeded sample), for 'build --centroids' and sharded builds.",
      discussion: "The centroids are those 'vq index build --ivf N' would train with the same --metric, --train-size and --seed.")

    @Option(help: "Base vectors: .fvecs, .bvecs or .npy.")
    var base: String
    @Option(help: "Number of lists (centroids).")
    var ivf: Int
    @Option(help: "The centroids file to write (.fvecs or .npy).")
    var out: String
    @OptionGroup var training: TrainingOptions
    @OptionGroup var threads: ThreadsOption

    func validate() throws {
      if ivf < 1 { throw ValidationError("--ivf must be at least 1, got \(ivf)") }
    }

    func run() throws {
      var vectors = try VectorIO.readVectors(at: base)
      if let limit = training.limit, limit < vectors.count { vectors = vectors.slice(0..<limit) }
      let centroids = try VectorIndex.trainCentroids(
        vectors, configuration: try training.configuration(spec: try QuantizerSpec("fp32"), lists: ivf, threads: threads.threads))
      try VectorIO.writeVectors(centroids, to: out)
      print("trained \(centroids.count) centroids × \(centroids.dimension) into \(out)")
    }
  }

  struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Join the shards of a sharded build into one index, byte-identical to a single build.")

    @Argument(help: "The shard files (.vqx), in any order.")
    var shards: [String]
    @Option(help: "The merged index file to write (.vqx).")
    var out: String

    func validate() throws {
      if shards.isEmpty { throw ValidationError("give the shard files to merge") }
    }

    func run() throws {
      let loaded = try shards.map { try IndexFile.read($0, mapped: true) }
      let merged = try VectorIndex.merge(loaded)
      try IndexFile.write(merged, to: out)
      print("merged \(shards.count) shards into \(out): \(merged.count) vectors")
    }
  }

  static func metric(_ name: String) throws -> IndexMetric {
    guard let metric = IndexMetric(rawValue: name) else {
      throw ValidationError("--metric must be one of ip, cosine, l2; got '\(name)'")
    }
    return metric
  }

  static func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
  }
}

