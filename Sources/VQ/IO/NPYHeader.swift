/// The preamble and header of a NumPy `.npy` file (format versions 1.0, 2.0 and 3.0).
///
/// Layout: the magic `\x93NUMPY`, a major and a minor version byte, the header length (uint16
/// little-endian in 1.0, uint32 in 2.0 and 3.0), then the header: a Python dict literal with exactly
/// the keys `'descr'` (the dtype string, e.g. `'<f4'`), `'fortran_order'` (a bool) and `'shape'`
/// (a tuple of ints), padded with spaces and ended by a newline so the data starts 64-byte aligned.
/// The header is Latin-1 in 1.0 and 2.0, UTF-8 in 3.0. The data follows immediately.
struct NPYHeader {
  /// The dtype: a simple type string such as `'<f4'`, or the text of a structured (record) dtype.
  enum DType {
    case simple(String)
    case structured(String)
  }

  var major: UInt8
  var minor: UInt8
  var dtype: DType
  var fortranOrder: Bool
  var shape: [Int]
  /// Byte offset of the first data byte.
  var dataOffset: Int

  static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

  /// Parses the preamble and header at the start of `bytes` (the file, or at least its beginning).
  /// Every malformation is a `VQError.corrupt` naming `path` and what is wrong.
  static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> NPYHeader {
    func corrupt(_ detail: String) -> VQError { .corrupt(path: path, detail: detail) }
    let prefix = Array(bytes.prefix(magic.count))
    guard prefix == magic else {
      if prefix.count < magic.count && prefix == Array(magic.prefix(prefix.count)) {
        throw corrupt("the file ends inside the npy magic (\(bytes.count) bytes)")
      }
      let seen = prefix.map { String($0, radix: 16, uppercase: true) }.joined(separator: " ")
      throw corrupt("not an npy file: bad magic (expected 93 4E 55 4D 50 59 = \\x93NUMPY, found \(seen))")
    }
    guard bytes.count >= 8 else { throw corrupt("the file ends inside the npy version (\(bytes.count) bytes)") }
    let major = bytes[6], minor = bytes[7]
    let lengthFieldSize: Int
    switch (major, minor) {
    case (1, 0): lengthFieldSize = 2
    case (2, 0), (3, 0): lengthFieldSize = 4
    default: throw corrupt("unsupported npy format version \(major).\(minor) (supported: 1.0, 2.0, 3.0)")
    }
    let headerStart = 8 + lengthFieldSize
    guard bytes.count >= headerStart else {
      throw corrupt("the file ends inside the npy header length (\(bytes.count) bytes)")
    }
    var headerLength = 0
    for k in 0..<lengthFieldSize { headerLength |= Int(bytes[8 + k]) << (8 * k) }
    guard bytes.count >= headerStart + headerLength else {
      throw corrupt("the npy header claims \(headerLength) bytes, but the file ends \(bytes.count - headerStart) bytes after its start")
    }
    let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[headerStart..<(headerStart + headerLength)])
    let scalars: [Unicode.Scalar]
    if major == 3 {
      guard let text = String(validating: headerBytes, as: UTF8.self) else {
        throw corrupt("the npy 3.0 header is not valid UTF-8")
      }
      scalars = Array(text.unicodeScalars)
    } else {
      scalars = headerBytes.map { Unicode.Scalar($0) }  // Latin-1
    }

    var parser = PythonLiteralParser(scalars)
    let literal: PythonLiteral
    do { literal = try parser.parseWhole() } catch {
      throw corrupt("malformed npy header: \(error.message) at header character \(error.position) in \(quoted(scalars))")
    }
    guard case .dict(let entries) = literal else {
      throw corrupt("the npy header is not a dictionary: \(literal.pythonText)")
    }
    var descr: PythonLiteral?, fortran: PythonLiteral?, shapeLiteral: PythonLiteral?
    for (key, value) in entries {
      guard case .string(let name) = key else {
        throw corrupt("the npy header has a non-string key \(key.pythonText)")
      }
      switch name {
      case "descr": descr = value
      case "fortran_order": fortran = value
      case "shape": shapeLiteral = value
      default: throw corrupt("the npy header has an unexpected key '\(name)' (expected 'descr', 'fortran_order', 'shape')")
      }
    }
    guard let descr else { throw corrupt("the npy header lacks the key 'descr'") }
    guard let fortran else { throw corrupt("the npy header lacks the key 'fortran_order'") }
    guard let shapeLiteral else { throw corrupt("the npy header lacks the key 'shape'") }

