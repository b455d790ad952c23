import Foundation
import Testing
import VQ
import VQTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Crash-safe writes: the real `vq` binary is killed with SIGKILL at seeded random points while it
/// rewrites an index (`index build` over an existing file, `add`, `delete`, `compact`) or exports one.
/// After every kill the target must be byte-equal to the file before the command or to the file the
/// uninterrupted command writes (which is checked with `vq index info --verify`); never a mixture, a
/// truncated file or nothing. Then the same command runs to completion and must leave no temporary
/// file (`.<name>.tmp-<pid>-<tag>`, see AtomicFile) in the folder, including the ones killed writers
/// left behind.
///
/// Trials: `VQ_CRASH_TRIALS` (default 30, spread over the five commands). The kill delay of each trial
/// is seeded: uniform in [0, 1.2) or, every other round, in [0.6, 1.05) × the command's measured
/// duration, so kills land before, during and after the write; what each trial saw (old file, new
/// file, stale temporary file) is printed.
@Suite(.serialized) struct CrashSafetyTests {
  /// One command under test: the file it rewrites, its arguments, and the target's content before it.
  struct Operation {
    let name: String
    let target: String
    let arguments: [String]
    /// The target's bytes before the command (nil: the target does not exist yet).
    let before: Data?
  }

  final class Setup {
    let fixtures: Fixtures
    let index: String
    let operations: [Operation]
    /// Each operation's output when it runs to completion.
    var after: [String: Data] = [:]
    var duration: [String: Double] = [:]

    init() throws {
      fixtures = try Fixtures()
      index = fixtures.path("idx.vqx")
      let base = try fixtures.write("base.fvecs", Fixtures.fvecs(Fixtures.vectors(3000, 48, seed: 11)))
      let extra = try fixtures.write("extra.fvecs", Fixtures.fvecs(Fixtures.vectors(600, 48, seed: 12)))
      let build = try VQBinary.run(["index", "build", "--spec", "rabitq:bits=2", "--base", base, "--out", index, "--ivf", "4"])
      try #require(build.status == 0, "initial build: \(build.stderr)")
      let original = try Data(contentsOf: URL(fileURLWithPath: index))
      let deleteIDs = stride(from: 0, to: 3000, by: 7).map(String.init).joined(separator: ",")
      let delete = try VQBinary.run(["index", "delete", index, "--ids", deleteIDs])
      try #require(delete.status == 0, "delete: \(delete.stderr)")
      let withDeletions = try Data(contentsOf: URL(fileURLWithPath: index))
      try original.write(to: URL(fileURLWithPath: index))
      let export = fixtures.path("decoded.fvecs")
      operations = [
        Operation(name: "build", target: index, arguments: ["index", "build", "--spec", "rabitq:bits=4", "--base", base, "--out", index, "--ivf", "4", "--seed", "5"], before: original),
        Operation(name: "add", target: index, arguments: ["index", "add", index, "--vectors", extra], before: original),
        Operation(name: "delete", target: index, arguments: ["index", "delete", index, "--ids", deleteIDs], before: original),
        Operation(name: "compact", target: index, arguments: ["index", "compact", index], before: withDeletions),
        Operation(name: "export", target: export, arguments: ["export", index, "--format", "fvecs", "--out", export], before: nil),
      ]
    }

    func restore(_ operation: Operation) throws {
      try? FileManager.default.removeItem(atPath: operation.target)
      if operation.name == "export" { try restore(operations[0]) }  // export reads the original index
      if let before = operation.before { try before.write(to: URL(fileURLWithPath: operation.target)) }
    }

    /// Temporary files AtomicFile makes for `target`, in its folder.
    func temporaryFiles(of target: String) throws -> [String] {
      let name = (target as NSString).lastPathComponent
      return try FileManager.default.contentsOfDirectory(atPath: fixtures.folder.path).filter { $0.hasPrefix(".\(name).tmp-") }
    }

    func contents(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }
  }

