/// Which rotation a method applies before quantizing (`rotation=` in a spec).
public enum RotationKind: String, Sendable, CaseIterable {
  case none, hadamard, haar
}

/// Builds rotations from the shared spec keys `rotation`, `rounds`, `seed`.
public enum Rotations {
  /// The shared keys, with `defaultKind` as the default of `rotation`.
  public static func parameters(defaultKind: RotationKind, defaultSeed: UInt64 = 42) -> [SpecParameter] {
    [
      SpecParameter("rotation", .choice(RotationKind.allCases.map(\.rawValue)), default: defaultKind.rawValue,
                    summary: "rotation before quantizing: randomized Hadamard, dense Haar (QR), or none"),
      SpecParameter("rounds", .integer(1...8), default: "3",
                    summary: "randomized Hadamard rounds (1 is biased on sparse input)"),
      SpecParameter("seed", .unsigned, default: String(defaultSeed), summary: "seed of every random choice"),
    ]
  }

  /// The rotation `spec`'s keys ask for, for vectors of `dimension` coordinates.
  public static func make(_ spec: QuantizerSpec, dimension: Int) -> any Rotation {
    let kind = RotationKind(rawValue: spec.string("rotation")) ?? .none
    let seed = spec.uint64("seed")
    switch kind {
    case .none: return IdentityRotation(dimension: dimension)
    case .hadamard: return RandomizedHadamard(dimension: dimension, rounds: spec.int("rounds"), seed: seed)
    case .haar: return DenseRotation(dimension: dimension, seed: seed)
    }
  }
}
