import Foundation
import Testing
import VQTestSupport
import VQData

/// Examples/spark/sharded_build.py on the embedded data with Spark in local mode (2 workers): the merged
/// index is byte-identical to one `vq index build`. Runs only where `python3 -c "import pyspark"` works and
/// Java is on the path (`.ci/run` installs pyspark from PyPI; the machine has OpenJDK 17).
@Suite(.enabled(if: SparkRecipe.isAvailable, "pyspark or java missing (pip install pyspark; Java 17+)"))
struct SparkRecipeTests {
  @Test("4 shards on Spark local[2], IVF with centroids trained once: merged file = single build, byte for byte")
  func shardedBuildOnSpark() throws {
    let data = try #require(EmbeddedData.miniLMSmall)
    let vq = try #require(VQBinary.url, "vq is not built next to the test bundle")
    let fixtures = try Fixtures()
    let merged = fixtures.path("spark.vqx")
    let run = try SparkRecipe.python([
      ExternalTool.repositoryRoot.appendingPathComponent("Examples/spark/sharded_build.py").path, "--vq", vq.path,
      "--base", data.base.path, "--spec", "rabitq:bits=2", "--shards", "4", "--ivf", "4",
      "--out", merged, "--workdir", fixtures.path("shards"),
    ])
    #expect(run.status == 0, "spark recipe failed: \(run.output)")
    let single = fixtures.path("single.vqx")
    let build = try VQBinary.run([
      "index", "build", "--spec", "rabitq:bits=2", "--base", data.base.path,
      "--centroids", fixtures.path("shards/centroids.fvecs"), "--out", single,
    ])
    #expect(build.status == 0, "stderr: \(build.stderr)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: merged)) == Data(contentsOf: URL(fileURLWithPath: single)))
  }
}

/// Runs the recipe with the machine's python3.
enum SparkRecipe {

  static let isAvailable: Bool = {
    (try? python(["-c", "import pyspark"]).status == 0) == true && (try? shell(["java", "-version"]).status == 0) == true
  }()

  static func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
    try ExternalTool.python(arguments, mergingStandardError: true)
  }

  static func shell(_ arguments: [String]) throws -> (status: Int32, output: String) {
    try ExternalTool.run(arguments, mergingStandardError: true)
  }
}
