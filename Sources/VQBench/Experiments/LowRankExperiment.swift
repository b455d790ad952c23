import Foundation
import VQ
import VQData

/// `vq bench --lowrank`: the LASER-style streaming low-rank tracker (`LowRankTracker`, our reading of
/// Çakar, Raghu, Zheng, arXiv:2604.17224; research/geometry.md §6) on a real KV cache — memory saving
/// against attention fidelity, alone and composed with a quantizer on the coefficients, next to the
/// quantizer alone on the full vectors at comparable bits.
///
/// For every layer and KV head, the keys and the values are each streamed in blocks of B tokens through
/// their own tracker (η ∈ {0.9, 0.95, 0.99, 0.999}); every block is compressed, the last one too (a
/// real cache would keep the open block in full precision: this is the conservative side). Attention is
/// then compared with the float computation for every causal query i ≥ 8 of the query heads that attend
/// the KV head: logits from the compressed keys as a compressed cache computes them (the query projected
/// once per basis version, dotted with the coefficients or with the coefficient quantizer's estimator),
/// outputs with the decoded values. Measures as `KVAttentionExperiment` (total variation of the attention
/// weights, top-8 overlap, ‖o − ô‖/‖o‖), which also supplies the quantizer-alone rows.
enum LowRankExperiment {
  /// One low-rank configuration: block size, η, the quantizer on the coefficients (nil: float32).
  struct Configuration: Sendable {
    var blockRows: Int
    var energy: Double
    var coefficientSpec: String?
  }

  struct Plan: Sendable {
    var tokens: Int?
    var lowRank: [Configuration]
    var baselines: [String]
  }

  static let energies = [0.9, 0.95, 0.99, 0.999]
  /// The first queries are skipped, as in `KVAttentionExperiment` (top-8 needs 8 keys).
  static let skippedQueries = KVAttentionExperiment.top

  static func plan(_ scale: ExperimentSettings.Scale) -> Plan {
    switch scale {
    case .full:
      var lowRank: [Configuration] = []
      for spec in [nil, "turbo-mse:bits=8,rotation=haar", "turbo-mse:bits=4,rotation=haar", "turbo-mse:bits=2,rotation=haar", "rabitq:bits=4,rotation=haar"] as [String?] {
        for eta in energies { lowRank.append(Configuration(blockRows: 32, energy: eta, coefficientSpec: spec)) }
      }
      for eta in energies { lowRank.append(Configuration(blockRows: 64, energy: eta, coefficientSpec: nil)) }
      return Plan(
        tokens: nil, lowRank: lowRank,
        baselines: ["turbo-mse:bits=1", "turbo-mse:bits=2", "turbo-mse:bits=3", "turbo-mse:bits=4", "turbo-mse:bits=8",
                    "rabitq:bits=1", "rabitq:bits=2", "rabitq:bits=4"])
    case .quick:
      return Plan(
        tokens: 128,
        lowRank: [0.9, 0.99].flatMap { eta in
          [nil, "turbo-mse:bits=4,rotation=haar"].map { Configuration(blockRows: 32, energy: eta, coefficientSpec: $0) }
        },
        baselines: ["turbo-mse:bits=2", "turbo-mse:bits=4"])
    }
  }

