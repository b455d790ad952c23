// Fuzzes the FAISS flat-index reader behind `vq import` (IxFI/IxF2/IxFl, optionally in IxMp/IxM2 and one
// IxPT VNrm normalization). Every read must return vectors or throw VQError; a returned index must be
// self-consistent (ids, when present, one per vector; every value finite, as the reader promises).
import FuzzSupport
import VQ
import VQIndex

runFuzzer { data, count in
  guard let data, count >= 1 else { return 0 }
  let path = writeInput(data, count, fileExtension: "faissindex")
  if let contents = try? FAISSImport.readFlat(path) {
    precondition(contents.vectors.count > 0 && contents.vectors.dimension > 0)
    if let ids = contents.ids { precondition(ids.count == contents.vectors.count, "ids and vectors disagree") }
    precondition(contents.vectors.values.allSatisfy(\.isFinite), "a non-finite value got through")
  }
  return 0
}
