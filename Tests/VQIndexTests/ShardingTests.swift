import Foundation
import Testing
import VQ
@testable import VQIndex

/// Sharded build and merge: the merged index is byte-identical to a single build.
@Suite("Sharded build and merge")
struct ShardingTests {
  static func fileBytes(_ index: VectorIndex, _ name: String) throws -> Data {
    let path = IndexFileTests.temporaryPath(name)
    try IndexFile.write(index, to: path)
    return try Data(contentsOf: URL(fileURLWithPath: path))
  }

  static func shards(_ base: VectorBatch, count: Int, configuration: IndexConfiguration) throws -> [VectorIndex] {
    try (0..<count).map { i in
      let info = try ShardInfo(index: i, count: count, totalRows: base.count)
      return try VectorIndex.buildShard(base.slice(info.rows), shard: info, configuration: configuration)
    }
  }

  @Test("flat: 3 shards merged in any order = one build, byte for byte (file and search results)")
  func flat() throws {
    let data = try #require(IndexTestData.miniLM)
    let configuration = IndexConfiguration(spec: try QuantizerSpec("rabitq:bits=2"), metric: .l2)
    let single = try VectorIndex.build(data.base, configuration: configuration)
    let parts = try Self.shards(data.base, count: 3, configuration: configuration)
    #expect(parts.map(\.rowCount) == [666, 667, 667])
    // Shards survive a round trip through their files (the shard section) and merge in any order.
    let reloaded = try parts.enumerated().map { i, part in
      let path = IndexFileTests.temporaryPath("shard-\(i).vqx")
      try IndexFile.write(part, to: path)
      return try IndexFile.read(path)
    }
    let merged = try VectorIndex.merge([reloaded[2], reloaded[0], reloaded[1]])
    #expect(try Self.fileBytes(merged, "merged-flat.vqx") == Self.fileBytes(single, "single-flat.vqx"))
  }

  @Test("IVF: centroids trained once; 4 shards merged = one build with those centroids = one build with --ivf")
  func ivf() throws {
    let data = try #require(IndexTestData.miniLM)
    let spec = try QuantizerSpec("eden:bits=3")
    let trainOnly = IndexConfiguration(spec: spec, metric: .cosine, lists: 8, seed: 11)
    let centroids = try VectorIndex.trainCentroids(data.base, configuration: trainOnly)
    var withCentroids = trainOnly
    withCentroids.centroids = centroids
    let single = try VectorIndex.build(data.base, configuration: withCentroids)
    let merged = try VectorIndex.merge(try Self.shards(data.base, count: 4, configuration: withCentroids))
    let expected = try Self.fileBytes(single, "single-ivf.vqx")
    #expect(try Self.fileBytes(merged, "merged-ivf.vqx") == expected)
    // Training inside build gives the same centroids, hence the same file.
    #expect(try Self.fileBytes(try VectorIndex.build(data.base, configuration: trainOnly), "trained-ivf.vqx") == expected)
  }

  @Test("refused: a missing or repeated shard, other specs or centroids, learning specs, IVF without centroids")
  func refusals() throws {
    let data = try #require(IndexTestData.miniLM)
    let base = data.base.slice(0..<400)
    let configuration = IndexConfiguration(spec: try QuantizerSpec("sign"))
    let parts = try Self.shards(base, count: 3, configuration: configuration)
    let missing = #expect(throws: VQError.self) { try VectorIndex.merge([parts[0], parts[2]]) }
    #expect(missing?.description.contains("shard 1/3 is missing") == true)
    #expect(throws: VQError.self) { try VectorIndex.merge([parts[0], parts[1], parts[1], parts[2]]) }
    let other = try Self.shards(base, count: 3, configuration: IndexConfiguration(spec: try QuantizerSpec("int:bits=4")))
    let mixed = #expect(throws: VQError.self) { try VectorIndex.merge([parts[0], other[1], parts[2]]) }
    #expect(mixed?.description.contains("int:bits=4") == true)
    #expect(throws: VQError.self) {
      try Self.shards(base, count: 2, configuration: IndexConfiguration(spec: try QuantizerSpec("rabitq:bits=1,centre=mean")))
    }
    #expect(throws: VQError.self) {
      try Self.shards(base, count: 2, configuration: IndexConfiguration(spec: try QuantizerSpec("sign"), lists: 4))
    }
    #expect(throws: VQError.self) { try ShardInfo(parsing: "3/3", totalRows: 10) }
    #expect(throws: VQError.self) { try ShardInfo(parsing: "a/b", totalRows: 10) }
    var changed = parts[1]
    try changed.delete([changed.ids[0]])
    #expect(throws: VQError.self) { try VectorIndex.merge([parts[0], changed, parts[2]]) }
  }
}
