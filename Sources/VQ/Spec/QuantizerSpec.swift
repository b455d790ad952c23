/// One key a method accepts in its spec string, with its allowed values and default.
public struct SpecParameter: Sendable {
  public enum Kind: Sendable, Equatable {
    /// A whole number in a range (`bits=4`).
    case integer(ClosedRange<Int>)
    /// A real number in a range (`eps=1.9`).
    case real(ClosedRange<Double>)
    /// One word from a list (`scale=unbiased`).
    case choice([String])
    /// Any 64-bit unsigned integer (seeds).
    case unsigned
  }

  public let key: String
  public let kind: Kind
  public let defaultValue: String
  public let summary: String
  /// Shown in the canonical description even when it equals the default (e.g. `bits`).
  public let alwaysShown: Bool
  /// For an `.integer` key: also accept a real number strictly between 0 and 1 (EDEN's sub-bit
  /// `bits=0.5`), kept in canonical form `String(Double)`. Whole numbers are unaffected.
  public let acceptsFractionBelowOne: Bool

  public init(
    _ key: String, _ kind: Kind, default defaultValue: String, summary: String, alwaysShown: Bool = false,
    acceptsFractionBelowOne: Bool = false
  ) {
    self.key = key
    self.kind = kind
    self.defaultValue = defaultValue
    self.summary = summary
    self.alwaysShown = alwaysShown
    self.acceptsFractionBelowOne = acceptsFractionBelowOne
  }

  /// The allowed values in words, for help and error messages (`1...8`, `unbiased|biased`).
  public var allowedValues: String {
    switch kind {
    case .integer(let r):
      return (acceptsFractionBelowOne ? "0<x<1 or " : "") + "\(r.lowerBound)...\(r.upperBound)"
    case .real(let r): return "\(r.lowerBound)...\(r.upperBound)"
    case .choice(let words): return words.joined(separator: "|")
    case .unsigned: return "0...\(UInt64.max)"
    }
  }

  /// The canonical form of `raw`, or an error naming the method, key, value and allowed range.
  func normalize(_ raw: String, method: String) throws -> String {
    let bad = { (why: String) in
      VQError.invalidSpec("\(method): \(self.key)=\(raw) \(why) (allowed: \(self.allowedValues))")
    }
    switch kind {
    case .integer(let range):
      if acceptsFractionBelowOne, Int(raw) == nil, let f = Double(raw), f.isFinite {
        guard f > 0 && f < 1 else { throw bad("is neither a whole number in range nor a fraction strictly between 0 and 1") }
        return String(f)
      }
      guard let v = Int(raw) else { throw bad("is not a whole number") }
      guard range.contains(v) else { throw bad("is out of range") }
      return String(v)
    case .real(let range):
      guard let v = Double(raw), v.isFinite else { throw bad("is not a number") }
      guard range.contains(v) else { throw bad("is out of range") }
      return String(v)
    case .choice(let words):
      let w = raw.lowercased()
      guard words.contains(w) else { throw bad("is not one of the choices") }
      return w
    case .unsigned:
      guard let v = UInt64(raw) else { throw bad("is not an unsigned 64-bit integer") }
      return String(v)
    }
  }
}

/// A quantizer named by a spec string `NAME[:key=value,...]` (`eden:bits=2`, `int:bits=4`, `mxfp4`).
///
/// The same string works in the library, the CLI, the bench and the index file header. Parsing fills
/// in every default, so two specs are equal when they describe the same quantizer, and `description`
/// (the canonical string: defaults omitted except `alwaysShown` keys, keys in the method's order)
/// parses back to an equal spec.
public struct QuantizerSpec: Hashable, Sendable, CustomStringConvertible {
  /// The method name (`int`, `eden`, ...).
  public let name: String
  /// Every key of the method with its normalized value (defaults filled in).
  public let values: [String: String]
  /// The canonical string.
  public let description: String

  /// Parses `text` against the standard registry.
  public init(_ text: String) throws {
    try self.init(parsing: text, registry: .standard)
  }

  public init(parsing text: String, registry: QuantizerRegistry) throws {
    let trimmed = text.trimmingWhitespace()
    guard !trimmed.isEmpty else { throw VQError.invalidSpec("empty spec string") }
    let (namePart, rest) = trimmed.splitOnce(":")
    let name = namePart.lowercased()
    guard let method = registry.method(named: name) else {
      throw VQError.invalidSpec(
        "unknown quantizer '\(namePart)' (known: \(registry.methods.map(\.name).joined(separator: ", ")))")
    }
    var given: [String: String] = [:]
    if let rest {
      guard !rest.isEmpty else { throw VQError.invalidSpec("\(name): nothing after ':' in '\(text)'") }
      for token in rest.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
        let (rawKey, rawValue) = token.splitOnce("=")
        let key = rawKey.trimmingWhitespace().lowercased()
        guard let rawValue, !key.isEmpty else {
          throw VQError.invalidSpec("\(name): '\(token)' is not key=value")
        }
        guard let parameter = method.parameters.first(where: { $0.key == key }) else {
          let keys = method.parameters.map(\.key)
          throw VQError.invalidSpec(
            "\(name): unknown key '\(key)' (\(keys.isEmpty ? "this method takes no keys" : "keys: " + keys.joined(separator: ", ")))")
        }
        guard given[key] == nil else { throw VQError.invalidSpec("\(name): key '\(key)' given twice") }
        given[key] = try parameter.normalize(rawValue.trimmingWhitespace(), method: name)
      }
    }
    var values: [String: String] = [:]
    var shown: [String] = []
    for p in method.parameters {
      let v = given[p.key] ?? p.defaultValue
      values[p.key] = v
      if p.alwaysShown || v != p.defaultValue { shown.append("\(p.key)=\(v)") }
    }
    self.name = name
    self.values = values
    self.description = shown.isEmpty ? name : name + ":" + shown.joined(separator: ",")
    try method.validate?(self)
  }

  public static func == (a: QuantizerSpec, b: QuantizerSpec) -> Bool { a.name == b.name && a.values == b.values }
  public func hash(into h: inout Hasher) { h.combine(name); h.combine(values) }

  // MARK: Typed access (the key must exist for this method: parsing filled every default)

  public func string(_ key: String) -> String {
    guard let v = values[key] else { preconditionFailure("spec \(description) has no key '\(key)'") }
    return v
  }
  /// A whole-number key; a fraction (`bits=0.5`, see `acceptsFractionBelowOne`) reads as its floor.
  public func int(_ key: String) -> Int {
    let v = string(key)
    return Int(v) ?? Int(Double(v)!.rounded(.down))
  }
  public func double(_ key: String) -> Double { Double(string(key))! }
  public func uint64(_ key: String) -> UInt64 { UInt64(string(key))! }
  /// Whether this method has `key` at all.
  public func has(_ key: String) -> Bool { values[key] != nil }
}

extension String {
  func trimmingWhitespace() -> String {
    var s = Substring(self)
    while let c = s.first, c.isWhitespace { s.removeFirst() }
    while let c = s.last, c.isWhitespace { s.removeLast() }
    return String(s)
  }

  /// Splits at the first `separator`: (before, after) or (self, nil).
  func splitOnce(_ separator: Character) -> (String, String?) {
    guard let i = firstIndex(of: separator) else { return (self, nil) }
    return (String(self[..<i]), String(self[index(after: i)...]))
  }
}
