import VQ

/// Encode and scan speed on one thread.
public struct Speed: Sendable, Equatable {
  /// Vectors encoded per second (fit excluded).
  public var encodeVectorsPerSecond: Double
  /// Codes scored per second by `estimateInnerProducts` with a prepared query (preparation excluded).
  public var scanCodesPerSecond: Double

  public init(encodeVectorsPerSecond: Double, scanCodesPerSecond: Double) {
    self.encodeVectorsPerSecond = encodeVectorsPerSecond
    self.scanCodesPerSecond = scanCodesPerSecond
  }
}

/// Times the scan: queries are scored against every code, one after the other, until at least
/// `minimumSeconds` have passed or every query was used twice. Wall-clock numbers: they depend on the
/// machine and its load, and are never asserted on in tests.
enum SpeedExperiment {
  static let minimumSeconds = 0.02

  static func measure(
    quantizer: any VectorQuantizer, codes: CodeBuffer, queries: VectorBatch, encodeSeconds: Double
  ) throws -> Speed {
    let n = codes.count
    var out = [Float](repeating: 0, count: n)
    let prepared = try (0..<min(queries.count, 16)).map { qi in try queries.withRow(qi) { try quantizer.prepare(query: $0) } }
    var scanned = 0
    var elapsed = 0.0
    var round = 0
    while elapsed < minimumSeconds && round < 2 * max(1, queries.count) {
      let query = prepared[round % prepared.count]
      let start = ContinuousClock.now
      out.withUnsafeMutableBufferPointer { quantizer.estimateInnerProducts(query, codes: codes, range: 0..<n, into: $0) }
      elapsed += (ContinuousClock.now - start).seconds
      scanned += n
      round += 1
    }
    return Speed(
      encodeVectorsPerSecond: encodeSeconds > 0 ? Double(n) / encodeSeconds : .nan,
      scanCodesPerSecond: elapsed > 0 ? Double(scanned) / elapsed : .nan)
  }
}

extension Duration {
  /// The duration in seconds, as a Double.
  var seconds: Double {
    let (s, attoseconds) = components
    return Double(s) + Double(attoseconds) * 1e-18
  }
}
