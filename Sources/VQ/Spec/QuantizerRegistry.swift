/// A quantization method as the registry knows it: its spec name, its keys, and how to build it.
public struct QuantizerMethod: Sendable {
  public let name: String
  /// One line for `vq specs`.
  public let summary: String
  /// The family (`product format`, `rotation + scalar`, ...), for grouping in listings and reports.
  public let family: String
  public let parameters: [SpecParameter]
  /// Cross-key checks beyond each key's range (runs after parsing).
  public let validate: (@Sendable (QuantizerSpec) throws -> Void)?
  /// Builds the quantizer for vectors of `dimension` coordinates.
  public let make: @Sendable (_ spec: QuantizerSpec, _ dimension: Int) throws -> any VectorQuantizer

  public init(
    name: String, summary: String, family: String, parameters: [SpecParameter] = [],
    validate: (@Sendable (QuantizerSpec) throws -> Void)? = nil,
    make: @escaping @Sendable (QuantizerSpec, Int) throws -> any VectorQuantizer
  ) {
    self.name = name
    self.summary = summary
    self.family = family
    self.parameters = parameters
    self.validate = validate
    self.make = make
  }

  /// The bit widths the method supports (its `bits` key's range), or `nil` if it has no `bits` key.
  public var bitWidths: ClosedRange<Int>? {
    guard let p = parameters.first(where: { $0.key == "bits" }), case .integer(let r) = p.kind else { return nil }
    return r
  }

  /// One spec per supported bit width (or the single default spec for a method without `bits`).
  public func specsForEveryBitWidth(registry: QuantizerRegistry = .standard) -> [QuantizerSpec] {
    guard let widths = bitWidths else { return [try! QuantizerSpec(parsing: name, registry: registry)] }
    return widths.compactMap { try? QuantizerSpec(parsing: "\(name):bits=\($0)", registry: registry) }
  }
}

/// The methods swift-vq knows by name. `QuantizerRegistry.standard` holds every built-in method; each
/// method file contributes its `QuantizerMethod` to the list in `QuantizerRegistry+Standard.swift`.
public struct QuantizerRegistry: Sendable {
  public let methods: [QuantizerMethod]

  public init(methods: [QuantizerMethod]) {
    var seen = Set<String>()
    for m in methods { precondition(seen.insert(m.name).inserted, "method '\(m.name)' registered twice") }
    self.methods = methods
  }

  public func method(named name: String) -> QuantizerMethod? { methods.first { $0.name == name } }

  /// Builds the quantizer that `spec` names for vectors of `dimension` coordinates.
  public func makeQuantizer(_ spec: QuantizerSpec, dimension: Int) throws -> any VectorQuantizer {
    guard dimension > 0 else { throw VQError.invalidArgument("dimension must be positive, got \(dimension)") }
    guard let method = method(named: spec.name) else { throw VQError.invalidSpec("unknown quantizer '\(spec.name)'") }
    return try method.make(spec, dimension)
  }

  /// Parses `text` and builds the quantizer.
  public func makeQuantizer(_ text: String, dimension: Int) throws -> any VectorQuantizer {
    try makeQuantizer(QuantizerSpec(parsing: text, registry: self), dimension: dimension)
  }
}
