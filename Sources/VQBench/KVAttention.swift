import Foundation
import VQ

/// How much quantizing a KV cache changes attention, per layer and query head.
public struct KVHeadResult: Sendable, Equatable {
  /// The model's layer number.
  public var layer: Int
  public var queryHead: Int
  public var kvHead: Int
  /// Mean over queries of ½·Σ_j |p_j − p̂_j|, p = softmax(q·Kᵀ/√d) under the causal mask, p̂ with the
  /// logits estimated from the key codes.
  public var totalVariation: Double
  /// Mean over queries of |top-8 of p ∩ top-8 of p̂| / 8.
  public var top8Overlap: Double
  /// Mean over queries of ‖o − ô‖/‖o‖, o = Σ p_j v_j, ô = Σ p̂_j v̂_j (keys and values both quantized).
  public var outputRelativeError: Double

  public var jsonValue: JSONValue {
    .object([
      ("layer", .int(layer)), ("q_head", .int(queryHead)), ("kv_head", .int(kvHead)),
      ("attention_tv", .double(totalVariation)), ("top8_overlap", .double(top8Overlap)),
      ("output_rel_error", .double(outputRelativeError)),
    ])
  }
}

/// The KV-cache results of one spec.
public struct KVResult: Sendable, Equatable {
  public var spec: String
  public var heads: [KVHeadResult]

  public var meanTotalVariation: Double { mean(\.totalVariation) }
  public var meanTop8Overlap: Double { mean(\.top8Overlap) }
  public var meanOutputRelativeError: Double { mean(\.outputRelativeError) }

  /// Mean total variation per layer, in layer order.
  public var totalVariationByLayer: [(layer: Int, value: Double)] {
    let layers = Array(Set(heads.map(\.layer))).sorted()
    return layers.map { l in
      let members = heads.filter { $0.layer == l }
      return (l, members.map(\.totalVariation).reduce(0, +) / Double(members.count))
    }
  }

  private func mean(_ key: KeyPath<KVHeadResult, Double>) -> Double {
    heads.isEmpty ? .nan : heads.map { $0[keyPath: key] }.reduce(0, +) / Double(heads.count)
  }

  public var jsonValue: JSONValue {
    .object([
      ("spec", .string(spec)), ("attention_tv", .double(meanTotalVariation)), ("top8_overlap", .double(meanTop8Overlap)),
      ("output_rel_error", .double(meanOutputRelativeError)), ("heads", .array(heads.map(\.jsonValue))),
    ])
  }
}

/// Quantizes the keys and values of every (layer, key/value head) of a cache with one spec (a
/// quantizer fitted on that head's keys, another on its values), then compares causal attention with
/// estimated logits (`estimateInnerProducts` on the key codes: what a quantized cache computes) and
/// decoded values against the float computation. Queries 0…7 are skipped (top-8 needs 8 keys).
public enum KVAttentionExperiment {
  public static let top = 8

  public static func measure(
    _ spec: QuantizerSpec, cache: KVCache, registry: QuantizerRegistry = .standard, threads: Int = BenchOptions.defaultThreads
  ) throws -> KVResult {
    let units = cache.layers * cache.kvHeads
    let parts = try Parallel.mapChunks(count: units, chunks: units, threads: threads) { range -> [KVHeadResult] in
      var out: [KVHeadResult] = []
      for unit in range {
        out += try measureUnit(spec, cache: cache, layer: unit / cache.kvHeads, kvHead: unit % cache.kvHeads, registry: registry)
      }
      return out
    }
    return KVResult(spec: spec.description, heads: parts.flatMap { $0 })
  }

