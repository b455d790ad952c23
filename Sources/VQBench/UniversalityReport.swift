import Foundation
import VQ
import VQData

/// `vq bench --universality`: the price of universality (research/geometry.md §2.3) in bits per
/// coordinate, for the flat, power-law, spiked and two-level spectra and the second-moment matrix of the
/// embedded MiniLM query set.
///
/// 1. Theory: the isotropic Gaussian codebook with a Σ-aware encoder, R_rc(D) − R_wf(D) at R_wf = 1…4
///    (n = 4096 for the synthetic spectra, the query set's own 384 eigenvalues for the real one).
/// 2. Practice: universal quantizers (rotation + Lloyd-Max = turbo-mse, blockquant, e8) on W ~ N(0, I_n),
///    400 vectors, Σ = U·diag(λ)·Uᵀ with a Haar U (n = 64) or the query second moment (n = 384), price =
///    b − R_wf(D_measured) with D_measured = mean eᵀΣe/n.
public enum UniversalityReport {
  public struct Spectrum: Sendable {
    public let name: String
    public let eigenvalues: [Double]
  }

  /// The synthetic spectra of §2.3 at n coordinates (mean 1).
  public static func syntheticSpectra(_ n: Int) -> [Spectrum] {
    [
      Spectrum(name: "flat", eigenvalues: Universality.flatSpectrum(n)),
      Spectrum(name: "power 1/i", eigenvalues: Universality.powerLawSpectrum(n, exponent: 1)),
      Spectrum(name: "power 1/i^2", eigenvalues: Universality.powerLawSpectrum(n, exponent: 2)),
      Spectrum(name: "spiked 8 x100", eigenvalues: Universality.spikedSpectrum(n, spikes: 8, factor: 100)),
      Spectrum(name: "two-level 10%/90%", eigenvalues: Universality.twoLevelSpectrum(n, fraction: 0.1, energy: 0.9)),
    ]
  }

  /// The normalized (trace n) second-moment matrix of the embedded query set, or nil if the data is missing.
  public static func querySecondMoment() throws -> (matrix: [Double], dimension: Int, count: Int)? {
    guard let data = EmbeddedData.miniLMSmall else { return nil }
    let queries = try VectorIO.readVectors(at: data.queries.path)
    let n = queries.dimension
    var m = Universality.secondMoment(queries)
    var trace = 0.0
    for i in 0..<n { trace += m[i * n + i] }
    let factor = Double(n) / trace
    for i in 0..<m.count { m[i] *= factor }
    return (m, n, queries.count)
  }

  /// The eigenvalues (mean 1) of the embedded base set's second moment (2 000 vectors: full rank).
  public static func baseSecondMomentEigenvalues() throws -> [Double]? {
    guard let data = EmbeddedData.miniLMSmall else { return nil }
    let base = try VectorIO.readVectors(at: data.base.path)
    let e = Universality.symmetricEigenvalues(Universality.secondMoment(base), size: base.dimension).map { Swift.max(0, $0) }
    return Universality.normalized(e)
  }

  /// Theory rows: the gap at R_wf = 1…4 for each spectrum.
  public static func theoryRows(_ spectra: [Spectrum], rates: [Double] = [1, 2, 3, 4]) -> [(String, [Double])] {
    spectra.map { s in (s.name, rates.map { Universality.theoreticalPrice(eigenvalues: s.eigenvalues, rate: $0) }) }
  }

  /// The practical quantizers and their bit widths.
  public static let practicalSpecs: [(label: String, spec: @Sendable (Int) -> String, bits: [Int])] = [
    ("rot+Lloyd-Max (turbo-mse)", { "turbo-mse:bits=\($0),rotation=haar" }, [1, 2, 3]),
    ("blockquant (biased)", { "blockquant:bits=\($0),scale=biased,rotation=haar" }, [1, 2, 3]),
    ("e8 (E8P, biased)", { _ in "e8:bits=2,scale=biased,rotation=haar" }, [2]),
  ]

