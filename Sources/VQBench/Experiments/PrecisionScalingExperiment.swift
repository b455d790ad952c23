import Foundation
import VQ

/// Placeholder until the `--scaling` experiment lands (issue 11); the helper building it replaces this file.
enum PrecisionScalingExperiment {
  static func run(_ settings: ExperimentSettings) throws -> [ExperimentSection] {
    throw VQError.invalidArgument("--scaling: this experiment is not built yet (issue 11)")
  }
}