  /// Starts `vq arguments`, sends SIGKILL after `delay` seconds (or lets it finish first); returns
  /// whether it was killed.
  static func runAndKill(_ arguments: [String], after delay: Double) throws -> Bool {
    let binary = try #require(VQBinary.url, "vq is not built next to the test bundle")
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(delay)
    while process.isRunning && Date() < deadline { usleep(500) }
    var killed = false
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      killed = true
    }
    process.waitUntilExit()
    return killed && process.terminationReason == .uncaughtSignal
  }

  @Test("SIGKILL at random points: the target is the old file or the complete new one; the next run leaves no temporary file")
  func killedWriters() throws {
    let setup = try Setup()
    // Reference outputs and durations of the uninterrupted commands.
    for operation in setup.operations {
      try setup.restore(operation)
      let start = Date()
      let run = try VQBinary.run(operation.arguments)
      setup.duration[operation.name] = Date().timeIntervalSince(start)
      try #require(run.status == 0, "\(operation.name): \(run.stderr)")
      let output: Data = try #require(setup.contents(operation.target))
      setup.after[operation.name] = output
      #expect(setup.after[operation.name] != operation.before, "\(operation.name) changed nothing")
      if operation.target.hasSuffix(".vqx") {
        let verify = try VQBinary.run(["index", "info", operation.target, "--verify"])
        #expect(verify.status == 0, "\(operation.name) output does not verify: \(verify.stderr)")
      }
      #expect(try setup.temporaryFiles(of: operation.target).isEmpty)
    }

    let trials = ProcessInfo.processInfo.environment["VQ_CRASH_TRIALS"].flatMap(Int.init) ?? 30
    var generator = SeededGenerator(seed: 20261123)
    var seen: [String: (killed: Int, old: Int, new: Int, staleTemporary: Int)] = [:]
    for trial in 0..<trials {
      let operation = setup.operations[trial % setup.operations.count]
      try setup.restore(operation)
      // Even trials: anywhere in the run; odd trials: its last 40 %, where the file is written.
      let fraction = trial / setup.operations.count % 2 == 0 ? Double.random(in: 0..<1.2, using: &generator) : Double.random(in: 0.6..<1.05, using: &generator)
      let delay = fraction * setup.duration[operation.name]!
      let killed = try Self.runAndKill(operation.arguments, after: delay)
      let now = setup.contents(operation.target)
      let isOld = now == operation.before
      let isNew = now == setup.after[operation.name]
      #expect(isOld || isNew, "trial \(trial) \(operation.name) killed after \(delay) s: the target is neither the old nor the new file (\(now?.count ?? -1) bytes)")
      var tally = seen[operation.name] ?? (0, 0, 0, 0)
      tally.killed += killed ? 1 : 0
      tally.old += isOld ? 1 : 0
      tally.new += isNew && !isOld ? 1 : 0
      tally.staleTemporary += try setup.temporaryFiles(of: operation.target).isEmpty ? 0 : 1
      seen[operation.name] = tally

      // The next successful run of the same command completes and cleans up after the killed one.
      try setup.restore(operation)
      let rerun = try VQBinary.run(operation.arguments)
      #expect(rerun.status == 0, "trial \(trial) \(operation.name) rerun: \(rerun.stderr)")
      #expect(setup.contents(operation.target) == setup.after[operation.name], "trial \(trial) \(operation.name): rerun differs")
      let left = try setup.temporaryFiles(of: operation.target)
      #expect(left.isEmpty, "trial \(trial) \(operation.name): temporary files left after a successful run: \(left)")
    }
    for (name, t) in seen.sorted(by: { $0.key < $1.key }) {
      print("crash-safety \(name): \(t.killed) killed, \(t.old) old file, \(t.new) new file, \(t.staleTemporary) with a stale temporary file before the rerun")
    }
  }

  @Test("a successful write removes temporary files of dead writers of the same target, and nobody else's")
  func staleTemporaryFilesAreRemoved() throws {
    let fixtures = try Fixtures()
    let base = try fixtures.write("base.fvecs", Fixtures.fvecs(Fixtures.vectors(100, 8, seed: 1)))
    let out = fixtures.path("x.vqx")
    // pid 99999999 is above every pid_max, so no process has it; our own pid is alive.
    let dead = try fixtures.write(".x.vqx.tmp-99999999-abc", [1, 2, 3])
    let alive = try fixtures.write(".x.vqx.tmp-\(getpid())-abc", [1, 2, 3])
    let otherTarget = try fixtures.write(".y.vqx.tmp-99999999-abc", [1, 2, 3])
    let run = try VQBinary.run(["index", "build", "--spec", "sign", "--base", base, "--out", out])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dead))
    #expect(FileManager.default.fileExists(atPath: alive))
    #expect(FileManager.default.fileExists(atPath: otherTarget))
  }
}
