import Foundation
import Testing
import VQ
import VQData
@testable import VQBench

@Suite struct LowRankExperimentTests {
  /// The fields of every `lowrank` row, in order (report.json).
  static let fields = [
    "method", "quantizer", "block_rows", "eta", "layers", "kv_heads", "query_heads", "tokens", "queries_per_head",
    "bits_per_coordinate", "memory_ratio", "key_bits_per_coordinate", "value_bits_per_coordinate",
    "key_low_rank_ratio", "value_low_rank_ratio", "key_fidelity_mean", "key_fidelity_min", "value_fidelity_mean",
    "value_fidelity_min", "key_stored_fidelity_mean", "value_stored_fidelity_mean", "key_blocks", "value_blocks",
    "key_resets", "value_resets", "key_refreshes", "value_refreshes", "key_versions", "value_versions",
    "key_rank_mean", "key_rank_max", "value_rank_mean", "value_rank_max", "attention_output_rel_error",
    "attention_tv", "top8_overlap", "turbo_mse_alone_best_output_rel_error_at_most_bits",
  ]

  @Test func quickRowsHaveTheDocumentedFields() throws {
    let sections = try LowRankExperiment.run(ExperimentSettings(seed: 1, threads: 2, scale: .quick))
    #expect(sections.count == 1)
    let s = try #require(sections.first)
    #expect(s.key == "lowrank")
    #expect(s.rows.count == 6)  // 2 η × {float32 Z, turbo-mse:bits=4 on Z} + 2 quantizer-alone rows
    #expect(s.plots.count == 2)
    #expect(s.table.contains("3 layers × 2 KV heads × 128 tokens"))
    for row in s.rows {
      #expect(row.members.map(\.0) == Self.fields)
      let get = { (key: String) in row[key] }
      #expect(get("tokens") == .int(128) && get("layers") == .int(3) && get("kv_heads") == .int(2))
      #expect(get("queries_per_head") == .int(120))
      let bits = try #require(get("bits_per_coordinate")?.number)
      // Low-rank can cost more than float32 (a block that resets stores B·k + D·k values): at most
      // 32·(k/D + k/B) ≤ 32·(1 + 64/32) bits per coordinate here.
      #expect(bits > 0 && bits <= 96)
      let error = try #require(get("attention_output_rel_error")?.number)
      #expect(error > 0 && error < 1)
      if get("method") != .string("quantizer alone") {
        let eta = try #require(get("eta")?.number)
        // Every stored block reaches η (by construction of the tracker).
        #expect(try #require(get("key_fidelity_min")?.number) >= eta)
        #expect(try #require(get("value_fidelity_min")?.number) >= eta)
        // 128 tokens in blocks of 32: 4 blocks per head and stream, 6 heads.
        #expect(get("key_blocks") == .int(24) && get("value_blocks") == .int(24))
        if get("quantizer") == .string("none (float32 Z)") {
          // Float32 coefficients: the bits ratio is the same-precision low-rank ratio.
          let ratio = try #require(get("memory_ratio")?.number)
          let kr = try #require(get("key_low_rank_ratio")?.number), vr = try #require(get("value_low_rank_ratio")?.number)
          #expect(abs(ratio - (kr + vr) / 2) < 1e-12)
        }
      }
    }
  }

  /// The experiment's own attention comparison (needed for logits from a tracker) gives
  /// KVAttentionExperiment's numbers when fed a quantizer's estimates and decoded values.
  @Test func attentionComparisonMatchesKVAttentionExperiment() throws {
    let dir = try #require(EmbeddedData.directory("kv-small"))
    let cache = try KVCache(folder: dir.path, tokens: 64)
    let spec = try QuantizerSpec("turbo-mse:bits=3")
    let reference = try KVAttentionExperiment.measure(spec, cache: cache, threads: 1)
    for (layer, name) in cache.layerNames.enumerated() {
      for head in 0..<cache.queryHeads {
        let kv = cache.kvHead(ofQueryHead: head)
        let quantizer = try QuantizerRegistry.standard.makeQuantizer(spec, dimension: cache.headDimension)
        let keyCodes = try quantizer.encode(cache.keys(layer: layer, head: kv))
        let decoded = try quantizer.decode(quantizer.encode(cache.values(layer: layer, head: kv))).values.map { Double($0) }
        let queries = cache.queries(layer: layer, head: head)
        let exact = KVAttentionExperiment.exactAttention(cache: cache, tokens: cache.tokens, layer: layer, queryHead: head)
        let mine = try KVAttentionExperiment.compare(exact, tokens: cache.tokens, dimension: cache.headDimension, values: decoded) { i in
          try quantizer.estimateInnerProducts(quantizer.prepare(query: queries[row: i]), codes: keyCodes).map { Double($0) }
        }
        let theirs = try #require(reference.heads.first { $0.layer == name && $0.queryHead == head })
        #expect(abs(mine.totalVariation - theirs.totalVariation) < 1e-12)
        #expect(abs(mine.outputRelativeError - theirs.outputRelativeError) < 1e-12)
        #expect(mine.top8Overlap == theirs.top8Overlap)
      }
    }
  }

  @Test func rowsDoNotDependOnTheThreadCount() throws {
    let one = try LowRankExperiment.run(ExperimentSettings(seed: 1, threads: 1, scale: .quick))
    let two = try LowRankExperiment.run(ExperimentSettings(seed: 1, threads: 2, scale: .quick))
    #expect(one[0].rows == two[0].rows)
    #expect(one[0].table == two[0].table)
  }
}
