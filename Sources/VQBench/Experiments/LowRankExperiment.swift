import Foundation
import VQ

/// Placeholder until the `--lowrank` experiment lands (issue 11); the helper building it replaces this file.
enum LowRankExperiment {
  static func run(_ settings: ExperimentSettings) throws -> [ExperimentSection] {
    throw VQError.invalidArgument("--lowrank: this experiment is not built yet (issue 11)")
  }
}