    let dtype: DType
    switch descr {
    case .string(let s): dtype = .simple(s)
    case .list, .tuple: dtype = .structured(descr.pythonText)
    default: throw corrupt("the npy 'descr' \(descr.pythonText) is not a dtype string")
    }
    guard case .boolean(let fortranOrder) = fortran else {
      throw corrupt("the npy 'fortran_order' \(fortran.pythonText) is not True or False")
    }
    guard case .tuple(let dimensions) = shapeLiteral else {
      throw corrupt("the npy 'shape' \(shapeLiteral.pythonText) is not a tuple")
    }
    var shape: [Int] = []
    for d in dimensions {
      guard case .integer(let n) = d, n >= 0 else {
        throw corrupt("the npy 'shape' \(shapeLiteral.pythonText) holds \(d.pythonText), not a non-negative integer")
      }
      shape.append(n)
    }
    return NPYHeader(major: major, minor: minor, dtype: dtype, fortranOrder: fortranOrder, shape: shape,
                     dataOffset: headerStart + headerLength)
  }

  /// The complete preamble and header of a C-order array of `descr` and `shape`: version 1.0 when
  /// the header fits its 16-bit length (always, for 2-D shapes), 2.0 otherwise; padded with spaces
  /// and a newline so the data starts at a multiple of 64 bytes, as NumPy writes it.
  static func encode(descr: String, shape: [Int]) -> [UInt8] {
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    let dict = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
    for (major, lengthFieldSize) in [(UInt8(1), 2), (UInt8(2), 4)] {
      let unpadded = magic.count + 2 + lengthFieldSize + dict.count + 1
      let padding = (64 - unpadded % 64) % 64
      let headerLength = dict.count + padding + 1
      if lengthFieldSize == 2 && headerLength > Int(UInt16.max) { continue }
      var out = magic + [major, 0]
      for k in 0..<lengthFieldSize { out.append(UInt8(truncatingIfNeeded: headerLength >> (8 * k))) }
      out += dict
      out += [UInt8](repeating: 0x20, count: padding)
      out.append(0x0A)
      return out
    }
    preconditionFailure("unreachable: a 2.0 header length always fits 32 bits here")
  }

  /// The header text for an error message, shortened.
  private static func quoted(_ scalars: [Unicode.Scalar]) -> String {
    var text = String(String.UnicodeScalarView(scalars.prefix(120)))
    text = text.trimmingTrailingWhitespace()
    return "\"" + text + (scalars.count > 120 ? "…" : "") + "\""
  }
}

extension String {
  fileprivate func trimmingTrailingWhitespace() -> String {
    var s = Substring(self)
    while let last = s.last, last.isWhitespace { s.removeLast() }
    return String(s)
  }
}

/// A Python literal, as far as `.npy` headers use them.
indirect enum PythonLiteral {
  case string(String)
  case integer(Int)
  case boolean(Bool)
  case none
  case tuple([PythonLiteral])
  case list([PythonLiteral])
  case dict([(key: PythonLiteral, value: PythonLiteral)])

  /// The literal written back in Python syntax (for error messages).
  var pythonText: String {
    switch self {
    case .string(let s): return "'" + s + "'"
    case .integer(let n): return String(n)
    case .boolean(let b): return b ? "True" : "False"
    case .none: return "None"
    case .tuple(let items):
      return items.count == 1 ? "(\(items[0].pythonText),)" : "(" + items.map(\.pythonText).joined(separator: ", ") + ")"
    case .list(let items): return "[" + items.map(\.pythonText).joined(separator: ", ") + "]"
    case .dict(let entries):
      return "{" + entries.map { "\($0.key.pythonText): \($0.value.pythonText)" }.joined(separator: ", ") + "}"
    }
  }
}

/// A recursive-descent parser for the Python literals of `.npy` headers: dicts, tuples, lists,
/// strings (single or double quotes, simple escapes, optional `u`/`b` prefix), integers (an old
/// `L` suffix allowed), `True`, `False`, `None`.
struct PythonLiteralParser {
  struct Failure: Error {
    let message: String
    let position: Int
  }

  private let text: [Unicode.Scalar]
  private var position = 0
  private static let maximumNesting = 16

  init(_ text: [Unicode.Scalar]) { self.text = text }

  /// One literal, with only whitespace around it.
  mutating func parseWhole() throws(Failure) -> PythonLiteral {
    let value = try parseValue(depth: 0)
    skipWhitespace()
    guard position == text.count else { throw fail("unexpected '\(text[position])' after the literal") }
    return value
  }

  private func fail(_ message: String) -> Failure { Failure(message: message, position: position) }

