import ArgumentParser
import Foundation
import VQ
import VQIndex

/// `vq export`: a `.vqx` index as a FAISS index file, or its decoded vectors as `.fvecs` / `.npy`.
struct ExportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export",
    abstract: "Export an index (.vqx) to FAISS (faiss.read_index) or its decoded vectors to .fvecs/.npy.",
    discussion: """
      --format faiss writes IndexIDMap2(IndexFlatIP/L2) over the live vectors (flat indexes) or IndexIVFFlat \
      with the same centroids, lists and ids (IVF indexes); metric cosine adds an L2 NormalizationTransform \
      (IndexPreTransform). The vectors are the originals when the index keeps them, else the decoded codes. \
      --faiss-index flat forces the flat form. --faiss-index rabitq (rabitq, centre=none) writes \
      FAISS's IndexRaBitQ / IndexIVFRaBitQ over the same codes behind the rotation as a LinearTransform; \
      FAISS then ranks by swift-vq's estimator with the float query (qb=0). Other compressed FAISS indexes \
      (SQ/TurboQuant, EDEN) are not written: their stored layouts do not match.
      --format fvecs|npy writes the decoded vectors (quantizer.decode of the codes, plus the list centroid \
      for IVF) of the live rows in ascending id order. When the ids are not exactly 0..<count (custom ids, \
      deletions), their ids go to a sidecar OUT-without-extension.ids.ivecs (one id per row, int32).
      """)

  @Argument(help: "The index file (.vqx).")
  var index: String
  @Option(help: "faiss, fvecs or npy.")
  var format: String
  @Option(help: "The file to write (for fvecs/npy its extension must be the format's).")
  var out: String
  @Option(name: .customLong("faiss-index"), help: "FAISS index type: auto (ivf-flat for IVF, flat otherwise), flat, ivf-flat, rabitq.")
  var faissIndex = "auto"

  static let formats = ["faiss", "fvecs", "npy"]

  func validate() throws {
    guard Self.formats.contains(format) else {
      throw ValidationError("--format must be one of \(Self.formats.joined(separator: ", ")); got '\(format)'")
    }
    guard FAISSExport.Structure(rawValue: faissIndex) != nil else {
      throw ValidationError("--faiss-index must be one of auto, flat, ivf-flat, rabitq; got '\(faissIndex)'")
    }
    if format != "faiss" {
      guard out.lowercased().hasSuffix("." + format) else {
        throw ValidationError("--out '\(out)' must end in .\(format) for --format \(format)")
      }
    }
  }

  func run() throws {
    let folder = (out as NSString).deletingLastPathComponent
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder.isEmpty ? "." : folder, isDirectory: &isFolder), isFolder.boolValue else {
      throw VQError.io(path: out, detail: "the output folder '\(folder)' does not exist")
    }
    let loaded = try IndexFile.read(index)
    if format == "faiss" {
      try FAISSExport.write(loaded, to: out, structure: FAISSExport.Structure(rawValue: faissIndex)!)
      print("exported \(loaded.count) vectors × \(loaded.dimension) (\(loaded.spec.description), "
        + "\(faissIndex == "rabitq" ? "RaBitQ codes" : loaded.hasOriginals ? "originals" : "decoded codes")) to FAISS \(out)")
      return
    }
    let decoded = try FAISSExport.decodedVectors(loaded)
    let dense = decoded.ids.enumerated().allSatisfy { UInt64($0.offset) == $0.element }
    var sidecar: String?
    if !dense {
      if let big = decoded.ids.first(where: { $0 > UInt64(Int32.max) }) {
        throw VQError.outOfRange("id \(big) does not fit the int32 ids sidecar (.ivecs)")
      }
      sidecar = (out as NSString).deletingPathExtension + ".ids.ivecs"
    }
    try VectorIO.writeVectors(decoded.vectors, to: out)
    if let sidecar {
      do {
        try VectorIO.writeIntVectors(IntMatrix(rows: decoded.ids.count, columns: 1, values: decoded.ids.map { Int32($0) }), to: sidecar)
      } catch {
        try? FileManager.default.removeItem(atPath: out)
        throw error
      }
    }
    print("exported \(decoded.ids.count) decoded vectors × \(loaded.dimension) in id order to \(out)"
      + (sidecar.map { ", ids in \($0)" } ?? ""))
  }
}