  /// One practical row: D and price per bit width for one quantizer and one spectrum.
  public static func practical(
    spec: (Int) -> String, bits: [Int], eigenvalues: [Double], matrix: [Double]? = nil, vectors: Int = 400, seed: UInt64 = 7
  ) throws -> [(bits: Int, distortion: Double, price: Double)] {
    let n = eigenvalues.count
    var g = SeededGenerator(seed: seed)
    let w = try VectorBatch(dimension: n, values: (0..<(vectors * n)).map { _ in Float(g.nextGaussian()) })
    let basis = DenseRotation(dimension: n, seed: seed &+ 1)
    return try bits.map { b in
      let q = try QuantizerRegistry.standard.makeQuantizer(spec(b), dimension: n)
      let d = try matrix.map { try Universality.weightedDistortion(q, vectors: w, matrix: $0) }
        ?? Universality.weightedDistortion(q, vectors: w, eigenvalues: eigenvalues, basis: basis)
      return (b, d, Universality.practicalPrice(eigenvalues: eigenvalues, bits: Double(b), distortion: d))
    }
  }

  /// The whole report as text.
  public static func text(progress: (String) -> Void = { _ in }) throws -> String {
    var out = "Price of universality (geometry.md 2): bits per coordinate beyond reverse waterfilling on Sigma\n\n"
    out += "Theory: isotropic Gaussian codebook + Sigma-aware encoder, R_rc(D) - R_wf(D), n = 4096\n"
    out += TextColumns.left("spectrum", 26) + ["R_wf=1", "2", "3", "4"].map { TextColumns.right($0, 9) }.joined() + "\n"
    progress("theory rows")
    var spectra = syntheticSpectra(4096)
    let real = try querySecondMoment()
    var realEigenvalues: [Double]?
    if let real {
      progress("eigenvalues of the query second moment (\(real.dimension) x \(real.dimension))")
      let e = Universality.symmetricEigenvalues(real.matrix, size: real.dimension).map { Swift.max(0, $0) }
      realEigenvalues = e
      spectra.append(Spectrum(name: "minilm queries (n=\(real.dimension))", eigenvalues: e))
      if let base = try baseSecondMomentEigenvalues() {
        spectra.append(Spectrum(name: "minilm base (n=\(base.count))", eigenvalues: base))
      }
    }
    for (name, gaps) in theoryRows(spectra) {
      out += TextColumns.left(name, 26) + gaps.map { String(format: " %8.4f", $0) }.joined() + "\n"
    }
    if let e = realEigenvalues {
      let top = e.prefix(8).map { String(format: "%.2f", $0) }.joined(separator: " ")
      let rank = e.filter { $0 > 1e-9 }.count
      out += "  (minilm queries: \(real!.count) vectors, rank \(rank); top eigenvalues \(top), mean 1)\n"
    }
    out += "\nPractice: W ~ N(0, I), 400 vectors; D = mean e'Sigma e/n; price = b - R_wf(D)\n"
    out += TextColumns.left("spectrum", 26) + TextColumns.left("quantizer", 30) + TextColumns.right("bits", 5)
      + TextColumns.right("D", 11) + TextColumns.right("price", 9) + "\n"
    var practicalSpectra = syntheticSpectra(64).filter { $0.name != "two-level 10%/90%" }
    practicalSpectra[3] = Spectrum(name: "spiked 4 x50", eigenvalues: Universality.spikedSpectrum(64, spikes: 4, factor: 50))
    var cases: [(Spectrum, [Double]?)] = practicalSpectra.map { ($0, nil) }
    if let real, let e = realEigenvalues {
      cases.append((Spectrum(name: "minilm queries (n=384)", eigenvalues: e), real.matrix))
    }
    for (spectrum, matrix) in cases {
      for p in practicalSpecs {
        progress("\(spectrum.name): \(p.label)")
        for r in try practical(spec: p.spec, bits: p.bits, eigenvalues: spectrum.eigenvalues, matrix: matrix) {
          out += TextColumns.left(spectrum.name, 26) + TextColumns.left(p.label, 30)
            + String(format: "%5d %10.4f %8.3f\n", r.bits, r.distortion, r.price)
        }
      }
    }
    out += "\nA Sigma-oblivious quantizer has an isotropic error (D equals its plain MSE whatever Sigma is), so it pays\n"
    out += "the whole waterfilling advantage; the universal codebook of the paper pays at most 0.11 bit.\n"
    return out
  }
}

/// Fixed-width text columns (Foundation's `%-24@` does not pad on Linux).
enum TextColumns {
  static func left(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
  }
  static func right(_ s: String, _ width: Int) -> String {
    s.count >= width ? " " + s : String(repeating: " ", count: width - s.count) + s
  }
}
