/// A quantizer whose `fit` learns numbers that must travel with its codes: an index file stores
/// `fittedState` beside the spec and restores the quantizer with `restoring(fittedState:)`, so codes
/// written by one process decode the same in another. Data-oblivious methods do not conform; the spec
/// string alone rebuilds them.
public protocol FittedStateQuantizer: VectorQuantizer {
  /// The learnt numbers (empty when `fit` learnt nothing for this spec).
  var fittedState: [Float] { get }
  /// This quantizer with `fittedState` restored; throws when the numbers do not fit the spec.
  func restoring(fittedState: [Float]) throws -> any VectorQuantizer
}

extension RaBitQ: FittedStateQuantizer {
  /// The learnt centre (`centre=mean`), or nothing.
  public var fittedState: [Float] { learnsCentre ? (centre ?? []) : [] }

  public func restoring(fittedState: [Float]) throws -> any VectorQuantizer {
    guard learnsCentre else {
      guard fittedState.isEmpty else {
        throw VQError.invalidArgument("\(spec.description) learns nothing, but \(fittedState.count) fitted values were given")
      }
      return self
    }
    guard fittedState.count == dimension else {
      throw VQError.dimensionMismatch(expected: dimension, got: fittedState.count, what: "stored centre of \(spec.description)")
    }
    return RaBitQ(spec: spec, dimension: dimension, centre: fittedState)
  }
}
