import Foundation

/// The data sets that ship with swift-vq.
///
/// `minilm-small`: 2,000 real MiniLM sentence embeddings (d = 384), 100 held-out queries and their exact
/// top-100 inner-product ground truth (see `Data/README.md` for provenance and licences).
public enum EmbeddedData {
  /// The folder that holds the named data set (`"minilm-small"`), or `nil` if it cannot be found.
  ///
  /// Looked up, in order: `$VQ_DATA_DIR/<name>`, the resource bundle SwiftPM builds next to the
  /// executable, and the source tree this file was compiled from.
  public static func directory(_ name: String = "minilm-small") -> URL? {
    let fm = FileManager.default
    var candidates: [URL] = []
    if let env = ProcessInfo.processInfo.environment["VQ_DATA_DIR"], !env.isEmpty {
      candidates.append(URL(fileURLWithPath: env).appendingPathComponent(name))
    }
    if let bundled = Bundle.module.url(forResource: name, withExtension: nil) {
      candidates.append(bundled)
    }
    candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(name))
    for url in candidates {
      var isDirectory: ObjCBool = false
      if fm.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue { return url }
    }
    return nil
  }

  /// Paths of the MiniLM-small files.
  public struct MiniLMSmall: Sendable {
    public let base: URL
    public let queries: URL
    public let groundTruth: URL
  }

  /// The MiniLM-small set, or `nil` if its folder cannot be found.
  public static var miniLMSmall: MiniLMSmall? {
    guard let dir = directory("minilm-small") else { return nil }
    return MiniLMSmall(
      base: dir.appendingPathComponent("base.fvecs"),
      queries: dir.appendingPathComponent("query.fvecs"),
      groundTruth: dir.appendingPathComponent("groundtruth.ivecs"))
  }
}
