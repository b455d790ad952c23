import Foundation
import Testing
import VQ
import VQData

/// `vq export` and `vq import` through the real binary (uses `VQBinary` and `Fixtures` from
/// CLITests.swift), on the embedded MiniLM-small data.
@Suite("vq export / import")
struct ExportCLITests {
  static let base = EmbeddedData.miniLMSmall!.base.path
  static let queries = EmbeddedData.miniLMSmall!.queries.path

  static func searchIDs(_ index: String, nprobe: Int = 1) throws -> [[Int]] {
    let r = try VQBinary.run(["index", "search", index, "--queries", queries, "--nprobe", String(nprobe), "--json"])
    #expect(r.status == 0, "stderr: \(r.stderr)")
    let object = try #require(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    return try #require(object["ids"] as? [[Int]])
  }

  @Test("fp32 index → FAISS flat → vq import --spec fp32 answers the same ids; custom ids survive")
  func faissRoundTrip() throws {
    let fixtures = try Fixtures()
    let index = fixtures.path("a.vqx")
    #expect(try VQBinary.run(["index", "build", "--spec", "fp32", "--base", Self.base, "--out", index, "--metric", "cosine"]).status == 0)
    // Deleting ids makes them non-dense: the FAISS IDMap carries them.
    #expect(try VQBinary.run(["index", "delete", index, "--ids", "3,17"]).status == 0)
    let faiss = fixtures.path("a.faissindex")
    let export = try VQBinary.run(["export", index, "--format", "faiss", "--out", faiss])
    #expect(export.status == 0, "stderr: \(export.stderr)")
    let back = fixtures.path("b.vqx")
    let imported = try VQBinary.run(["import", faiss, "--spec", "fp32", "--out", back])
    #expect(imported.status == 0, "stderr: \(imported.stderr)")
    #expect(imported.stdout.contains("metric cosine"), "\(imported.stdout)")
    #expect(try Self.searchIDs(back) == Self.searchIDs(index))
    // The metric of a FAISS file cannot be overridden.
    let wrong = try VQBinary.run(["import", faiss, "--spec", "fp32", "--out", fixtures.path("c.vqx"), "--metric", "l2"])
    #expect(wrong.status == 2 && wrong.stderr.hasPrefix("error: "))
    #expect(!FileManager.default.fileExists(atPath: fixtures.path("c.vqx")))
  }

  @Test("--format fvecs|npy: decoded vectors in id order (fp32: bit-exact base rows); an ids sidecar after deletes")
  func decodedVectors() throws {
    let fixtures = try Fixtures()
    let index = fixtures.path("a.vqx")
    #expect(try VQBinary.run(["index", "build", "--spec", "fp32", "--base", Self.base, "--out", index, "--ivf", "4", "--limit", "500"]).status == 0)
    let original = try VectorIO.readVectors(at: Self.base).slice(0..<500)
    for ext in ["fvecs", "npy"] {
      let out = fixtures.path("v.\(ext)")
      let r = try VQBinary.run(["export", index, "--format", ext, "--out", out])
      #expect(r.status == 0, "stderr: \(r.stderr)")
      // fp32 decodes exactly; IVF adds the centroid back to the residual, which rounds.
      let decoded = try VectorIO.readVectors(at: out)
      #expect(decoded.count == 500)
      var worst: Float = 0
      for (a, b) in zip(decoded.values, original.values) { worst = max(worst, abs(a - b)) }
      #expect(worst < 1e-6, "largest difference \(worst)")
      #expect(!FileManager.default.fileExists(atPath: fixtures.path("v.ids.ivecs")))
    }
    #expect(try VQBinary.run(["index", "delete", index, "--ids", "0,499"]).status == 0)
    let out = fixtures.path("w.fvecs")
    #expect(try VQBinary.run(["export", index, "--format", "fvecs", "--out", out]).status == 0)
    let ids = try VectorIO.readIntVectors(at: fixtures.path("w.ids.ivecs"))
    #expect(ids.values == (1..<499).map { Int32($0) })
    #expect(try VectorIO.readVectors(at: out).count == 498)
  }

  @Test("import from vectors builds like 'vq index build'")
  func importVectors() throws {
    let fixtures = try Fixtures()
    let a = fixtures.path("a.vqx"), b = fixtures.path("b.vqx")
    #expect(try VQBinary.run(["index", "build", "--spec", "rabitq:bits=1", "--base", Self.base, "--out", a]).status == 0)
    #expect(try VQBinary.run(["import", Self.base, "--spec", "rabitq:bits=1", "--out", b]).status == 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b)))
  }

  @Test("bad input → 'error:' and exit 2, no output file")
  func badInput() throws {
    let fixtures = try Fixtures()
    let index = fixtures.path("a.vqx")
    #expect(try VQBinary.run(["index", "build", "--spec", "rabitq:bits=2", "--base", Self.base, "--out", index, "--limit", "200"]).status == 0)
    #expect(try VQBinary.run(["index", "build", "--spec", "fp32", "--base", Self.base, "--out", fixtures.path("fp32.vqx"), "--limit", "100"]).status == 0)
    let out = fixtures.path("x.out")
    let cases: [[String]] = [
      ["export", index, "--format", "hnsw", "--out", out],
      ["export", index, "--format", "faiss", "--faiss-index", "ivf-flat", "--out", out],  // a flat index
      ["export", index, "--format", "faiss", "--faiss-index", "pq", "--out", out],
      ["export", fixtures.path("fp32.vqx"), "--format", "faiss", "--faiss-index", "rabitq", "--out", out],  // not rabitq
      ["export", index, "--format", "faiss", "--out", fixtures.path("missing/x.faissindex")],
      ["export", index, "--format", "fvecs", "--out", out],  // extension does not match
      ["export", fixtures.path("nothing.vqx"), "--format", "faiss", "--out", out],
      ["import", index, "--spec", "fp32", "--out", out],  // a .vqx is not a FAISS file
      ["import", Self.base, "--spec", "nonsense", "--out", out],
    ]
    for arguments in cases {
      let r = try VQBinary.run(arguments)
      #expect(r.status == 2, "\(arguments): status \(r.status)")
      #expect(r.stderr.hasPrefix("error: "), "\(arguments): \(r.stderr)")
      #expect(!FileManager.default.fileExists(atPath: out), "\(arguments) left \(out)")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: fixtures.path(".")).sorted() == ["a.vqx", "fp32.vqx"])
  }
}
