import Foundation
import Testing
import VQTestSupport
import VQ
import VQBench
import VQData

/// swift-vq against FAISS (the reference peer) on the embedded MiniLM-small data: recall@10 of the
/// methods both implement must be within 0.02 of FAISS's, or better (issue 4).
///
/// Runs only where `python3 -c "import faiss"` works (`.ci/run` installs faiss-cpu from PyPI). FAISS is
/// driven by the project's own `Tools/faiss_peer.py`. Both sides are deterministic (fixed seeds), so the
/// comparison gives the same answer on every run; 100 queries × 10 neighbours = 1,000 hits per method, so
/// a recall's sampling standard error is about 0.01 — the 0.02 margin is two of those.
@Suite(.enabled(if: FAISSPeer.isAvailable, "faiss is not importable by python3 (pip install faiss-cpu)"))
struct FAISSComparisonTests {
  /// Our spec and the FAISS factory string of the same method (FAISS's `RR` is a dense random rotation;
  /// ours is the default randomized Hadamard). `@qb=N` sets FAISS's RaBitQ query bits to ours.
  static let pairs: [(ours: String, faiss: String)] = [
    ("rabitq:bits=1,query-bits=4", "RR,RaBitQ@qb=4"),
    ("rabitq:bits=4,query-bits=8", "RR,RaBitQ4@qb=8"),
    ("turbo-mse:bits=2", "RR,SQtqmse2"),
    ("turbo-mse:bits=4", "RR,SQtqmse4"),
    ("eden:bits=2", "RR,EDEN2"),
    ("eden:bits=4", "RR,EDEN4"),
  ]

  @Test func recallAt10IsWithinTwoHundredthsOfFAISS() throws {
    let data = try #require(EmbeddedData.miniLMSmall)
    let faiss = try FAISSPeer.recallAt10(factories: Self.pairs.map(\.faiss), data: data.base.deletingLastPathComponent())
    let evaluation = try Evaluation(
      base: VectorIO.readVectors(at: data.base.path), queries: VectorIO.readVectors(at: data.queries.path),
      groundTruth: VectorIO.readIntVectors(at: data.groundTruth.path))
    var compared = 0
    for (ours, theirs) in Self.pairs {
      guard let spec = try? QuantizerSpec(ours) else { continue }   // a method not registered yet
      let result = try evaluation.run(spec)
      let reference = try #require(faiss[theirs], "FAISS gave no result for \(theirs)")
      print("faiss-comparison \(ours): recall@10 \(result.recallAt10) vs FAISS \(theirs) \(reference)")
      #expect(result.recallAt10 >= reference - 0.02, "\(ours) recall@10 \(result.recallAt10) < FAISS \(theirs) \(reference) − 0.02")
      compared += 1
    }
    #expect(compared > 0, "no method of the comparison is registered")
  }
}

/// Runs `Tools/faiss_peer.py` with the machine's python3.
enum FAISSPeer {

  static let isAvailable: Bool = {
    (try? ExternalTool.python(["-c", "import faiss"]).status) == 0
  }()

  static func recallAt10(factories: [String], data: URL) throws -> [String: Double] {
    let script = ExternalTool.repositoryRoot.appendingPathComponent("Tools/faiss_peer.py").path
    let (status, output) = try ExternalTool.python([script, "--data", data.path] + factories)
    guard status == 0 else { throw VQError.invalidArgument("faiss_peer.py failed (\(status)): \(output)") }
    let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
    let results = json?["results"] as? [String: [String: Any]] ?? [:]
    return results.compactMapValues { $0["recall_at_10"] as? Double }
  }

}
