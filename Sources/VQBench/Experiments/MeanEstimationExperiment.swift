import Foundation
import VQ

/// Placeholder until the `--mean-estimation` experiment lands (issue 11); the helper building it replaces this file.
enum MeanEstimationExperiment {
  static func run(_ settings: ExperimentSettings) throws -> [ExperimentSection] {
    throw VQError.invalidArgument("--mean-estimation: this experiment is not built yet (issue 11)")
  }
}
