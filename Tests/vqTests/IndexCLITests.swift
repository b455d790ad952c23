import Foundation
import Testing
import VQ
import VQData

/// `vq index build|search|info|add|delete|compact` through the real binary, on the embedded data.
@Suite("vq index")
struct IndexCLITests {
  static let base = EmbeddedData.miniLMSmall!.base.path
  static let queries = EmbeddedData.miniLMSmall!.queries.path
  static let truth = EmbeddedData.miniLMSmall!.groundTruth.path

  static func json(_ text: String) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not one JSON object: \(text)")
  }

  @Test("build → search --json has exactly the documented keys; recall after re-rank ×10 ≥ 0.95 for rabitq:bits=1")
  func buildAndSearch() throws {
    let fixtures = try Fixtures()
    let out = fixtures.path("r1.vqx")
    let build = try VQBinary.run(["index", "build", "--spec", "rabitq:bits=1", "--base", Self.base, "--out", out])
    #expect(build.status == 0, "stderr: \(build.stderr)")
    let search = try VQBinary.run([
      "index", "search", out, "--queries", Self.queries, "--groundtruth", Self.truth, "--k", "10", "--rerank", "10",
      "--threads", "1", "--json",
    ])
    #expect(search.status == 0, "stderr: \(search.stderr)")
    let object = try Self.json(search.stdout)
    #expect(Set(object.keys) == ["recall_at_k", "qps", "k", "rerank", "nprobe", "threads", "bytes_per_vector", "ids"])
    let recall = try #require(object["recall_at_k"] as? Double)
    #expect(recall >= 0.95, "recall@10 after re-rank ×10: \(recall)")
    let ids = try #require(object["ids"] as? [[Int]])
    #expect(ids.count == 100 && ids.allSatisfy { $0.count == 10 })
    #expect(object["bytes_per_vector"] as? Int == 56)

    // mmap'ed search answers the same ids.
    let mapped = try VQBinary.run(["index", "search", out, "--queries", Self.queries, "--rerank", "10", "--mmap", "--json"])
    #expect(try Self.json(mapped.stdout)["ids"] as? [[Int]] == ids)
    // Without ground truth there is no recall key.
    let plain = try Self.json(VQBinary.run(["index", "search", out, "--queries", Self.queries, "--json"]).stdout)
    #expect(plain["recall_at_k"] == nil)
  }

  @Test("IVF build, info, delete (gone from results), add, compact")
  func lifecycle() throws {
    let fixtures = try Fixtures()
    let out = fixtures.path("ivf.vqx")
    let build = try VQBinary.run(["index", "build", "--spec", "rabitq:bits=2", "--base", Self.base, "--out", out, "--ivf", "8", "--limit", "1500"])
    #expect(build.status == 0, "stderr: \(build.stderr)")
    let info = try Self.json(VQBinary.run(["index", "info", out, "--verify", "--json"]).stdout)
    #expect(info["count"] as? Int == 1500 && info["lists"] as? Int == 8 && info["spec"] as? String == "rabitq:bits=2")
    // 96 code bytes + 4 side values + the centre correction; the same figure as build's and search's.
    #expect(info["bytes_per_vector"] as? Int == 116)
    let plain = fixtures.path("plain.vqx")
    let plainBuild = try VQBinary.run(["index", "build", "--spec", "rabitq:bits=2", "--base", Self.base, "--out", plain, "--ivf", "8",
                                       "--limit", "1500", "--no-centre-corrections", "--json"])
    #expect(plainBuild.status == 0, "stderr: \(plainBuild.stderr)")
    #expect(try Self.json(plainBuild.stdout)["bytes_per_vector"] as? Int == 112)
    #expect(try Self.json(VQBinary.run(["index", "info", plain, "--json"]).stdout)["bytes_per_vector"] as? Int == 112)

    let search = { () throws -> [[Int]] in
      let r = try VQBinary.run(["index", "search", out, "--queries", Self.queries, "--rerank", "4", "--nprobe", "8", "--json"])
      #expect(r.status == 0, "stderr: \(r.stderr)")
      return try #require(Self.json(r.stdout)["ids"] as? [[Int]])
    }
    let before = try search()
    let victims = Array(Set(before.prefix(5).map { $0[0] })).sorted()
    let delete = try VQBinary.run(["index", "delete", out, "--ids", victims.map(String.init).joined(separator: ",")])
    #expect(delete.status == 0, "stderr: \(delete.stderr)")
    let after = try search()
    #expect(after.allSatisfy { hits in hits.allSatisfy { !victims.contains($0) } })

    let extra = fixtures.path("extra.fvecs")
    let all = try VectorIO.readVectors(at: Self.base)
    try VectorIO.writeVectors(all.slice(1500..<1600), to: extra)
    let add = try VQBinary.run(["index", "add", out, "--vectors", extra])
    #expect(add.status == 0 && add.stdout.contains("added 100"), "stderr: \(add.stderr)")
    let compact = try VQBinary.run(["index", "compact", out])
    #expect(compact.status == 0, "stderr: \(compact.stderr)")
    let final = try Self.json(VQBinary.run(["index", "info", out, "--json"]).stdout)
    #expect(final["count"] as? Int == 1600 - victims.count && final["deleted"] as? Int == 0)
    #expect(try search().allSatisfy { hits in hits.allSatisfy { !victims.contains($0) } })
  }

  @Test("train once, build 3 shards, merge: byte-identical to one build with the same centroids; a missing shard is refused")
  func shardedBuild() throws {
    let fixtures = try Fixtures()
    let centroids = fixtures.path("centroids.fvecs")
    let train = try VQBinary.run(["index", "train", "--base", Self.base, "--ivf", "4", "--out", centroids])
    #expect(train.status == 0, "stderr: \(train.stderr)")
    let single = fixtures.path("single.vqx")
    let common = ["--spec", "rabitq:bits=1", "--base", Self.base, "--centroids", centroids]
    #expect(try VQBinary.run(["index", "build"] + common + ["--out", single]).status == 0)
    var shards: [String] = []
    for i in 0..<3 {
      let path = fixtures.path("shard\(i).vqx")
      let r = try VQBinary.run(["index", "build"] + common + ["--shard", "\(i)/3", "--out", path])
      #expect(r.status == 0, "stderr: \(r.stderr)")
      shards.append(path)
    }
    let merged = fixtures.path("merged.vqx")
    let merge = try VQBinary.run(["index", "merge", shards[2], shards[0], shards[1], "--out", merged])
    #expect(merge.status == 0, "stderr: \(merge.stderr)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: merged)) == Data(contentsOf: URL(fileURLWithPath: single)))
    let partial = fixtures.path("partial.vqx")
    let refused = try VQBinary.run(["index", "merge", shards[0], shards[2], "--out", partial])
    #expect(refused.status == 2 && refused.stderr.contains("shard 1/3 is missing"), "\(refused.stderr)")
    #expect(!FileManager.default.fileExists(atPath: partial))
  }

  @Test("bad input: exit 2, 'error:' naming the problem, and no output file")
  func badInput() throws {
    let fixtures = try Fixtures()
    let good = fixtures.path("good.vqx")
    #expect(try VQBinary.run(["index", "build", "--spec", "sign", "--base", Self.base, "--out", good, "--limit", "200"]).status == 0)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
    let truncated = try fixtures.write("truncated.vqx", Array(bytes.prefix(bytes.count - 100)))
    var flippedBytes = Array(bytes)
    flippedBytes[flippedBytes.count - 300] ^= 1
    let flipped = try fixtures.write("flipped.vqx", flippedBytes)
    let small = try fixtures.write("small.fvecs", Fixtures.fvecs([[1, 2, 3]]))
    let missingFolderOut = fixtures.path("no/such/folder/x.vqx")
    let cases: [(name: String, arguments: [String], message: String, output: String?)] = [
      ("unknown spec", ["index", "build", "--spec", "nope:bits=2", "--base", Self.base, "--out", fixtures.path("a.vqx")], "nope", fixtures.path("a.vqx")),
      ("out-of-range bits", ["index", "build", "--spec", "rabitq:bits=12", "--base", Self.base, "--out", fixtures.path("b.vqx")], "bits", fixtures.path("b.vqx")),
      ("missing folder", ["index", "build", "--spec", "sign", "--base", Self.base, "--out", missingFolderOut], "no/such/folder", missingFolderOut),
      ("more lists than vectors", ["index", "build", "--spec", "sign", "--base", small, "--out", fixtures.path("c.vqx"), "--ivf", "4"], "lists", fixtures.path("c.vqx")),
      ("truncated index", ["index", "search", truncated, "--queries", Self.queries], "truncated", nil),
      ("bad checksum", ["index", "search", flipped, "--queries", Self.queries], "checksum", nil),
      ("dimension mismatch", ["index", "search", good, "--queries", small], "dimension", nil),
      ("k = 0", ["index", "search", good, "--queries", Self.queries, "--k", "0"], "--k", nil),
      ("k > count", ["index", "search", good, "--queries", Self.queries, "--k", "500"], "k = 500", nil),
      ("foreign file", ["index", "info", Self.base], "not a swift-vq index", nil),
      ("unknown id", ["index", "delete", good, "--ids", "100000"], "id 100000", nil),
      ("bad id list", ["index", "delete", good, "--ids", "3,x"], "'x'", nil),
      ("unknown metric", ["index", "build", "--spec", "sign", "--base", Self.base, "--out", fixtures.path("d.vqx"), "--metric", "hamming"], "metric", fixtures.path("d.vqx")),
    ]
    for c in cases {
      let out = try VQBinary.run(c.arguments)
      #expect(out.status == 2, "\(c.name): exit \(out.status), stderr: \(out.stderr)")
      #expect(out.stderr.hasPrefix("error: ") && out.stderr.contains(c.message), "\(c.name): \(out.stderr)")
      if let output = c.output { #expect(!FileManager.default.fileExists(atPath: output), "\(c.name) left \(output)") }
    }
    // A failed delete leaves the index as it was.
    #expect(try Data(contentsOf: URL(fileURLWithPath: good)) == bytes)
  }
}
