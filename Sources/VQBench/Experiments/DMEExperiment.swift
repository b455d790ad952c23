import Foundation
import VQ

/// Placeholder until the `--dme` experiment lands (issue 11); the helper building it replaces this file.
enum DMEExperiment {
  static func run(_ settings: ExperimentSettings) throws -> [ExperimentSection] {
    throw VQError.invalidArgument("--dme: this experiment is not built yet (issue 11)")
  }
}
