import Foundation
import VQ

/// Placeholder until the `--qrp` experiment lands (issue 11); the helper building it replaces this file.
enum QRPExperiment {
  static func run(_ settings: ExperimentSettings) throws -> [ExperimentSection] {
    throw VQError.invalidArgument("--qrp: this experiment is not built yet (issue 11)")
  }
}