  private static func measureUnit(
    _ spec: QuantizerSpec, cache: KVCache, layer: Int, kvHead: Int, registry: QuantizerRegistry
  ) throws -> [KVHeadResult] {
    let d = cache.headDimension, t = cache.tokens
    let keys = cache.keys(layer: layer, head: kvHead), values = cache.values(layer: layer, head: kvHead)
    var keyQuantizer = try registry.makeQuantizer(spec, dimension: d)
    try keyQuantizer.fit(keys)
    let keyCodes = try keyQuantizer.encode(keys)
    var valueQuantizer = try registry.makeQuantizer(spec, dimension: d)
    try valueQuantizer.fit(values)
    let decodedValues = try valueQuantizer.decode(valueQuantizer.encode(values)).values.map(Double.init)
    var results: [KVHeadResult] = []
    for h in 0..<cache.queryHeads where cache.kvHead(ofQueryHead: h) == kvHead {
      let queries = cache.queries(layer: layer, head: h)
      var estimated = [Float](repeating: 0, count: t)
      // Exact attention query by query (O(t) memory: caches may be long), against the quantized cache.
      let fidelity = try keys.values.withUnsafeBufferPointer { k in
        try compare(tokens: t, dimension: d, values: decodedValues, exact: { i, p, o in
          queries.withRow(i) { q in exactRow(query: q, keys: k, values: values.values, seen: i + 1, dimension: d, weights: &p, output: &o) }
        }, logits: { i in
          // What a quantized cache computes: the estimator on the key codes, not a decode.
          let prepared = try queries.withRow(i) { try keyQuantizer.prepare(query: $0) }
          estimated.withUnsafeMutableBufferPointer { out in
            keyQuantizer.estimateInnerProducts(prepared, codes: keyCodes, range: 0..<(i + 1), into: out)
          }
          return estimated[0...i].map(Double.init)
        })
      }
      results.append(KVHeadResult(
        layer: cache.layerNames[layer], queryHead: h, kvHead: kvHead, totalVariation: fidelity.totalVariation,
        top8Overlap: fidelity.top8Overlap, outputRelativeError: fidelity.outputRelativeError))
    }
    return results
  }

  /// Mean over queries i ≥ 8 of one query head.
  struct AttentionFidelity: Sendable, Equatable {
    var totalVariation: Double
    var top8Overlap: Double
    var outputRelativeError: Double
  }

  /// Causal attention of one query head in Double from the float cache, stored for reuse against many
  /// compressed caches (O(t²) memory: for short caches): for query i the weights p over keys 0…i
  /// (`offsets[i]` into `weights`) and the output o (`outputs[i·d…]`).
  struct ExactAttention: Sendable {
    var weights: [Double]
    var offsets: [Int]
    var outputs: [Double]

    /// Query i's weights into `p[0...i]` and output into `o[0..<d]`.
    func row(_ i: Int, weights p: inout [Double], output o: inout [Double]) {
      let seen = i + 1, d = o.count
      for j in 0..<seen { p[j] = weights[offsets[i] + j] }
      for c in 0..<d { o[c] = outputs[i * d + c] }
    }
  }

  static func exactAttention(cache: KVCache, tokens t: Int, layer: Int, queryHead: Int) -> ExactAttention {
    let d = cache.headDimension
    let kvHead = cache.kvHead(ofQueryHead: queryHead)
    let keys = cache.keys(layer: layer, head: kvHead).values, values = cache.values(layer: layer, head: kvHead).values
    let queries = cache.queries(layer: layer, head: queryHead)
    var offsets = [Int](repeating: 0, count: t + 1)
    for i in 0..<t { offsets[i + 1] = offsets[i] + i + 1 }
    var weights = [Double](repeating: 0, count: offsets[t])
    var outputs = [Double](repeating: 0, count: t * d)
    var p = [Double](repeating: 0, count: t), o = [Double](repeating: 0, count: d)
    keys.withUnsafeBufferPointer { k in
      for i in top..<t {
        queries.withRow(i) { q in exactRow(query: q, keys: k, values: values, seen: i + 1, dimension: d, weights: &p, output: &o) }
        for j in 0...i { weights[offsets[i] + j] = p[j] }
        for c in 0..<d { outputs[i * d + c] = o[c] }
      }
    }
    return ExactAttention(weights: weights, offsets: offsets, outputs: outputs)
  }

