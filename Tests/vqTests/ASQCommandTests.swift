import Foundation
import Testing
import VQ

/// `vq asq` on the real binary (uses `VQBinary` and `Fixtures` from CLITests.swift).
@Suite(.serialized) struct ASQCommandTests {
  static func float32Bytes(_ values: [Float]) -> [UInt8] { values.flatMap { Fixtures.le($0.bitPattern) } }

  @Test("a 1-D .npy is one vector: JSON has exactly vnmse, objective, levels, seconds; values match the library")
  func oneDimensionalNPY() throws {
    let fixtures = try Fixtures()
    let x = Fixtures.vectors(1, 500, seed: 3)[0]
    let path = try fixtures.write("x.npy", Fixtures.npy(descr: "<f4", shape: [500], payload: Self.float32Bytes(x)))
    let out = try VQBinary.run(["asq", "--input", path, "--levels", "8", "--json"])
    #expect(out.status == 0, "stderr: \(out.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
    #expect(Set(object.keys) == ["vnmse", "objective", "levels", "seconds"])
    let levels = try #require(object["levels"] as? [Double])
    let expected = try ASQ.exactLevels(x, levels: 8)
    // The levels are data points (Floats); the JSON text carries ~16 significant digits.
    #expect(levels.map { Float($0) } == expected.levels.map { Float($0) })
    let vnmse = try #require((object["vnmse"] as? NSNumber)?.doubleValue)
    #expect(Swift.abs(vnmse - ASQObjective.vNMSE(x, levels: expected.levels)) <= 1e-12 * vnmse)
    let objective = try #require((object["objective"] as? NSNumber)?.doubleValue)
    #expect(Swift.abs(objective - ASQObjective.sumOfVariances(x, levels: expected.levels)) <= 1e-9 * objective)
  }

  @Test("several .fvecs vectors, --approx with polish and --weights (one vector broadcast): objective summed over vectors")
  func fvecsApproxWeighted() throws {
    let fixtures = try Fixtures()
    let rows = Fixtures.vectors(3, 256, seed: 4)
    let input = try fixtures.write("x.fvecs", Fixtures.fvecs(rows))
    let weights = try fixtures.write("w.fvecs", Fixtures.fvecs([(0..<256).map { Float(1 + $0 % 4) }]))
    let out = try VQBinary.run(["asq", "--input", input, "--levels", "4", "--approx", "200", "--polish", "2",
                                "--weights", weights, "--json"])
    #expect(out.status == 0, "stderr: \(out.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
    let w = (0..<256).map { Double(1 + $0 % 4) }
    var total = 0.0
    for row in rows {
      let solution = try ASQ.approximateLevels(row, weights: w, levels: 4, gridPoints: 200, polishSweeps: 2)
      total += ASQObjective.sumOfVariances(row, levels: solution.levels, weights: w)
    }
    let objective = try #require((object["objective"] as? NSNumber)?.doubleValue)
    #expect(Swift.abs(objective - total) <= 1e-9 * total)
    #expect((object["levels"] as? [Double])?.count == 4)
  }

  @Test("bad input prints error: and exits 2", arguments: [
    (["--levels", "1"], "--levels"),
    (["--levels", "4", "--approx", "1"], "--approx"),
    (["--levels", "4", "--polish", "3"], "--polish"),
  ])
  func badInput(_ extra: [String], _ mentions: String) throws {
    let fixtures = try Fixtures()
    let path = try fixtures.write("x.fvecs", Fixtures.fvecs(Fixtures.vectors(2, 8, seed: 5)))
    let out = try VQBinary.run(["asq", "--input", path] + extra)
    #expect(out.status == 2)
    #expect(out.stderr.hasPrefix("error: ") && out.stderr.contains(mentions), "stderr: \(out.stderr)")
  }

  @Test("missing file, NaN value, weights of the wrong dimension: error: naming the problem, exit 2")
  func badFiles() throws {
    let fixtures = try Fixtures()
    let missing = try VQBinary.run(["asq", "--input", fixtures.path("none.npy"), "--levels", "4"])
    #expect(missing.status == 2 && missing.stderr.hasPrefix("error: ") && missing.stderr.contains("none.npy"))
    let nan = try fixtures.write("nan.fvecs", Fixtures.fvecs([[1, .nan, 3]]))
    let out = try VQBinary.run(["asq", "--input", nan, "--levels", "4"])
    #expect(out.status == 2 && out.stderr.contains("column 1"), "stderr: \(out.stderr)")
    let x = try fixtures.write("x.fvecs", Fixtures.fvecs([[1, 2, 3]]))
    let w = try fixtures.write("w.fvecs", Fixtures.fvecs([[1, 2]]))
    let mismatch = try VQBinary.run(["asq", "--input", x, "--levels", "4", "--weights", w])
    #expect(mismatch.status == 2 && mismatch.stderr.contains("dimension"), "stderr: \(mismatch.stderr)")
  }
}
