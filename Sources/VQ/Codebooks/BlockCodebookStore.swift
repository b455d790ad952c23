import Foundation

/// Where the shipped block codebooks live, and loading one.
///
/// The files (`BlockCodebookFile`, one per (n, p, b) at the default seed) are the package's resource
/// folder `BlockCodebooks`. It is looked up, in order, in `$VQ_CODEBOOK_DIR`, the resource bundle SwiftPM
/// places next to the executable (`swift-vq_VQ.resources` on Linux, `swift-vq_VQ.bundle` on macOS), and
/// the source tree this file was compiled from. The generated `Bundle.module` is not used: it traps when
/// the bundle is missing (an executable copied elsewhere), and a missing file here only means "train".
///
/// Which codebooks are shipped (`shippedKeys`): the default block size at b = 1…8 for the common
/// embedding dimensions n ∈ {128, 384, 768, 1024, 1536} and the head dimension 64 of the embedded KV
/// cache. Any other key is trained on first use, with the same result a file would hold.
public enum BlockCodebookStore {
  /// The dimensions whose default-p codebooks are shipped, at every bit width blockquant accepts.
  public static let shippedDimensions = [64, 128, 384, 768, 1024, 1536]
  public static let shippedBits = Array(1...8)

  /// (n, p, b) of every shipped codebook.
  public static var shippedKeys: [(dimension: Int, blockSize: Int, bits: Int)] {
    shippedDimensions.flatMap { n in
      shippedBits.map { b in (n, BlockCodebook.defaultBlockSize(dimension: n, bits: b), b) }
    }
  }

  /// The resource folder name.
  static let folderName = "BlockCodebooks"

  /// The folder holding the shipped files, or nil when none can be found.
  public static let directory: String? = {
    let fm = FileManager.default
    var candidates: [String] = []
    if let env = ProcessInfo.processInfo.environment["VQ_CODEBOOK_DIR"], !env.isEmpty { candidates.append(env) }
    let beside = Bundle.main.bundleURL
    for bundleName in ["swift-vq_VQ.resources", "swift-vq_VQ.bundle"] {
      let url = beside.appendingPathComponent(bundleName)
      if let bundle = Bundle(url: url), let folder = bundle.url(forResource: folderName, withExtension: nil) {
        candidates.append(folder.path)
      }
      candidates.append(url.appendingPathComponent(folderName).path)
    }
    candidates.append(
      URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Resources").appendingPathComponent(folderName).path)
    for path in candidates {
      var isDirectory: ObjCBool = false
      if fm.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return path }
    }
    return nil
  }()

  /// The shipped codebook for `key`, nil when there is no file for it. A file that exists but is damaged
  /// or holds another codebook throws `VQError.corrupt` naming it.
  static func load(_ key: BlockCodebookKey) throws -> BlockCodebook.Stored? {
    guard key.seed == BlockCodebook.defaultSeed, let directory else { return nil }
    let path = directory + "/" + BlockCodebookFile.name(dimension: key.dimension, blockSize: key.blockSize, bits: key.bits)
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    let file = try FileBytes(path: path, mapped: false)
    return try BlockCodebookFile.decode(file.bytes, key: key, path: path)
  }

  /// Writes `book` (e.g. `BlockCodebook.trained(...)`) as its file into `directory`; returns the path.
  @discardableResult
  public static func write(_ book: BlockCodebook, into directory: String) throws -> String {
    let path = directory + "/" + fileName(dimension: book.dimension, blockSize: book.blockSize, bits: book.bits)
    let bytes = BlockCodebookFile.bytes(of: book)
    try AtomicFile.write(to: path) { try $0.write(bytes) }
    return path
  }

  /// The bytes of `book`'s file.
  public static func fileBytes(of book: BlockCodebook) -> [UInt8] { BlockCodebookFile.bytes(of: book) }

  /// The file name of the codebook for (n, p, b).
  public static func fileName(dimension: Int, blockSize: Int, bits: Int) -> String {
    BlockCodebookFile.name(dimension: dimension, blockSize: blockSize, bits: bits)
  }
}