  static func run(_ settings: ExperimentSettings) throws -> [ExperimentSection] {
    let plan = plan(settings.scale)
    let cache: KVCache
    if let given = settings.kvCache {
      cache = given
    } else {
      guard let dir = EmbeddedData.directory("kv-small") else {
        throw VQError.io(path: "kv-small", detail: "the embedded KV sample was not found (pass --kv DIR)")
      }
      cache = try KVCache(folder: dir.path, tokens: plan.tokens)
    }
    // `.quick` keeps the first 128 tokens of any cache (a causal prefix is itself a valid cache).
    let tokens = min(cache.tokens, plan.tokens ?? cache.tokens)
    guard tokens > skippedQueries else {
      throw VQError.invalidArgument("--lowrank: the cache has \(tokens) tokens; need more than \(skippedQueries)")
    }
    let registry = QuantizerRegistry.standard
    var baselineBits: [Double] = []
    for spec in plan.lowRank.compactMap(\.coefficientSpec) {
      _ = try registry.makeQuantizer(spec, dimension: cache.headDimension)  // bad specs fail before any work
    }
    for spec in plan.baselines {
      baselineBits.append(try registry.makeQuantizer(spec, dimension: cache.headDimension).layout
        .bitsPerCoordinate(dimension: cache.headDimension))
    }
    // One unit per (layer, KV head), every configuration and baseline inside it (the exact attention is
    // computed once per unit); fixed chunks, so the rows do not depend on the thread count.
    let units = cache.layers * cache.kvHeads
    let outcomes = try Parallel.mapChunks(count: units, chunks: units, threads: settings.threads) { range in
      try range.map { unit in
        let layer = unit / cache.kvHeads, head = unit % cache.kvHeads
        settings.progress("lowrank layer \(cache.layerNames[layer]) kv head \(head)")
        return try measureUnit(
          cache: cache, tokens: tokens, layer: layer, kvHead: head, configurations: plan.lowRank,
          baselines: plan.baselines, registry: registry)
      }
    }.flatMap { $0 }
    let baselineRows = plan.baselines.enumerated().map { b, spec in
      Row(baseline: spec, bits: baselineBits[b], heads: outcomes.flatMap { $0.baselines[b] }, cache: cache, tokens: tokens)
    }
    let turboAlone = baselineRows.filter { $0.quantizer.hasPrefix("turbo-mse") }
      .map { (bits: $0.bitsPerCoordinate, error: $0.attention.outputRelativeError) }.sorted { $0.bits < $1.bits }
    var rows: [Row] = []
    for (c, configuration) in plan.lowRank.enumerated() {
      rows.append(Row(
        configuration: configuration, outcomes: outcomes.map { $0.lowRank[c] }, cache: cache, tokens: tokens,
        turboAlone: turboAlone))
    }
    rows += baselineRows
    return [section(rows, cache: cache, tokens: tokens, plan: plan)]
  }

  // MARK: Measurement

  /// Per-stream statistics of one tracker.
  struct StreamStats: Sendable {
    var memory: LowRankTracker.Memory
    var records: [LowRankTracker.BlockRecord]
    var versions: Int
  }

  /// One configuration on one (layer, KV head): both trackers and the attention comparison of each query
  /// head attending it.
  struct UnitOutcome: Sendable {
    var keys: StreamStats
    var values: StreamStats
    var heads: [KVAttentionExperiment.AttentionFidelity]
  }

  static func track(
    _ batch: VectorBatch, configuration c: Configuration, registry: QuantizerRegistry
  ) throws -> LowRankTracker {
    var factory: LowRankTracker.QuantizerFactory?
    if let spec = c.coefficientSpec {
      factory = { @Sendable dimension in try registry.makeQuantizer(spec, dimension: dimension) }
    }
    var tracker = try LowRankTracker(
      dimension: batch.dimension, configuration: .init(energy: c.energy), valueBits: 32, coefficientQuantizer: factory)
    var start = 0
    while start < batch.count {
      let end = min(start + c.blockRows, batch.count)
      try tracker.append(batch, rows: start..<end)
      start = end
    }
    return tracker
  }

  /// The first `tokens` rows of a batch.
  static func prefix(_ batch: VectorBatch, _ tokens: Int) throws -> VectorBatch {
    tokens == batch.count ? batch : try VectorBatch(dimension: batch.dimension, values: Array(batch.values[0..<(tokens * batch.dimension)]))
  }

