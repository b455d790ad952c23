import ArgumentParser
import Foundation
import VQ

/// `vq blockcodebooks`: the generator of the shipped BlockQuant codebooks
/// (`Sources/VQ/Resources/BlockCodebooks`), and their check.
struct BlockCodebooksCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "blockcodebooks",
    abstract: "Train BlockQuant's k-means block codebooks and write them as .vqbc files (or check shipped ones).",
    discussion: """
      Without --dimensions/--bits, writes the set swift-vq ships: the default block size at bits \
      \(BlockCodebookStore.shippedBits.map(String.init).joined(separator: ",")) for n = \
      \(BlockCodebookStore.shippedDimensions.map(String.init).joined(separator: ", ")). Training is deterministic \
      (same bytes on every machine and thread count). Regenerate after changing the trainer \
      (BlockCodebook.trainerVersion): swift run -c release vq blockcodebooks --output Sources/VQ/Resources/BlockCodebooks
      """)

  @Option(help: "Folder to write the .vqbc files into (created if missing).")
  var output: String?

  @Option(help: "Instead of writing: regenerate and compare byte for byte with the files in this folder.")
  var check: String?

  @Option(help: "Comma-separated coded dimensions n (default: the shipped set).")
  var dimensions: String?

  @Option(help: "Comma-separated bits per coordinate (default: 1...8).")
  var bits: String?

  @Option(help: "Coordinates per block p (default: the largest divisor of n with bits*p <= 12).")
  var block: Int?

  func validate() throws {
    guard (output == nil) != (check == nil) else {
      throw ValidationError("give exactly one of --output DIR and --check DIR")
    }
  }

  static func parseList(_ text: String, option: String) throws -> [Int] {
    try text.split(separator: ",").map { item in
      guard let v = Int(item.trimmingCharacters(in: .whitespaces)), v > 0 else {
        throw VQError.invalidArgument("\(option): '\(item)' is not a positive integer")
      }
      return v
    }
  }

  func run() throws {
    let ns = try dimensions.map { try Self.parseList($0, option: "--dimensions") } ?? BlockCodebookStore.shippedDimensions
    let bs = try bits.map { try Self.parseList($0, option: "--bits") } ?? BlockCodebookStore.shippedBits
    let folder = output ?? check!
    if output != nil { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
    var mismatches: [String] = []
    for n in ns {
      for b in bs {
        let p = block ?? BlockCodebook.defaultBlockSize(dimension: n, bits: b)
        let name = BlockCodebookStore.fileName(dimension: n, blockSize: p, bits: b)
        let start = Date()
        let book = try BlockCodebook.trained(dimension: n, blockSize: p, bits: b)
        let seconds = Date().timeIntervalSince(start)
        let summary = "\(name)  K \(book.count)  iterations \(book.iterations)  distortion \(String(format: "%.6f", book.trainingDistortion))  \(String(format: "%.2f", seconds)) s"
        if output != nil {
          try BlockCodebookStore.write(book, into: folder)
          print("wrote " + summary)
        } else {
          let path = folder + "/" + name
          let shipped = FileManager.default.contents(atPath: path).map { [UInt8]($0) }
          if shipped == BlockCodebookStore.fileBytes(of: book) {
            print("same  " + summary)
          } else {
            print("DIFFERS " + summary + (shipped == nil ? "  (no file)" : ""))
            mismatches.append(name)
          }
        }
      }
    }
    if !mismatches.isEmpty {
      throw VQError.corrupt(path: folder, detail: "\(mismatches.count) codebook file(s) differ from a fresh training run: \(mismatches.joined(separator: ", "))")
    }
  }
}
