/// Every error swift-vq throws. Each case carries what a user needs to find the problem: the path,
/// the record or row, the offending value. `description` is the message the CLI prints after `error:`.
public enum VQError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A spec string that does not parse: unknown method or key, bad or out-of-range value.
  case invalidSpec(String)
  /// A parameter outside its allowed range (outside spec strings: `k`, `limit`, thread counts, ...).
  case outOfRange(String)
  /// Two things that must agree in dimension do not (`what` says which).
  case dimensionMismatch(expected: Int, got: Int, what: String)
  /// A NaN or ±Inf value at a (row, column) of the named input.
  case nonFinite(source: String, row: Int, column: Int, value: Float)
  /// A zero vector where a method needs a direction.
  case zeroVector(source: String, row: Int)
  /// A file that exists but holds no data.
  case emptyFile(path: String)
  /// A file that ends in the middle of a record.
  case truncated(path: String, record: Int, byteOffset: Int, detail: String)
  /// A file whose content is malformed (bad header, inconsistent dimension, wrong dtype, ...).
  case corrupt(path: String, detail: String)
  /// The file system refused: missing path, unreadable file, unwritable folder.
  case io(path: String, detail: String)
  /// Anything else a caller did wrong (empty batch, mismatched code layout, ...).
  case invalidArgument(String)

  public var description: String {
    switch self {
    case .invalidSpec(let message): return message
    case .outOfRange(let message): return message
    case .dimensionMismatch(let expected, let got, let what):
      return "dimension mismatch: \(what) has dimension \(got), expected \(expected)"
    case .nonFinite(let source, let row, let column, let value):
      return "\(source): non-finite value \(value) at row \(row), column \(column)"
    case .zeroVector(let source, let row):
      return "\(source): row \(row) is a zero vector (this needs a direction)"
    case .emptyFile(let path): return "\(path): empty file"
    case .truncated(let path, let record, let offset, let detail):
      return "\(path): truncated at record \(record) (byte offset \(offset)): \(detail)"
    case .corrupt(let path, let detail): return "\(path): \(detail)"
    case .io(let path, let detail): return "\(path): \(detail)"
    case .invalidArgument(let message): return message
    }
  }
}