  /// Every low-rank configuration and every quantizer-alone baseline on one (layer, KV head).
  static func measureUnit(
    cache: KVCache, tokens: Int, layer: Int, kvHead: Int, configurations: [Configuration], baselines: [String],
    registry: QuantizerRegistry
  ) throws -> (lowRank: [UnitOutcome], baselines: [[KVAttentionExperiment.AttentionFidelity]]) {
    let d = cache.headDimension
    let keys = try prefix(cache.keys(layer: layer, head: kvHead), tokens)
    let values = try prefix(cache.values(layer: layer, head: kvHead), tokens)
    let queryHeads = (0..<cache.queryHeads).filter { cache.kvHead(ofQueryHead: $0) == kvHead }
    let exact = queryHeads.map { KVAttentionExperiment.exactAttention(cache: cache, tokens: tokens, layer: layer, queryHead: $0) }
    let queries = queryHeads.map { cache.queries(layer: layer, head: $0) }
    let lowRank = try configurations.map { c in
      let keyTracker = try track(keys, configuration: c, registry: registry)
      let valueTracker = try track(values, configuration: c, registry: registry)
      let decoded = try valueTracker.decodeAll().values
      var heads: [KVAttentionExperiment.AttentionFidelity] = []
      for h in queryHeads.indices {
        try heads.append(KVAttentionExperiment.compare(exact[h], tokens: tokens, dimension: d, values: decoded) { i in
          try keyTracker.estimateInnerProducts(query: queries[h][row: i])
        })
      }
      func stats(_ t: LowRankTracker) -> StreamStats {
        StreamStats(memory: t.memory, records: t.records, versions: t.versions.count)
      }
      return UnitOutcome(keys: stats(keyTracker), values: stats(valueTracker), heads: heads)
    }
    // The quantizer alone on the full vectors, as KVAttentionExperiment does it (a quantizer fitted on the
    // head's keys, another on its values; logits from the key codes' estimator, decoded values).
    let alone = try baselines.map { spec in
      var keyQuantizer = try registry.makeQuantizer(spec, dimension: d)
      try keyQuantizer.fit(keys)
      let keyCodes = try keyQuantizer.encode(keys)
      var valueQuantizer = try registry.makeQuantizer(spec, dimension: d)
      try valueQuantizer.fit(values)
      let decoded = try valueQuantizer.decode(valueQuantizer.encode(values)).values.map { Double($0) }
      let quantizer = keyQuantizer
      return try queryHeads.indices.map { h in
        try KVAttentionExperiment.compare(exact[h], tokens: tokens, dimension: d, values: decoded) { i in
          try quantizer.estimateInnerProducts(quantizer.prepare(query: queries[h][row: i]), codes: keyCodes).map { Double($0) }
        }
      }
    }
    return (lowRank, alone)
  }

  // MARK: Rows, table, plots

  /// Fidelity, reset and rank summaries of one stream over every (layer, head).
  struct StreamSummary {
    var bitsPerCoordinate: Double
    var lowRankRatio: Double
    var meanFidelity: Double
    var minFidelity: Double
    var meanStoredFidelity: Double
    var resets: Int
    var refreshes: Int
    var versions: Int
    var meanRank: Double
    var maxRank: Int
    var blocks: Int

    init(_ stats: [StreamStats]) {
      var bits = 0, original = 0, lowRankValues = 0
      let records = stats.flatMap(\.records)
      for s in stats {
        bits += s.memory.coefficientBits + s.memory.residualBits + s.memory.basisBits
        original += s.memory.originalValues
        lowRankValues += s.memory.coefficientValues + s.memory.basisValues
      }
      bitsPerCoordinate = Double(bits) / Double(original)
      lowRankRatio = Double(lowRankValues) / Double(original)
      let n = Double(records.count)
      meanFidelity = records.reduce(0) { $0 + $1.fidelity } / n
      minFidelity = records.reduce(Double.infinity) { min($0, $1.fidelity) }
      meanStoredFidelity = records.reduce(0) { $0 + $1.storedFidelity } / n
      resets = records.reduce(0) { $0 + ($1.event == .reset ? 1 : 0) }
      refreshes = records.reduce(0) { $0 + ($1.event == .refreshed ? 1 : 0) }
      versions = stats.reduce(0) { $0 + $1.versions }
      meanRank = records.reduce(0) { $0 + Double($1.rank) } / n
      maxRank = records.reduce(0) { max($0, $1.rank) }
      blocks = records.count
    }
  }

