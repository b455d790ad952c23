import Foundation

/// The machine's tools (python3 with faiss or pyspark, java) for the tests that check against peers.
public enum ExternalTool {
  /// The repository root (this file is Sources/VQTestSupport/ExternalTool.swift).
  public static let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// Runs `arguments` through /usr/bin/env and returns the exit status and standard output as text
  /// (standard error too when `mergingStandardError`, else it is discarded).
  public static func run(_ arguments: [String], mergingStandardError: Bool = false) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = mergingStandardError ? pipe : FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  /// `python3 arguments…`.
  public static func python(_ arguments: [String], mergingStandardError: Bool = false) throws -> (status: Int32, output: String) {
    try run(["python3"] + arguments, mergingStandardError: mergingStandardError)
  }
}
