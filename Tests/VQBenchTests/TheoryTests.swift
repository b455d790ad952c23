import Foundation
import Testing
import VQ
import VQData
import VQTestSupport
@testable import VQBench

@Suite struct TheoryTests {
  @Test func lloydMaxTableIsTheNotesAndTheLibrarys() throws {
    // rotation.md §7 items 1–2, against the library's own Lloyd–Max solution for N(0,1).
    let notes = [0.363380, 0.117482, 0.034548, 0.009501, 0.0025047, 0.0006442, 0.0001635, 0.0000412]
    for b in 1...8 {
      #expect(abs(Theory.lloydMax(bits: b) / notes[b - 1] - 1) < 2e-4, "b = \(b)")
      // The table has five significant digits (0.0000412 at b = 8: 1e-3 relative).
      #expect(abs(try ScalarCodebook.gaussian(bits: b).distortion / Theory.lloydMaxGaussian[b - 1] - 1) < 2e-3, "b = \(b)")
    }
    // Exact-d values at d = 128 (§1 table): 0.36089, 0.11600, 0.03397, 0.00931.
    for (b, v) in [(1, 0.36089), (2, 0.11600), (3, 0.03397), (4, 0.00931)] {
      #expect(abs(Theory.lloydMax(bits: b, dimension: 128) / v - 1) < 1e-3, "b = \(b)")
    }
    #expect(Theory.shannon(bits: 2) == 1.0 / 16)
  }

  @Test func predictionsReproduceTheNotesNumbers() throws {
    // a = 0 (E a² = 0), n = d large: the §0/§7 constants.
    var pairs = PairMoments()
    [0.0, 0.0].withUnsafeBufferPointer { pairs.add($0) }
    let c = TheoryContext(dimension: 1024, workingDimension: 1024, pairs: pairs, queryRangeSquared: 0)
    func value(_ spec: String, _ metric: String) throws -> Double {
      try #require(Theory.predictions(for: QuantizerSpec(spec), context: c).first { $0.metric == metric }).predicted
    }
    // EDEN unbiased vNMSE (§7 item 7) and its inner-product variance ≈ vNMSE at a = 0.
    #expect(abs(try value("eden:bits=1", "nmse") - 0.5708) < 1e-4)
    #expect(abs(try value("eden:bits=2", "nmse") - 0.1331) < 1e-4)
    #expect(abs(try value("eden:bits=2", "ip_var_d") - 0.1331) < 3e-4)
    // TurboQuant-Prod with orthogonal and Gaussian QJL (§7 items 18–19).
    #expect(abs(try value("turbo-prod:bits=2", "ip_var_d") - 0.207) < 2e-3)
    #expect(abs(try value("turbo-prod:bits=3", "ip_var_d") - 0.067) < 1e-3)
    #expect(abs(try value("turbo-prod:bits=2,qjl=gaussian", "ip_var_d") - 0.571) < 3e-3)
    #expect(abs(try value("turbo-prod:bits=4,qjl=gaussian", "ip_var_d") - 0.054) < 1e-3)
    // QJL alone at a = 0.6: π/2 − a² (Gaussian, §7 item 20: 1.21) and π/2 − 1 − a²/2 (orthogonal: 0.392).
    var p6 = PairMoments()
    [0.6, -0.6].withUnsafeBufferPointer { p6.add($0) }
    let c6 = TheoryContext(dimension: 128, workingDimension: 128, pairs: p6, queryRangeSquared: 0)
    let gaussian = Theory.predictions(for: try QuantizerSpec("qjl:qjl=gaussian"), context: c6).first { $0.metric == "ip_var_d" }!
    let orthogonal = Theory.predictions(for: try QuantizerSpec("qjl"), context: c6).first { $0.metric == "ip_var_d" }!
    #expect(abs(gaussian.predicted - 1.21) < 0.01)
    #expect(abs(orthogonal.predicted - 0.392) < 0.003)
    // Product formats: no prediction on real data.
    #expect(Theory.predictions(for: try QuantizerSpec("int:bits=4"), context: c).isEmpty)
  }

  /// The reduced run: 1,000 MiniLM base vectors (d = 384) and the 100 real queries, every rotation-based
  /// method at 1–4 bits. The tolerances are the notes' (TheoryValue.tolerance): 5 % on nmse and cosine
  /// loss, 10 % on d·Var, and bias within 10 % or 4 standard errors. The relative standard error of a
  /// mean over 1,000 vectors of per-vector errors whose spread at d = 384 is ~√(2/384) ≈ 7 % of the mean is
  /// 7 %/√1000 ≈ 0.2 %; of d·Var over 100 queries × 1,000 codes (clustered by code) ≈ √(2/1000) ≈ 4.5 %
  /// at worst: the 10 % tolerance is about two of them, plus the small-d corrections the formulas drop.
  /// Measured on the full set, every ratio lies within 0.95–1.05.
  @Test func reducedRunAgreesWithTheory() throws {
    let data = try #require(EmbeddedData.miniLMSmall, "embedded MiniLM-small not found")
    let base = try VectorIO.readVectors(at: data.base.path).slice(0..<1000)
    let queries = try VectorIO.readVectors(at: data.queries.path)
    let e = try Evaluation(base: base, queries: queries)
    var specs: [String] = ["qjl", "eden:bits=2,scale=biased"]
    for b in 1...4 { specs += ["eden:bits=\(b)", "turbo-mse:bits=\(b)", "turbo-prod:bits=\(b)", "rabitq:bits=\(b)"] }
    let parsed = try specs.map { try QuantizerSpec($0) }
    let outcome = try Bench.measure(parsed, on: e, requested: Set(parsed), options: BenchOptions(timing: false))
    #expect(outcome.rows.count == specs.count)
    for row in outcome.rows {
      #expect(!row.theory.isEmpty, "\(row.spec): no prediction")
      for t in row.theory {
        let m = row.measured(t.metric)
        #expect(t.agrees(m, standardError: row.result.ipBiasStandardError),
                "\(row.spec) \(t.metric): measured \(m), predicted \(t.predicted), ratio \(t.ratio(m) ?? .nan)")
      }
    }
  }
}