  struct Row {
    var method: String
    var quantizer: String
    var blockRows: Int?
    var energy: Double?
    var keys: StreamSummary?
    var values: StreamSummary?
    var keyBits: Double
    var valueBits: Double
    var attention: KVAttentionExperiment.AttentionFidelity
    /// The lowest output error of turbo-mse alone among its bit widths that cost at most this row's bits
    /// per coordinate (nil when even its fewest bits cost more).
    var turboAloneAtMostBits: Double?
    var layers: Int, kvHeads: Int, queryHeads: Int, tokens: Int

    var bitsPerCoordinate: Double { (keyBits + valueBits) / 2 }

    init(
      configuration c: Configuration, outcomes: [UnitOutcome], cache: KVCache, tokens: Int,
      turboAlone: [(bits: Double, error: Double)]
    ) {
      method = c.coefficientSpec == nil ? "low-rank" : "low-rank + Z quantizer"
      quantizer = c.coefficientSpec ?? "none (float32 Z)"
      blockRows = c.blockRows
      energy = c.energy
      let k = StreamSummary(outcomes.map(\.keys)), v = StreamSummary(outcomes.map(\.values))
      keys = k
      values = v
      keyBits = k.bitsPerCoordinate
      valueBits = v.bitsPerCoordinate
      attention = Self.mean(outcomes.flatMap(\.heads))
      layers = cache.layers
      kvHeads = cache.kvHeads
      queryHeads = cache.queryHeads
      self.tokens = tokens
      let bits = (k.bitsPerCoordinate + v.bitsPerCoordinate) / 2
      turboAloneAtMostBits = turboAlone.filter { $0.bits <= bits }.map(\.error).min()
    }

    init(baseline spec: String, bits: Double, heads: [KVAttentionExperiment.AttentionFidelity], cache: KVCache, tokens: Int) {
      method = "quantizer alone"
      quantizer = spec
      keyBits = bits
      valueBits = bits
      attention = Self.mean(heads)
      layers = cache.layers
      kvHeads = cache.kvHeads
      queryHeads = cache.queryHeads
      self.tokens = tokens
    }

    static func mean(_ heads: [KVAttentionExperiment.AttentionFidelity]) -> KVAttentionExperiment.AttentionFidelity {
      let n = Double(heads.count)
      return KVAttentionExperiment.AttentionFidelity(
        totalVariation: heads.reduce(0) { $0 + $1.totalVariation } / n,
        top8Overlap: heads.reduce(0) { $0 + $1.top8Overlap } / n,
        outputRelativeError: heads.reduce(0) { $0 + $1.outputRelativeError } / n)
    }

    var json: JSONValue {
      func opt(_ x: Double?) -> JSONValue { x.map { .double($0) } ?? .null }
      func opt(_ x: Int?) -> JSONValue { x.map { .int($0) } ?? .null }
      return .object([
        ("method", .string(method)), ("quantizer", .string(quantizer)), ("block_rows", opt(blockRows)),
        ("eta", opt(energy)), ("layers", .int(layers)), ("kv_heads", .int(kvHeads)), ("query_heads", .int(queryHeads)),
        ("tokens", .int(tokens)), ("queries_per_head", .int(tokens - LowRankExperiment.skippedQueries)),
        ("bits_per_coordinate", .double(bitsPerCoordinate)), ("memory_ratio", .double(bitsPerCoordinate / 32)),
        ("key_bits_per_coordinate", .double(keyBits)), ("value_bits_per_coordinate", .double(valueBits)),
        ("key_low_rank_ratio", opt(keys?.lowRankRatio)), ("value_low_rank_ratio", opt(values?.lowRankRatio)),
        ("key_fidelity_mean", opt(keys?.meanFidelity)), ("key_fidelity_min", opt(keys?.minFidelity)),
        ("value_fidelity_mean", opt(values?.meanFidelity)), ("value_fidelity_min", opt(values?.minFidelity)),
        ("key_stored_fidelity_mean", opt(keys?.meanStoredFidelity)),
        ("value_stored_fidelity_mean", opt(values?.meanStoredFidelity)),
        ("key_blocks", opt(keys?.blocks)), ("value_blocks", opt(values?.blocks)),
        ("key_resets", opt(keys?.resets)), ("value_resets", opt(values?.resets)),
        ("key_refreshes", opt(keys?.refreshes)), ("value_refreshes", opt(values?.refreshes)),
        ("key_versions", opt(keys?.versions)), ("value_versions", opt(values?.versions)),
        ("key_rank_mean", opt(keys?.meanRank)), ("key_rank_max", opt(keys?.maxRank)),
        ("value_rank_mean", opt(values?.meanRank)), ("value_rank_max", opt(values?.maxRank)),
        ("attention_output_rel_error", .double(attention.outputRelativeError)),
        ("attention_tv", .double(attention.totalVariation)), ("top8_overlap", .double(attention.top8Overlap)),
        ("turbo_mse_alone_best_output_rel_error_at_most_bits", opt(turboAloneAtMostBits)),
      ])
    }
  }

