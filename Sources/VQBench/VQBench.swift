import VQ

/// The comparison harness (grown by the bench issue).
public enum VQBenchVersion {
  public static let version = "0.1.0"
}
