// Fuzzes the NumPy .npy readers (header parser, dtype/shape/order checks, row decoding): the first byte
// picks float vectors, int vectors or the mapped reader; the rest is the file.
import FuzzSupport
import VQ

runFuzzer { data, count in
  guard let data, count >= 1 else { return 0 }
  let path = writeInput(data + 1, count - 1, fileExtension: "npy")
  switch data[0] % 3 {
  case 0:
    if let batch = try? VectorIO.readVectors(at: path) { precondition(batch.count > 0 && batch.dimension > 0) }
  case 1:
    if let ids = try? VectorIO.readIntVectors(at: path) { precondition(ids.rows > 0 && ids.columns > 0 && ids.values.count == ids.rows * ids.columns) }
  default:
    if let mapped = try? MappedVectorFile(path: path) {
      let whole = try? VectorIO.readVectors(at: path)
      if let rows = try? mapped.readAll(), let whole { precondition(whole == rows, "mapped and whole-file readers disagree") }
    }
  }
  return 0
}
