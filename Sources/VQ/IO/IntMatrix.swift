/// A row-major matrix of `Int32`: ground-truth neighbor ids (`.ivecs`, or `.npy` `'<i4'`).
public struct IntMatrix: Sendable, Equatable {
  public let rows: Int
  public let columns: Int
  /// All values, row-major (`rows × columns`).
  public var values: [Int32]

  /// A matrix from row-major values; `values.count` must be `rows × columns` (a programming error
  /// otherwise: the readers build matrices only from validated shapes).
  public init(rows: Int, columns: Int, values: [Int32]) {
    precondition(rows >= 0 && columns >= 0 && values.count == rows * columns,
                 "IntMatrix \(rows)×\(columns) needs \(rows * columns) values, got \(values.count)")
    self.rows = rows
    self.columns = columns
    self.values = values
  }

  /// Row `i`.
  public subscript(row i: Int) -> ArraySlice<Int32> {
    precondition(i >= 0 && i < rows, "row \(i) out of range 0..<\(rows)")
    return values[(i * columns)..<((i + 1) * columns)]
  }
}