  static func section(_ rows: [Row], cache: KVCache, tokens: Int, plan: Plan) -> ExperimentSection {
    func f(_ x: Double?, _ digits: Int = 3) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? "–" }
    func g(_ x: Double?) -> String { x.map { String(format: "%.3g", $0) } ?? "–" }
    func i(_ x: Int?) -> String { x.map(String.init) ?? "–" }
    let header = ["method", "Z / quantizer", "B", "η", "bits/coord", "ratio", "K f mean", "K f min", "V f mean", "V f min",
                  "K resets", "V resets", "K rank", "V rank", "out err", "TV", "top-8", "alone≤bits"]
    let body = rows.map { r in
      [r.method, r.quantizer, i(r.blockRows), r.energy.map { String($0) } ?? "–", f(r.bitsPerCoordinate, 2),
       f(r.bitsPerCoordinate / 32), f(r.keys?.meanFidelity, 4), f(r.keys?.minFidelity, 4), f(r.values?.meanFidelity, 4),
       f(r.values?.minFidelity, 4), i(r.keys?.resets), i(r.values?.resets), f(r.keys?.meanRank, 1),
       f(r.values?.meanRank, 1), g(r.attention.outputRelativeError), g(r.attention.totalVariation),
       f(r.attention.top8Overlap), g(r.turboAloneAtMostBits)]
    }
    let widths = header.indices.map { c in max(header[c].count, body.map { $0[c].count }.max() ?? 0) }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { c, s in
        c < 2 ? s.padding(toLength: widths[c], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[c] - s.count) + s
      }.joined(separator: "  ")
    }
    let queriesPerHead = tokens - skippedQueries
    let blocks = Set(plan.lowRank.map(\.blockRows)).sorted().map { "B = \($0): \((tokens + $0 - 1) / $0) blocks" }
    var table = "\(cache.layers) layers × \(cache.kvHeads) KV heads × \(tokens) tokens × d = \(cache.headDimension) "
      + "(keys and values, \(blocks.joined(separator: ", ")) per head and stream); attention over "
      + "\(cache.layers * cache.queryHeads) (layer, query head) pairs × \(queriesPerHead) causal queries\n"
    table += line(header) + "\n" + body.map(line).joined(separator: "\n") + "\n"

    // How often the stream kept or refreshed its basis, per (B, η), from the float32-Z rows.
    let resetSummary = rows.filter { $0.method == "low-rank" }.map { r -> String in
      let k = r.keys!, v = r.values!
      let heads = cache.layers * cache.kvHeads
      return "B=\(r.blockRows!) η=\(r.energy!): keys \(k.resets)/\(k.blocks - heads), values \(v.resets)/\(v.blocks - heads)"
    }.joined(separator: "; ")
    let compared = rows.filter { $0.turboAloneAtMostBits != nil }
    let beaten = compared.filter { $0.attention.outputRelativeError > $0.turboAloneAtMostBits! }
    let beatenSummary = "Here turbo-mse alone has the lower output error at equal or fewer bits for "
      + "\(beaten.count) of the \(compared.count) low-rank rows."
    let notes = [
      "Tracker: our implementable reading of LASER (Çakar, Raghu, Zheng, arXiv:2604.17224; abstract only): thin SVD of "
        + "the first block with the energy rule Σ_{i≤k}σ² ≥ η·Σσ²; per block Z = X·Q and fidelity f = 1 − ‖X − ZQᵀ‖²/‖X‖²; "
        + "f ≥ η keeps the frozen basis version; otherwise the basis tracked by 2 orthogonal iterations per block "
        + "(forgetting β = 0.5) becomes a new version when it reaches η, else a reset re-runs the SVD on the block. Every "
        + "stored block has f ≥ η by construction (K/V f min ≥ η in the table).",
      "Resets among the blocks after each stream's first: \(resetSummary). A reset means neither the previous basis "
        + "nor the tracked one kept η of the new block's energy: the block had to bring its own SVD basis (D·k more "
        + "values), so the memory is then k/D + k/B per block, not k/D.",
      "Bits per original coordinate count everything stored, averaged over keys and values: coefficients at 32 bits "
        + "(or their codes with side values), every basis version D·k at 32 bits; ratio = bits/32 against the float32 "
        + "cache. Quantizer-alone rows quantize each full \(cache.headDimension)-d key and value as KVAttentionExperiment "
        + "does (logits from the quantizer's estimator, decoded values), through the same attention comparison as the "
        + "main table's KV criterion. 'alone≤bits' is the lowest output error of "
        + "turbo-mse alone at any of its bit widths costing at most the row's bits per coordinate: a row beats the "
        + "quantizer alone at equal memory only when its 'out err' is below that. \(beatenSummary) Quantizers on Z use rotation=haar: a dense k×k rotation, so k is not "
        + "padded to a power of two (each basis version has its own quantizer of dimension k).",
      "Every block is compressed, the last (open) block too; a cache that kept the open block in float32 would do "
        + "better. Logits of the compressed keys are computed as a compressed cache would: the query projected once per "
        + "basis version (Q_vᵀq), then dotted with the coefficients or passed to the coefficient quantizer's estimator. "
        + "Attention measures as KVAttentionExperiment: mean over queries i ≥ \(skippedQueries) of ‖o − ô‖/‖o‖ (out err), "
        + "½Σ|p − p̂| (TV) and the top-8 overlap, then over (layer, query head) pairs.",
    ]

    func series(_ name: String, _ members: [Row], color: String, dash: String? = nil, y: (Row) -> Double) -> SVGPlot.Series {
      SVGPlot.Series(
        name: name, color: color, points: members.map { (x: $0.bitsPerCoordinate, y: y($0)) }.sorted { $0.x < $1.x }, dash: dash)
    }
    let palette = HTMLReport.palette
    var groups: [(String, [Row])] = []
    for r in rows {
      let name: String
      switch r.method {
      case "quantizer alone": name = "\(r.quantizer.split(separator: ":")[0]) alone"
      case "low-rank": name = "low-rank B=\(r.blockRows ?? 0), float32 Z"
      default: name = "low-rank B=\(r.blockRows ?? 0) + \(r.quantizer) on Z"
      }
      if let at = groups.firstIndex(where: { $0.0 == name }) { groups[at].1.append(r) } else { groups.append((name, [r])) }
    }
    func plot(id: String, title: String, yLabel: String, y: @escaping (Row) -> Double) -> SVGPlot {
      var p = SVGPlot(id: id, title: title, xLabel: "bits per original coordinate (keys and values)", yLabel: yLabel)
      p.xLog = true
      p.yLog = true
      p.series = groups.enumerated().map { n, group in
        series(group.0, group.1, color: palette[n % palette.count], dash: group.1[0].method == "quantizer alone" ? "6 3" : nil, y: y)
      }
      return p
    }
    let plots = [
      plot(id: "lowrank-output-error", title: "Attention output error vs memory (\(tokens) tokens)",
           yLabel: "‖o − ô‖/‖o‖", y: { $0.attention.outputRelativeError }),
      plot(id: "lowrank-tv", title: "Attention weights' total variation vs memory", yLabel: "TV(p, p̂)",
           y: { $0.attention.totalVariation }),
    ]
    return ExperimentSection(
      key: "lowrank", title: "Low-rank KV streams (LASER-style tracker): memory vs attention fidelity",
      rows: rows.map(\.json), table: table, notes: notes, plots: plots)
  }
}
