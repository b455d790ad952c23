import Foundation
import Testing
import VQ
import VQData
@testable import VQBench

@Suite struct KVAttentionTests {
  static func sample(tokens: Int = 128) throws -> KVCache {
    let dir = try #require(EmbeddedData.directory("kv-small"), "Data/kv-small not found")
    return try KVCache(folder: dir.path, tokens: tokens)
  }

  @Test func embeddedSampleHasTheDocumentedLayout() throws {
    let full = try Self.sample(tokens: 10_000)
    #expect(full.layers == 3 && full.kvHeads == 2 && full.queryHeads == 2 && full.tokens == 512 && full.headDimension == 64)
    #expect(full.layerNames == [0, 15, 29])
    #expect(full.kvHead(ofQueryHead: 1) == 1)
    // A prefix keeps the first tokens of every head.
    let prefix = try Self.sample(tokens: 100)
    #expect(prefix.tokens == 100)
    #expect(prefix.keys(layer: 2, head: 1)[row: 99] == full.keys(layer: 2, head: 1)[row: 99])
    #expect(prefix.queries(layer: 1, head: 0)[row: 5] == full.queries(layer: 1, head: 0)[row: 5])
  }

  @Test func float32CacheLeavesAttentionUnchanged() throws {
    let r = try KVAttentionExperiment.measure(QuantizerSpec("fp32"), cache: Self.sample())
    #expect(r.heads.count == 6)
    for h in r.heads {
      // Float32 logits vs Double: differences ~1e-6 relative, far below any quantizer's.
      #expect(h.totalVariation < 1e-5, "\(h)")
      #expect(h.outputRelativeError < 1e-5, "\(h)")
      #expect(h.top8Overlap > 0.99, "\(h)")
    }
  }

  @Test func fewerBitsDistortAttentionMore() throws {
    let cache = try Self.sample()
    let coarse = try KVAttentionExperiment.measure(QuantizerSpec("eden:bits=1"), cache: cache)
    let fine = try KVAttentionExperiment.measure(QuantizerSpec("eden:bits=4"), cache: cache)
    #expect(coarse.meanTotalVariation > 2 * fine.meanTotalVariation)
    #expect(coarse.meanOutputRelativeError > 2 * fine.meanOutputRelativeError)
    #expect(coarse.meanTop8Overlap < fine.meanTop8Overlap)
    #expect(fine.meanTotalVariation > 0 && fine.meanTop8Overlap < 1)
    #expect(coarse.totalVariationByLayer.map(\.layer) == [0, 15, 29])
  }

  @Test func sameResultOnOneThreadAndTwo() throws {
    let cache = try Self.sample(tokens: 64)
    let one = try KVAttentionExperiment.measure(QuantizerSpec("turbo-mse:bits=2"), cache: cache, threads: 1)
    let two = try KVAttentionExperiment.measure(QuantizerSpec("turbo-mse:bits=2"), cache: cache, threads: 2)
    #expect(one == two)
  }

  @Test func badTensorsAreRejectedWithTheirPath() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vq-kv-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(at: folder) }
    let source = try #require(EmbeddedData.directory("kv-small"))
    for name in ["keys.npy", "values.npy", "queries.npy"] {
      try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: folder.appendingPathComponent(name))
    }
    // A 2-D array where a 4-D one belongs.
    try VectorIO.writeVectors(try VectorBatch(dimension: 4, values: [Float](repeating: 1, count: 8)),
                              to: folder.appendingPathComponent("flat.npy").path)
    try FileManager.default.removeItem(at: folder.appendingPathComponent("values.npy"))
    try FileManager.default.copyItem(at: folder.appendingPathComponent("flat.npy"), to: folder.appendingPathComponent("values.npy"))
    let error = try #require(throws: VQError.self) { try KVCache(folder: folder.path) }
    #expect("\(error)".contains("values.npy") && "\(error)".contains("[2, 4]"))
    // Truncated data.
    let keys = folder.appendingPathComponent("keys.npy")
    let bytes = try Data(contentsOf: keys)
    try bytes.prefix(bytes.count - 4).write(to: keys)
    let truncated = try #require(throws: VQError.self) { try NPY4.read(keys.path) }
    #expect("\(truncated)".contains("keys.npy"))
  }
}
