import VQ

/// The metrics of one quantizer on one data set (DESIGN.md §6). Its JSON object has exactly the keys
/// `spec`, `dimension`, `count` and the metric names, in that order (`jsonValue`); a non-finite value is
/// `null` (read back as NaN).
public struct EvaluationResult: Sendable, Equatable, Decodable {
  /// Canonical spec string.
  public var spec: String
  public var dimension: Int
  /// Number of base vectors encoded.
  public var count: Int
  /// Mean ‖x̂ − x‖² / ‖x‖².
  public var nmse: Double
  /// Mean 1 − cos(x, x̂).
  public var cosineLoss: Double
  /// 99th percentile of the angle between x and x̂, in degrees.
  public var angleP99Degrees: Double
  /// Mean of estimated − true inner product over all (query, base) pairs.
  public var ipBias: Double
  /// Standard error of `ipBias`, clustered by base vector.
  public var ipBiasStandardError: Double
  /// d × variance of estimated − true inner product.
  public var ipVarianceTimesDimension: Double
  /// Fraction of the true top-10 found in the top-10 by estimated inner product (exact scan over codes).
  public var recallAt10: Double
  /// Recall@10 after re-ranking the top r·10 by estimate with exact inner products, r = 1, 2, 4, 10.
  public var recallAt10Rerank: RerankRecall
  /// Bytes stored per vector, side data included.
  public var bytesPerVector: Int
  /// Bits per input coordinate, side data included.
  public var bitsPerCoordinate: Double

  public init(
    spec: String, dimension: Int, count: Int, nmse: Double, cosineLoss: Double, angleP99Degrees: Double,
    ipBias: Double, ipBiasStandardError: Double, ipVarianceTimesDimension: Double, recallAt10: Double,
    recallAt10Rerank: RerankRecall, bytesPerVector: Int, bitsPerCoordinate: Double
  ) {
    self.spec = spec
    self.dimension = dimension
    self.count = count
    self.nmse = nmse
    self.cosineLoss = cosineLoss
    self.angleP99Degrees = angleP99Degrees
    self.ipBias = ipBias
    self.ipBiasStandardError = ipBiasStandardError
    self.ipVarianceTimesDimension = ipVarianceTimesDimension
    self.recallAt10 = recallAt10
    self.recallAt10Rerank = recallAt10Rerank
    self.bytesPerVector = bytesPerVector
    self.bitsPerCoordinate = bitsPerCoordinate
  }

  public enum CodingKeys: String, CodingKey, CaseIterable {
    case spec, dimension, count, nmse
    case cosineLoss = "cosine_loss"
    case angleP99Degrees = "angle_p99_deg"
    case ipBias = "ip_bias"
    case ipBiasStandardError = "ip_bias_se"
    case ipVarianceTimesDimension = "ip_var_d"
    case recallAt10 = "recall_at_10"
    case recallAt10Rerank = "recall_at_10_rerank"
    case bytesPerVector = "bytes_per_vector"
    case bitsPerCoordinate = "bits_per_coordinate"
  }

  /// The JSON keys, in output order.
  public static var jsonKeys: [String] { CodingKeys.allCases.map(\.rawValue) }

  /// The JSON object: `spec`, `dimension`, `count`, then the metrics.
  public var jsonValue: JSONValue {
    .object([
      ("spec", .string(spec)),
      ("dimension", .int(dimension)),
      ("count", .int(count)),
      ("nmse", .double(nmse)),
      ("cosine_loss", .double(cosineLoss)),
      ("angle_p99_deg", .double(angleP99Degrees)),
      ("ip_bias", .double(ipBias)),
      ("ip_bias_se", .double(ipBiasStandardError)),
      ("ip_var_d", .double(ipVarianceTimesDimension)),
      ("recall_at_10", .double(recallAt10)),
      ("recall_at_10_rerank", recallAt10Rerank.jsonValue),
      ("bytes_per_vector", .int(bytesPerVector)),
      ("bits_per_coordinate", .double(bitsPerCoordinate)),
    ])
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    spec = try c.decode(String.self, forKey: .spec)
    dimension = try c.decode(Int.self, forKey: .dimension)
    count = try c.decode(Int.self, forKey: .count)
    nmse = try c.decodeOrNaN(forKey: .nmse)
    cosineLoss = try c.decodeOrNaN(forKey: .cosineLoss)
    angleP99Degrees = try c.decodeOrNaN(forKey: .angleP99Degrees)
    ipBias = try c.decodeOrNaN(forKey: .ipBias)
    ipBiasStandardError = try c.decodeOrNaN(forKey: .ipBiasStandardError)
    ipVarianceTimesDimension = try c.decodeOrNaN(forKey: .ipVarianceTimesDimension)
    recallAt10 = try c.decodeOrNaN(forKey: .recallAt10)
    recallAt10Rerank = try c.decode(RerankRecall.self, forKey: .recallAt10Rerank)
    bytesPerVector = try c.decode(Int.self, forKey: .bytesPerVector)
    bitsPerCoordinate = try c.decodeOrNaN(forKey: .bitsPerCoordinate)
  }

  /// One JSON object on one line.
  public func jsonString() -> String { jsonValue.rendered() }
}

/// Recall@10 after re-ranking r·10 candidates, keyed "1", "2", "4", "10" in JSON.
public struct RerankRecall: Sendable, Equatable, Decodable {
  public var r1: Double
  public var r2: Double
  public var r4: Double
  public var r10: Double

  public init(r1: Double, r2: Double, r4: Double, r10: Double) {
    self.r1 = r1
    self.r2 = r2
    self.r4 = r4
    self.r10 = r10
  }

  /// Values in the order of `Evaluation.rerankDepths` (1, 2, 4, 10).
  init(values: [Double]) {
    precondition(values.count == 4)
    self.init(r1: values[0], r2: values[1], r4: values[2], r10: values[3])
  }

  /// (depth r, recall) pairs in increasing r.
  public var byDepth: [(depth: Int, recall: Double)] { [(1, r1), (2, r2), (4, r4), (10, r10)] }

  enum CodingKeys: String, CodingKey {
    case r1 = "1", r2 = "2", r4 = "4", r10 = "10"
  }

  public var jsonValue: JSONValue {
    .object([("1", .double(r1)), ("2", .double(r2)), ("4", .double(r4)), ("10", .double(r10))])
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    r1 = try c.decodeOrNaN(forKey: .r1)
    r2 = try c.decodeOrNaN(forKey: .r2)
    r4 = try c.decodeOrNaN(forKey: .r4)
    r10 = try c.decodeOrNaN(forKey: .r10)
  }
}

extension KeyedDecodingContainer {
  func decodeOrNaN(forKey key: Key) throws -> Double { try decodeIfPresent(Double.self, forKey: key) ?? .nan }
}
