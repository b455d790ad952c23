// Fuzzes the .fvecs / .ivecs / .bvecs readers: the first byte picks the format, the rest is the file.
// Every reader must either return vectors or throw VQError; a trap, a sanitizer report or a hang is a
// finding.
import FuzzSupport
import VQ

let formats = ["fvecs", "ivecs", "bvecs"]

runFuzzer { data, count in
  guard let data, count >= 1 else { return 0 }
  let format = formats[Int(data[0]) % formats.count]
  let path = writeInput(data + 1, count - 1, fileExtension: format)
  if format == "ivecs" {
    if let ids = try? VectorIO.readIntVectors(at: path) { precondition(ids.rows > 0 && ids.columns > 0 && ids.values.count == ids.rows * ids.columns) }
  } else {
    let whole = try? VectorIO.readVectors(at: path)
    if let whole { precondition(whole.count > 0 && whole.dimension > 0) }
    // The mapped reader sizes the file up front and checks records only when read: when both succeed
    // they must agree.
    if let mapped = try? MappedVectorFile(path: path), let rows = try? mapped.readAll() {
      if let whole { precondition(whole == rows, "mapped and whole-file readers disagree") }
    }
  }
  return 0
}
