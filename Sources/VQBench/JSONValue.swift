/// A JSON value whose objects keep their keys in the order given, so reports read top-down (`spec`
/// first) and are byte-identical from run to run. (Foundation's encoder orders keys by hash or
/// alphabetically.) Non-finite numbers are written as `null`: JSON has no NaN or infinity.
public enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)
  case array([JSONValue])
  case object([(String, JSONValue)])

  public static func == (a: JSONValue, b: JSONValue) -> Bool { a.rendered() == b.rendered() }

  /// A string or `null`.
  public static func string(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }

  /// An object's key–value pairs in order; empty for any other value.
  public var members: [(String, JSONValue)] {
    if case .object(let members) = self { return members }
    return []
  }

  /// An object's member `key` (`nil` when absent or not an object): reading report rows back.
  public subscript(key: String) -> JSONValue? { members.first { $0.0 == key }?.1 }

  /// An `int` or `double` as a `Double`; `nil` for anything else.
  public var number: Double? {
    switch self {
    case .int(let i): return Double(i)
    case .double(let d): return d
    default: return nil
    }
  }

  /// The JSON text: one line, or indented by two spaces per level.
  public func rendered(pretty: Bool = false) -> String {
    var out = ""
    write(into: &out, pretty: pretty, indent: 0)
    return out
  }

  private func write(into out: inout String, pretty: Bool, indent: Int) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .double(let d):
      if !d.isFinite {
        out += "null"
      } else if d == d.rounded(), abs(d) < 1e15 {
        out += String(Int64(d))  // 1 rather than 1.0; the value is exact
      } else {
        out += String(d)  // shortest round-tripping form, e.g. 4.08e-13
      }
    case .string(let s): Self.writeString(s, into: &out)
    case .array(let items):
      guard !items.isEmpty else { out += "[]"; return }
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += "," }
        if pretty { out += "\n" + String(repeating: " ", count: 2 * (indent + 1)) }
        item.write(into: &out, pretty: pretty, indent: indent + 1)
      }
      if pretty { out += "\n" + String(repeating: " ", count: 2 * indent) }
      out += "]"
    case .object(let members):
      guard !members.isEmpty else { out += "{}"; return }
      out += "{"
      for (i, (key, value)) in members.enumerated() {
        if i > 0 { out += "," }
        if pretty { out += "\n" + String(repeating: " ", count: 2 * (indent + 1)) }
        Self.writeString(key, into: &out)
        out += pretty ? ": " : ":"
        value.write(into: &out, pretty: pretty, indent: indent + 1)
      }
      if pretty { out += "\n" + String(repeating: " ", count: 2 * indent) }
      out += "}"
    }
  }

  private static func writeString(_ s: String, into out: inout String) {
    out += "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    out += "\""
  }
}
