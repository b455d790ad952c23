/// The vector file formats swift-vq reads and writes.
///
/// - `fvecs`: per vector, an int32 little-endian dimension `d`, then `d` float32 little-endian values
///   (the TEXMEX / ANN-benchmarks format).
/// - `ivecs`: the same with `d` int32 values (ground-truth ids).
/// - `bvecs`: the same with `d` uint8 values (read as `Float` 0...255).
/// - `npy`: NumPy's array file (versions 1.0, 2.0, 3.0), a 2-D C-order little-endian array; a 1-D array
///   of `d` values is read as one vector of dimension `d`.
public enum VectorFileFormat: String, Sendable, CaseIterable {
  case fvecs, ivecs, bvecs, npy

  /// From a path's extension (`.fvecs`, `.ivecs`, `.bvecs`, `.npy`, any letter case); nil if unknown.
  public init?(path: String) {
    let name = path.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
    guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
    let ext = name[name.index(after: dot)...].lowercased()
    self.init(rawValue: ext)
  }

  /// The file extension, with its dot.
  public var fileExtension: String { "." + rawValue }
}

/// The element type of a float `.npy` file written by `VectorIO.writeVectors`.
public enum NPYFloatType: Sendable {
  /// `'<f4'`: IEEE binary32, exact.
  case float32
  /// `'<f2'`: IEEE binary16, rounded to nearest even; exact for values representable in binary16.
  case float16
}
