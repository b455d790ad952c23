// Search benchmarks of the compressed index (issue 7) with ordo-one/benchmark. From the repository root:
//
//   swift package --package-path Benchmarks benchmark --target IndexBenchmarks
//   VQ_INDEX_DATA=../shared/data/minilm swift package --package-path Benchmarks benchmark --target IndexBenchmarks
//
// Data: the folder in VQ_INDEX_DATA (base.fvecs, query.fvecs), else the embedded Data/minilm-small
// (2,000 × 384, 100 queries). Indexes are built once, outside the measurement; one iteration searches
// every query once on one thread (k = 10), so queries per second = queries / wall time of an iteration.
// The side-by-side with FAISS on the same data and recall is Tools/index_vs_faiss.py.
import Benchmark
import Foundation
import VQ
import VQIndex

/// The data set and the indexes, built once.
final class IndexFixture: @unchecked Sendable {
  let base: VectorBatch
  let queries: VectorBatch
  let name: String
  var indexes: [(label: String, index: VectorIndex)] = []

  init() {
    let folder: String
    if let given = ProcessInfo.processInfo.environment["VQ_INDEX_DATA"], !given.isEmpty {
      folder = given
    } else {
      folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../Data/minilm-small").standardized.path
    }
    do {
      base = try VectorIO.readVectors(at: folder + "/base.fvecs")
      queries = try VectorIO.readVectors(at: folder + "/query.fvecs")
    } catch {
      fatalError("IndexBenchmarks: cannot read \(folder): \(error)")
    }
    name = "\(base.count)×\(base.dimension), \(queries.count) queries"
    let lists = max(16, base.count / 200)
    let configurations: [(String, String, Int)] = [
      ("flat rabitq:bits=1", "rabitq:bits=1", 0),
      ("flat rabitq:bits=1,centre=mean", "rabitq:bits=1,centre=mean", 0),
      ("flat rabitq:bits=4", "rabitq:bits=4", 0),
      ("IVF\(lists) rabitq:bits=1", "rabitq:bits=1", lists),
      ("IVF\(lists) rabitq:bits=4", "rabitq:bits=4", lists),
    ]
    for (label, spec, lists) in configurations {
      do {
        let configuration = IndexConfiguration(spec: try QuantizerSpec(spec), lists: lists)
        indexes.append((label, try VectorIndex.build(base, configuration: configuration)))
      } catch {
        fatalError("IndexBenchmarks: cannot build \(label): \(error)")
      }
    }
  }
}

let benchmarks: @Sendable () -> Void = {
  let fixture = IndexFixture()
  let configuration = Benchmark.Configuration(
    metrics: [.wallClock, .cpuTotal, .throughput], timeUnits: .milliseconds, warmupIterations: 1,
    scalingFactor: .one, maxDuration: .seconds(5), maxIterations: 50)
  for (label, index) in fixture.indexes {
    let nprobes = index.listCount > 1 ? [max(1, index.listCount / 16), max(1, index.listCount / 8)] : [1]
    for nprobe in nprobes {
      for rerank in [1, 4] {
        let parameters = SearchParameters(k: 10, rerank: rerank, nprobe: nprobe)
        let title = "search \(label)\(index.listCount > 1 ? " nprobe=\(nprobe)" : "") rerank=\(rerank) (\(fixture.name))"
        Benchmark(title, configuration: configuration) { benchmark in
          let hits = try index.search(fixture.queries, parameters: parameters, threads: 1)
          blackHole(hits.count)
        }
      }
    }
  }
}
