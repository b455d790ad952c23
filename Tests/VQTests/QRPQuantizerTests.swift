import Foundation
import RealModule
import Testing
import VQ
import VQData
import VQTestSupport

/// The `qrp` quantizer: spec, determinism, decode, and the cosine estimates on real embeddings.
@Suite struct QRPQuantizerTests {
  static func dot(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
    var s = 0.0
    for (u, v) in zip(a, b) { s += Double(u) * Double(v) }
    return s
  }

  @Test("spec: defaults, canonical round trip, ranges refused with the allowed values")
  func spec() throws {
    let plain = try QuantizerSpec("qrp")
    #expect(plain.description == "qrp:bits=2")
    #expect(plain.int("projections") == 0 && plain.string("estimator") == "mle" && plain.uint64("seed") == 42)
    for text in ["qrp:projections=128,bits=3", "QRP: bits = 1 , estimator=Normalized", "qrp:bits=6,seed=7,estimator=linear"] {
      let s = try QuantizerSpec(text)
      #expect(try QuantizerSpec(s.description) == s)
      #expect(try QuantizerSpec(s.description).description == s.description)
    }
    #expect(try QuantizerSpec("qrp:projections=128,bits=3").description == "qrp:projections=128,bits=3")
    for (text, mentions) in [("qrp:bits=7", ["bits=7", "out of range", "1...6"]), ("qrp:bits=0", ["bits=0", "1...6"]),
                             ("qrp:projections=-1", ["projections=-1"]), ("qrp:estimator=median", ["estimator=median", "mle|normalized|linear"])] {
      do { _ = try QuantizerSpec(text); Issue.record("accepted \(text)") } catch let e as VQError {
        for m in mentions { #expect(e.description.contains(m), "\(text): \(e.description)") }
      }
    }
    let q = try QuantizerRegistry.standard.makeQuantizer("qrp:bits=3", dimension: 48)
    #expect(q.layout == CodeLayout(bytesPerCode: 18, sideFields: ["norm"]))   // k = d = 48 projections · 3 bits
    let k = try QuantizerRegistry.standard.makeQuantizer("qrp:projections=100,bits=4", dimension: 48)
    #expect(k.layout.bytesPerCode == 50)
  }

  @Test("codes are deterministic for a spec and change with the seed; codes are the Lloyd–Max cells of G·x/‖x‖")
  func deterministicCodes() throws {
    let x = TestData.gaussian(count: 20, dimension: 40, seed: 9)
    let a = try QuantizerRegistry.standard.makeQuantizer("qrp:bits=2", dimension: 40)
    let b = try QuantizerRegistry.standard.makeQuantizer("qrp:bits=2", dimension: 40)
    let c = try QuantizerRegistry.standard.makeQuantizer("qrp:bits=2,seed=43", dimension: 40)
    let codesA = try a.encode(x)
    #expect(codesA == (try b.encode(x)))
    #expect(codesA != (try c.encode(x)))
    // Scaling a vector changes its norm, not its cells.
    let scaled = try VectorBatch(dimension: 40, values: x.values.map { $0 * 3.5 })
    let codesScaled = try a.encode(scaled)
    for i in 0..<x.count {
      #expect(codesScaled.code(i) == codesA.code(i))
      #expect(abs(codesScaled.side("norm")[i] / codesA.side("norm")[i] - 3.5) < 1e-5)
    }
    // Non-finite input and wrong dimensions are errors, not traps.
    let bad = try VectorBatch(dimension: 40, values: [Float](repeating: .nan, count: 40))
    #expect(throws: VQError.self) { try a.encode(bad) }
    #expect(throws: VQError.self) { try a.prepare(query: [Float](repeating: 1, count: 39)) }
  }

  @Test("decode keeps the norm; cos(x̂, x) ≈ 1/√(1 + (d − 1)/(k·E[Q²])) on Gaussian data")
  func decodeDirection() throws {
    let d = 64, k = 256
    let q = try QuantizerRegistry.standard.makeQuantizer("qrp:projections=\(k),bits=2", dimension: d)
    let x = TestData.gaussian(count: 200, dimension: d, seed: 4)
    let y = try q.decode(q.encode(x))
    var cosines = RunningStatistics()
    for i in 0..<x.count {
      let u = x.values[(i * d)..<((i + 1) * d)], v = y.values[(i * d)..<((i + 1) * d)]
      let nu = Self.dot(u, u).squareRoot(), nv = Self.dot(v, v).squareRoot()
      #expect(abs(nv / nu - 1) < 1e-5)
      cosines.add(Self.dot(u, v) / (nu * nv))
    }
    let secondMoment = try QRPCosineEstimator.cached(bits: 2).secondMoment
    let predicted = 1 / (1 + Double(d - 1) / (Double(k) * secondMoment)).squareRoot()
    // 200 vectors, SE of the mean cosine ≈ 0.002 (sd ≈ 0.03); the prediction is first order in 1/k: ±0.02.
    #expect(abs(cosines.mean - predicted) < 3 * cosines.standardError + 0.02, "\(cosines.mean) ± \(cosines.standardError) vs \(predicted)")
  }

  @Test("MiniLM embeddings: MLE estimates of ⟨q, x⟩ track the exact ones with about the Fisher variance")
  func realData() throws {
    let set = try #require(EmbeddedData.miniLMSmall)
    let base = try VectorIO.readVectors(at: set.base.path), queries = try VectorIO.readVectors(at: set.queries.path)
    let d = base.dimension, baseCount = 150, queryCount = 8
    let baseRows = try VectorBatch(dimension: d, values: Array(base.values[0..<(baseCount * d)]))
    for bits in [1, 2] {
      var mleError = RunningStatistics(), linearBias = RunningStatistics(), scaledError = RunningStatistics()
      var exactValues: [Double] = [], estimates: [Double] = []
      var predictedNoise = 0.0
      let mle = try QuantizerRegistry.standard.makeQuantizer("qrp:bits=\(bits)", dimension: d)
      let linear = try QuantizerRegistry.standard.makeQuantizer("qrp:bits=\(bits),estimator=linear", dimension: d)
      let codes = try mle.encode(baseRows)
      #expect(codes == (try linear.encode(baseRows)))
      let estimator = try QRPCosineEstimator.cached(bits: bits)
      for qi in 0..<queryCount {
        let query = Array(queries.values[(qi * d)..<((qi + 1) * d)])
        let a = mle.estimateInnerProducts(try mle.prepare(query: query), codes: codes)
        let l = linear.estimateInnerProducts(try linear.prepare(query: query), codes: codes)
        let qn = Self.dot(query[...], query[...]).squareRoot()
        for i in 0..<baseCount {
          let row = baseRows.values[(i * d)..<((i + 1) * d)]
          let xn = Self.dot(row, row).squareRoot()
          let exact = Self.dot(query[...], row)
          let scale = qn * xn
          let rho = exact / scale
          mleError.add((Double(a[i]) - exact) / scale)
          linearBias.add((Double(l[i]) - exact) / scale)
          // Squared error in units of the Fisher variance 1/(k·I(ρ)): mean ≈ 1 for an efficient estimator.
          let e = (Double(a[i]) - exact) / scale
          let fisherVariance = estimator.asymptoticVariance(rho: rho, projections: d)
          scaledError.add(e * e / fisherVariance)
          predictedNoise += fisherVariance * scale * scale
          exactValues.append(exact); estimates.append(Double(a[i]))
        }
      }
      // 1 200 pairs sharing one projection matrix per query, so the errors are not independent: the
      // statements are sanity bounds, not 3-SE tests.
      let n = Double(exactValues.count)
      let sumExact: Double = exactValues.reduce(0, +), sumEstimates: Double = estimates.reduce(0, +)
      let mx = sumExact / n, my = sumEstimates / n
      var sxy = 0.0, sxx = 0.0, syy = 0.0
      for (u, v) in zip(exactValues, estimates) { sxy += (u - mx) * (v - my); sxx += (u - mx) * (u - mx); syy += (v - my) * (v - my) }
      // Correlation of estimates with the exact values: what the Fisher noise predicts, √(Var exact/(Var exact +
      // mean 1/(kI)·‖q‖²‖x‖²)) (0.75 at 1 bit, 0.84 at 2 bits here: MiniLM cosines span a narrow range).
      let predicted = (sxx / (sxx + predictedNoise)).squareRoot()
      let correlation = sxy / (sxx * syy).squareRoot()
      #expect(correlation > predicted - 0.05, "b=\(bits): correlation \(correlation), Fisher predicts \(predicted)")
      #expect(scaledError.mean > 0.6 && scaledError.mean < 1.6, "b=\(bits): normalised squared error \(scaledError.mean)")
      #expect(abs(mleError.mean) < 0.05, "b=\(bits): mean cosine error \(mleError.mean)")
      // The linear estimator shrinks toward 0 ((2/π)·arcsin ρ at 1 bit): its mean error has the sign of −ρ.
      #expect(linearBias.mean * sumExact < 0, "b=\(bits): linear estimator not shrunk toward 0")
    }
  }
}
