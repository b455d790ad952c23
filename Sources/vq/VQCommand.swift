import ArgumentParser
import Foundation
import VQ
import VQBench

/// `vq`: thin: parse the command line, call the library, print.
///
/// Every failure except `--help` and `--version` prints `error: <message>` on stderr and exits with
/// status 2: `VQError.description` for swift-vq's own errors, ArgumentParser's message for usage errors.
@main
struct VQCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "vq",
    abstract: "Direction- and inner-product-preserving vector quantization.",
    version: VQBenchVersion.version,
    subcommands: [EvalCommand.self, SpecsCommand.self, BenchCommand.self, IndexCommand.self, ASQCommand.self, ExportCommand.self, ImportCommand.self, BlockCodebooksCommand.self])

  static func main() {
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      // Help and version requests are clean exits: ArgumentParser prints them and exits 0.
      if exitCode(for: error) == .success { exit(withError: error) }
      let message = (error as? VQError)?.description ?? self.message(for: error)
      Terminal.writeError("error: \(message)\n")
      exit(withError: ExitCode(2))
    }
  }
}

/// Output helpers.
enum Terminal {
  static func writeError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
  }

  /// Whether stderr is a terminal (progress lines go there only then).
  static var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}