  /// One query's exact causal attention over keys 0..<seen: softmax(q·kᵀ/√d) into `weights[0..<seen]` and
  /// the output Σ_j p_j·v_j into `output[0..<d]`, in Double from the float cache.
  static func exactRow(
    query q: UnsafeBufferPointer<Float>, keys k: UnsafeBufferPointer<Float>, values: [Float], seen: Int, dimension d: Int,
    weights p: inout [Double], output o: inout [Double]
  ) {
    let scale = 1 / Double(d).squareRoot()
    for j in 0..<seen { p[j] = Evaluation.exactDot(q.baseAddress!, k.baseAddress! + j * d, count: d) * scale }
    softmax(&p, from: 0, count: seen)
    for c in 0..<d { o[c] = 0 }
    for j in 0..<seen {
      let row = j * d, w = p[j]
      for c in 0..<d { o[c] += w * Double(values[row + c]) }
    }
  }

  /// `compare` against stored exact attention.
  static func compare(
    _ exact: ExactAttention, tokens t: Int, dimension d: Int, values decoded: [Double], logits: (Int) throws -> [Double]
  ) rethrows -> AttentionFidelity {
    try compare(tokens: t, dimension: d, values: decoded, exact: { i, p, o in exact.row(i, weights: &p, output: &o) }, logits: logits)
  }

  /// Compares exact attention (`exact(i, &p, &o)`: query i's weights over keys 0…i and its output) with
  /// the attention computed from `logits(i)` (unscaled q·k̂ for keys 0…≥i) and decoded values (tokens × d,
  /// row-major), with this experiment's measures: total variation, top-8 overlap and relative output
  /// error, each the mean over queries i ≥ 8.
  static func compare(
    tokens t: Int, dimension d: Int, values decoded: [Double],
    exact: (Int, inout [Double], inout [Double]) -> Void, logits: (Int) throws -> [Double]
  ) rethrows -> AttentionFidelity {
    let scale = 1 / Double(d).squareRoot()
    var p = [Double](repeating: 0, count: t), o = [Double](repeating: 0, count: d)
    var pHat = [Double](repeating: 0, count: t), oHat = [Double](repeating: 0, count: d)
    var tv = 0.0, overlap = 0.0, outputError = 0.0
    for i in top..<t {
      let seen = i + 1
      exact(i, &p, &o)
      let l = try logits(i)
      for j in 0..<seen { pHat[j] = l[j] * scale }
      softmax(&pHat, from: 0, count: seen)
      var distance = 0.0
      for j in 0..<seen { distance += abs(p[j] - pHat[j]) }
      tv += distance / 2
      let trueTop = Set(TopK.largest(Array(p[0..<seen]), k: top))
      let hatTop = TopK.largest(Array(pHat[0..<seen]), k: top)
      overlap += Double(hatTop.filter(trueTop.contains).count) / Double(top)
      for c in 0..<d { oHat[c] = 0 }
      for j in 0..<seen {
        let row = j * d, w = pHat[j]
        for c in 0..<d { oHat[c] += w * decoded[row + c] }
      }
      var err = 0.0, norm = 0.0
      for c in 0..<d {
        err += (o[c] - oHat[c]) * (o[c] - oHat[c])
        norm += o[c] * o[c]
      }
      outputError += norm > 0 ? (err / norm).squareRoot() : 0
    }
    let q = Double(t - top)
    return AttentionFidelity(totalVariation: tv / q, top8Overlap: overlap / q, outputRelativeError: outputError / q)
  }

  /// In-place softmax of `x[from..<from+count]` (max subtracted first).
  static func softmax(_ x: inout [Double], from start: Int, count: Int) {
    var m = -Double.infinity
    for j in start..<(start + count) { m = max(m, x[j]) }
    var sum = 0.0
    for j in start..<(start + count) {
      x[j] = exp(x[j] - m)
      sum += x[j]
    }
    for j in start..<(start + count) { x[j] /= sum }
  }
}