  private var current: Unicode.Scalar? { position < text.count ? text[position] : nil }

  private mutating func skipWhitespace() {
    while let c = current, c == " " || c == "\t" || c == "\n" || c == "\r" { position += 1 }
  }

  private mutating func parseValue(depth: Int) throws(Failure) -> PythonLiteral {
    guard depth < Self.maximumNesting else { throw fail("nesting deeper than \(Self.maximumNesting)") }
    skipWhitespace()
    guard let c = current else { throw fail("unexpected end") }
    switch c {
    case "{": return try parseDict(depth: depth)
    case "(": return try parseTuple(depth: depth)
    case "[": return .list(try parseSequence(closing: "]", depth: depth).items)
    case "'", "\"": return .string(try parseString())
    case "-", "+", "0"..."9": return .integer(try parseInteger())
    default:
      guard c.properties.isAlphabetic || c == "_" else { throw fail("unexpected '\(c)'") }
      let start = position
      while let d = current, d.properties.isAlphabetic || d == "_" || ("0"..."9").contains(d) { position += 1 }
      let word = String(String.UnicodeScalarView(text[start..<position]))
      let isStringPrefix = word == "u" || word == "b" || word == "U" || word == "B"
      if isStringPrefix && (current == "'" || current == "\"") { return .string(try parseString()) }
      switch word {
      case "True": return .boolean(true)
      case "False": return .boolean(false)
      case "None": return .none
      default:
        position = start
        throw fail("unknown name '\(word)'")
      }
    }
  }

  private mutating func parseDict(depth: Int) throws(Failure) -> PythonLiteral {
    position += 1  // "{"
    var entries: [(key: PythonLiteral, value: PythonLiteral)] = []
    while true {
      skipWhitespace()
      if current == "}" { position += 1; return .dict(entries) }
      let key = try parseValue(depth: depth + 1)
      skipWhitespace()
      guard current == ":" else { throw fail("expected ':' after the key \(key.pythonText)") }
      position += 1
      let value = try parseValue(depth: depth + 1)
      entries.append((key, value))
      skipWhitespace()
      if current == "," { position += 1; continue }
      guard current == "}" else { throw fail("expected ',' or '}' in the dictionary") }
    }
  }

  /// `(a)` is `a`; `()`, `(a,)`, `(a, b)` are tuples.
  private mutating func parseTuple(depth: Int) throws(Failure) -> PythonLiteral {
    let (items, sawComma) = try parseSequence(closing: ")", depth: depth)
    return items.count == 1 && !sawComma ? items[0] : .tuple(items)
  }

  private mutating func parseSequence(closing: Unicode.Scalar, depth: Int) throws(Failure) -> (items: [PythonLiteral], sawComma: Bool) {
    position += 1  // opening bracket
    var items: [PythonLiteral] = []
    var sawComma = false
    while true {
      skipWhitespace()
      if current == closing { position += 1; return (items, sawComma) }
      items.append(try parseValue(depth: depth + 1))
      skipWhitespace()
      if current == "," { position += 1; sawComma = true; continue }
      guard current == closing else { throw fail("expected ',' or '\(closing)'") }
    }
  }

  private mutating func parseString() throws(Failure) -> String {
    let quote = text[position]
    position += 1
    var scalars = String.UnicodeScalarView()
    while true {
      guard let c = current else { throw fail("unterminated string") }
      position += 1
      if c == quote { return String(scalars) }
      if c == "\\" {
        guard let e = current else { throw fail("unterminated string") }
        position += 1
        switch e {
        case "n": scalars.append("\n")
        case "t": scalars.append("\t")
        case "r": scalars.append("\r")
        case "\\", "'", "\"": scalars.append(e)
        default: scalars.append("\\"); scalars.append(e)
        }
      } else {
        scalars.append(c)
      }
    }
  }

  private mutating func parseInteger() throws(Failure) -> Int {
    let start = position
    var negative = false
    if current == "-" || current == "+" {
      negative = current == "-"
      position += 1
    }
    var value = 0
    var digits = 0
    while let c = current, ("0"..."9").contains(c) {
      let digit = Int(c.value - 48)
      let (times10, o1) = value.multipliedReportingOverflow(by: 10)
      let (sum, o2) = times10.addingReportingOverflow(digit)
      guard !o1 && !o2 else { position = start; throw fail("integer too large") }
      value = sum
      digits += 1
      position += 1
    }
    guard digits > 0 else { throw fail("expected digits") }
    if current == "L" || current == "l" { position += 1 }  // Python 2 long suffix
    return negative ? -value : value
  }
}
