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
    let decodedValues = try valueQuantizer.decode(valueQuantizer.encode(values)).values
    let keyValues = keys.values, valueValues = values.values
    let scale = 1 / Double(d).squareRoot()
    var results: [KVHeadResult] = []
    for h in 0..<cache.queryHeads where cache.kvHead(ofQueryHead: h) == kvHead {
      let queries = cache.queries(layer: layer, head: h)
      var estimated = [Float](repeating: 0, count: t)
      var p = [Double](repeating: 0, count: t), pHat = [Double](repeating: 0, count: t)
      var o = [Double](repeating: 0, count: d), oHat = [Double](repeating: 0, count: d)
      var tv = 0.0, overlap = 0.0, outputError = 0.0
      for i in top..<t {
        let seen = i + 1
        let prepared = try queries.withRow(i) { try keyQuantizer.prepare(query: $0) }
        estimated.withUnsafeMutableBufferPointer { out in
          keyQuantizer.estimateInnerProducts(prepared, codes: keyCodes, range: 0..<seen, into: out)
        }
        queries.withRow(i) { q in
          keyValues.withUnsafeBufferPointer { k in
            for j in 0..<seen { p[j] = Evaluation.exactDot(q.baseAddress!, k.baseAddress! + j * d, count: d) * scale }
          }
        }
        for j in 0..<seen { pHat[j] = Double(estimated[j]) * scale }
        softmax(&p, count: seen)
        softmax(&pHat, count: seen)
        var distance = 0.0
        for j in 0..<seen { distance += abs(p[j] - pHat[j]) }
        tv += distance / 2
        let trueTop = Set(TopK.largest(Array(p[0..<seen]), k: top))
        let hatTop = TopK.largest(Array(pHat[0..<seen]), k: top)
        overlap += Double(hatTop.filter(trueTop.contains).count) / Double(top)
        for c in 0..<d { o[c] = 0; oHat[c] = 0 }
        for j in 0..<seen {
          let row = j * d
          for c in 0..<d {
            o[c] += p[j] * Double(valueValues[row + c])
            oHat[c] += pHat[j] * Double(decodedValues[row + c])
          }
        }
        var err = 0.0, norm = 0.0
        for c in 0..<d {
          err += (o[c] - oHat[c]) * (o[c] - oHat[c])
          norm += o[c] * o[c]
        }
        outputError += norm > 0 ? (err / norm).squareRoot() : 0
      }
      let q = Double(t - top)
      results.append(KVHeadResult(
        layer: cache.layerNames[layer], queryHead: h, kvHead: kvHead, totalVariation: tv / q, top8Overlap: overlap / q,
        outputRelativeError: outputError / q))
    }
    return results
  }

  /// In-place softmax of the first `count` logits (max subtracted first).
  private static func softmax(_ x: inout [Double], count: Int) {
    var m = -Double.infinity
    for j in 0..<count { m = max(m, x[j]) }
    var sum = 0.0
    for j in 0..<count {
      x[j] = exp(x[j] - m)
      sum += x[j]
    }
    for j in 0..<count { x[j] /= sum }
  }
}
