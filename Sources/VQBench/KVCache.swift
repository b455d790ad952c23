import Foundation
import VQ

/// Attention keys, values and queries of a language model, per layer and head (`keys.npy`,
/// `values.npy`: `[layers, kvHeads, tokens, headDim]`; `queries.npy`: `[layers, qHeads, tokens, headDim]`,
/// float32, C order, after RoPE). Query head h attends key/value head h / (qHeads / kvHeads) (grouped-query
/// attention). The layout of `../shared/data/kv` and of the shipped sample `Data/kv-small`.
public struct KVCache: Sendable {
  public let layers: Int
  public let kvHeads: Int
  public let queryHeads: Int
  public let tokens: Int
  public let headDimension: Int
  /// The model's layer numbers for each stored layer (`meta.json` `layers` or `layers_saved`; else 0, 1, ...).
  public let layerNames: [Int]
  let keys: [Float]
  let values: [Float]
  let queries: [Float]

  /// Reads the three tensors from `folder`; `tokens` keeps only the first that many (a causal prefix is
  /// itself a valid cache).
  public init(folder: String, tokens limit: Int? = nil) throws {
    let (kShape, k) = try NPY4.read("\(folder)/keys.npy")
    let (vShape, v) = try NPY4.read("\(folder)/values.npy")
    let (qShape, q) = try NPY4.read("\(folder)/queries.npy")
    guard kShape == vShape else {
      throw VQError.invalidArgument("\(folder)/values.npy: shape \(vShape) differs from keys.npy \(kShape)")
    }
    guard qShape[0] == kShape[0], qShape[2] == kShape[2], qShape[3] == kShape[3], qShape[1] % kShape[1] == 0 else {
      throw VQError.invalidArgument(
        "\(folder)/queries.npy: shape \(qShape) does not fit keys.npy \(kShape) (need the same layers, tokens and head size, and a multiple of the key heads)")
    }
    let total = kShape[2]
    let t = min(total, limit ?? total)
    guard t >= 8 else { throw VQError.invalidArgument("\(folder): \(t) tokens are too few (need at least 8 for top-8 overlap)") }
    layers = kShape[0]
    kvHeads = kShape[1]
    queryHeads = qShape[1]
    tokens = t
    headDimension = kShape[3]
    let layerCount = kShape[0], size = kShape[3]
    func prefix(_ x: [Float], heads: Int) -> [Float] {
      guard t < total else { return x }
      var out: [Float] = []
      out.reserveCapacity(layerCount * heads * t * size)
      for lh in 0..<(layerCount * heads) {
        let start = lh * total * size
        out.append(contentsOf: x[start..<(start + t * size)])
      }
      return out
    }
    keys = prefix(k, heads: kShape[1])
    values = prefix(v, heads: kShape[1])
    queries = prefix(q, heads: qShape[1])
    var names = Array(0..<layerCount)
    if let data = FileManager.default.contents(atPath: "\(folder)/meta.json"),
       let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
       let list = (object["layers"] ?? object["layers_saved"]) as? [Int], list.count == layerCount {
      names = list
    }
    layerNames = names
  }

  /// The key/value head query head `h` attends.
  public func kvHead(ofQueryHead h: Int) -> Int { h / (queryHeads / kvHeads) }

  func keys(layer: Int, head: Int) -> VectorBatch { batch(keys, layer: layer, head: head, heads: kvHeads) }
  func values(layer: Int, head: Int) -> VectorBatch { batch(values, layer: layer, head: head, heads: kvHeads) }
  func queries(layer: Int, head: Int) -> VectorBatch { batch(queries, layer: layer, head: head, heads: queryHeads) }

  private func batch(_ x: [Float], layer: Int, head: Int, heads: Int) -> VectorBatch {
    let size = tokens * headDimension
    let start = (layer * heads + head) * size
    // The values are finite floats read from a file: the initializer cannot fail on a matching count.
    return try! VectorBatch(dimension: headDimension, values: Array(x[start..<(start + size)]))
  }
}

/// A reader for little-endian float32 `.npy` arrays of four dimensions (C order).
enum NPY4 {
  static func read(_ path: String) throws -> (shape: [Int], values: [Float]) {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw VQError.io(path: path, detail: "cannot read the file")
    }
    let bytes = [UInt8](data)
    guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
      throw VQError.corrupt(path: path, detail: "not an .npy file (bad magic)")
    }
    let major = bytes[6]
    let headerLength: Int, headerStart: Int
    if major == 1 {
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
      headerStart = 10
    } else {
      guard bytes.count >= 12 else { throw VQError.corrupt(path: path, detail: "truncated .npy header") }
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
      headerStart = 12
    }
    guard headerStart + headerLength <= bytes.count,
          let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: .ascii) else {
      throw VQError.corrupt(path: path, detail: "truncated .npy header")
    }
    guard header.contains("'descr': '<f4'") else {
      throw VQError.invalidArgument("\(path): only little-endian float32 ('<f4') KV tensors are supported (header: \(header.trimmingCharacters(in: .whitespacesAndNewlines)))")
    }
    guard header.contains("'fortran_order': False") else {
      throw VQError.invalidArgument("\(path): Fortran-order arrays are not supported")
    }
    guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
      throw VQError.corrupt(path: path, detail: "the .npy header has no shape")
    }
    let shape = header[open.upperBound..<close].split(separator: ",").compactMap {
      Int($0.trimmingCharacters(in: .whitespaces))
    }
    guard shape.count == 4, shape.allSatisfy({ $0 > 0 }) else {
      throw VQError.invalidArgument("\(path): shape \(shape) is not [layers, heads, tokens, head_dim]")
    }
    let count = shape.reduce(1, *)
    let start = headerStart + headerLength
    guard bytes.count - start == 4 * count else {
      throw VQError.corrupt(path: path, detail: "\(bytes.count - start) data bytes for shape \(shape) (need \(4 * count))")
    }
    var values = [Float](repeating: 0, count: count)
    values.withUnsafeMutableBytes { out in
      bytes.withUnsafeBytes { raw in out.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[start...])) }
    }
    #if _endian(big)
    values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
    #endif
    if let bad = values.firstIndex(where: { !$0.isFinite }) {
      throw VQError.invalidArgument("\(path): value \(values[bad]) at flat index \(bad) is not finite")
    }
    return (shape, values)
  }
}
