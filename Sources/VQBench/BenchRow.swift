import VQ

/// One spec's line in the bench: what was measured on the embeddings, the theory beside it, and the
/// KV-cache results.
public struct BenchRow: Sendable {
  public var spec: QuantizerSpec
  public var measurement: Measurement
  /// The notes' predictions for this spec on this data (empty where none is given).
  public var theory: [TheoryValue]
  /// Attention distortion on the KV cache (`nil` when not run or when the method failed there).
  public var kv: KVResult?
  /// Why the KV run failed, if it did (e.g. a method that needs more vectors than a head has).
  public var kvError: String?
  /// Wall-clock seconds the row took (embedding experiments and KV cache).
  public var seconds: Double = .nan

  public init(spec: QuantizerSpec, measurement: Measurement, theory: [TheoryValue], kv: KVResult? = nil, kvError: String? = nil) {
    self.spec = spec
    self.measurement = measurement
    self.theory = theory
    self.kv = kv
    self.kvError = kvError
  }

  public var result: EvaluationResult { measurement.result }

  /// The bit width the row competes at (`bits`, or the whole bits per coordinate of a fixed format).
  public var bitWidth: Int { TextReport.bitWidth(of: spec, result: result) }

  /// The method and its non-bits parameters: the line a row belongs to in the plots
  /// (`eden:bits=2,scale=biased` → `eden:scale=biased`).
  public var family: String { Self.family(of: spec) }

  static func family(of spec: QuantizerSpec) -> String {
    guard spec.has("bits") else { return spec.description }
    let text = spec.description
    guard let colon = text.firstIndex(of: ":") else { return text }
    let keys = text[text.index(after: colon)...].split(separator: ",").filter { !$0.hasPrefix("bits=") }
    return keys.isEmpty ? spec.name : spec.name + ":" + keys.joined(separator: ",")
  }

  /// The measured value of a metric a theory value is about.
  public func measured(_ metric: String) -> Double {
    switch metric {
    case "nmse": return result.nmse
    case "cosine_loss": return result.cosineLoss
    case "ip_bias": return result.ipBias
    case "ip_var_d": return result.ipVarianceTimesDimension
    default: return .nan
    }
  }

  /// Whether every prediction agrees with its measurement within the notes' tolerance.
  public var theoryAgrees: Bool {
    theory.allSatisfy { $0.agrees(measured($0.metric), standardError: result.ipBiasStandardError) }
  }

  /// The `vq eval` keys of `EvaluationResult` (unchanged, in order), then the bench's own.
  public var jsonValue: JSONValue {
    guard case .object(var members) = result.jsonValue else { return result.jsonValue }
    members.append(("bit_width", .int(bitWidth)))
    members.append(("family", .string(family)))
    members.append(("ip_err_p99_sqrt_d", .double(measurement.tail.p99)))
    members.append(("ip_err_p999_sqrt_d", .double(measurement.tail.p999)))
    members.append(("encode_vectors_per_s", .double(measurement.speed?.encodeVectorsPerSecond ?? .nan)))
    members.append(("scan_codes_per_s", .double(measurement.speed?.scanCodesPerSecond ?? .nan)))
    members.append(("working_dimension", .int(measurement.workingDimension)))
    members.append(("seconds", .double(seconds)))
    members.append(("theory", .object(theory.map { t in
      let m = measured(t.metric)
      return (t.metric, .object([
        ("measured", .double(m)), ("predicted", .double(t.predicted)), ("ratio", .double(t.ratio(m) ?? .nan)),
        ("tolerance", .double(t.tolerance)), ("agrees", .bool(t.agrees(m, standardError: result.ipBiasStandardError))),
        ("source", .string(t.source)),
      ]))
    })))
    members.append(("kv", kv.map { kv in
      .object([("attention_tv", .double(kv.meanTotalVariation)), ("top8_overlap", .double(kv.meanTop8Overlap)),
               ("output_rel_error", .double(kv.meanOutputRelativeError))])
    } ?? (kvError.map { .object([("error", .string($0))]) } ?? .null)))
    return .object(members)
  }
}

/// A spec the bench did not measure, and why.
public struct SkippedSpec: Sendable, Equatable {
  public var spec: String
  public var reason: String

  public init(spec: String, reason: String) {
    self.spec = spec
    self.reason = reason
  }

  public var jsonValue: JSONValue { .object([("spec", .string(spec)), ("reason", .string(reason))]) }
}
