import Foundation
import Testing
import VQ
import VQTestSupport
@testable import VQBench

@Suite struct BenchPlanTests {
  let registry = TestQuantizers.registry

  @Test func everyMethodAtEveryBitWidth() throws {
    let specs = try Bench.plan(registry: registry).map(\.description)
    #expect(specs == ["fp32", "test-scale", "test-shift", "test-negate",
                      "test-bits:bits=1", "test-bits:bits=2", "test-bits:bits=3", "test-bits:bits=4"])
    // The standard registry: whatever is registered, fp32 is there and every spec parses back.
    let standard = try Bench.plan()
    #expect(standard.contains(try QuantizerSpec("fp32")))
    for spec in standard { #expect(try QuantizerSpec(spec.description) == spec) }
  }

  @Test func filtersByMethodAndBits() throws {
    let specs = try Bench.plan(methods: ["test-bits", "fp32", "test-scale:factor=2"], bits: [2, 4, 9], registry: registry)
    #expect(specs.map(\.description) == ["test-bits:bits=2", "test-bits:bits=4", "fp32", "test-scale:factor=2.0"])
    #expect(throws: VQError.self) { try Bench.plan(methods: ["nosuch"], registry: registry) }
    #expect(throws: VQError.self) { try Bench.plan(methods: ["test-bits"], bits: [7], registry: registry) }
    #expect(throws: VQError.self) { try Bench.plan(bits: [0], registry: registry) }
  }

  @Test func splitsMethodListsAtSpecBoundaries() {
    #expect(Bench.splitMethodList("int,fp16") == ["int", "fp16"])
    #expect(Bench.splitMethodList("eden:bits=1,scale=biased,int,rabitq:bits=4") ==
            ["eden:bits=1,scale=biased", "int", "rabitq:bits=4"])
  }
}

@Suite struct ReportTests {
  static func result(_ spec: String, nmse: Double, recall: Double, bias: Double, bits: Double = 2.5) -> EvaluationResult {
    EvaluationResult(
      spec: spec, dimension: 8, count: 100, nmse: nmse, cosineLoss: nmse / 2, angleP99Degrees: 3,
      ipBias: bias, ipBiasStandardError: 0.01, ipVarianceTimesDimension: 0.5, recallAt10: recall,
      recallAt10Rerank: RerankRecall(r1: recall, r2: 1, r4: 1, r10: 1), bytesPerVector: 3, bitsPerCoordinate: bits)
  }

  @Test func jsonHasExactlyTheMetricKeysInOrder() throws {
    let r = Self.result("int:bits=4", nmse: 0.01, recall: 0.9, bias: -0.002)
    let text = r.jsonString()
    #expect(!text.contains("\n"))
    let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    let expected: Set<String> = [
      "spec", "dimension", "count", "nmse", "cosine_loss", "angle_p99_deg", "ip_bias", "ip_bias_se", "ip_var_d",
      "recall_at_10", "recall_at_10_rerank", "bytes_per_vector", "bits_per_coordinate"]
    #expect(Set(object.keys) == expected)
    #expect(EvaluationResult.jsonKeys == ["spec", "dimension", "count", "nmse", "cosine_loss", "angle_p99_deg", "ip_bias",
                                          "ip_bias_se", "ip_var_d", "recall_at_10", "recall_at_10_rerank",
                                          "bytes_per_vector", "bits_per_coordinate"])
    #expect(text.hasPrefix("{\"spec\":\"int:bits=4\",\"dimension\":8,\"count\":100,\"nmse\":0.01,"))
    #expect(text.contains("\"recall_at_10_rerank\":{\"1\":0.9,\"2\":1,\"4\":1,\"10\":1}"))
    #expect(try JSONDecoder().decode(EvaluationResult.self, from: Data(text.utf8)) == r)
  }

  @Test func nonFiniteValuesBecomeNull() throws {
    var r = Self.result("x", nmse: .nan, recall: 1, bias: .infinity)
    r.recallAt10Rerank.r4 = .nan
    let text = r.jsonString()
    #expect(text.contains("\"nmse\":null") && text.contains("\"ip_bias\":null") && text.contains("\"4\":null"))
    let back = try JSONDecoder().decode(EvaluationResult.self, from: Data(text.utf8))
    #expect(back.nmse.isNaN && back.ipBias.isNaN && back.recallAt10Rerank.r4.isNaN)
  }

  @Test func jsonStringsAreEscaped() {
    let v = JSONValue.object([("a\"b", .string("line\nnext\\ \u{1}")), ("n", .array([.int(1), .double(0.5), .null]))])
    #expect(v.rendered() == #"{"a\"b":"line\nnext\\ \u0001","n":[1,0.5,null]}"#)
  }

  @Test func tableMarksTheBestPerBitWidth() throws {
    let registry = TestQuantizers.registry
    let rows: [(spec: QuantizerSpec, result: EvaluationResult)] = [
      (try TestQuantizers.spec("test-bits:bits=2"), Self.result("test-bits:bits=2", nmse: 0.2, recall: 0.5, bias: -0.01)),
      (try TestQuantizers.spec("test-scale"), Self.result("test-scale", nmse: 0.1, recall: 0.4, bias: 0.02)),
      (try QuantizerSpec(parsing: "test-bits:bits=1", registry: registry),
       Self.result("test-bits:bits=1", nmse: 0.9, recall: 0.1, bias: 0.5, bits: 1.1)),
    ]
    let lines = TextReport.bench(rows).split(separator: "\n").map(String.init)
    // Grouped by bit width: bits=1 alone (nothing marked), then bits=2 and test-scale (2.5 → 2).
    let one = try #require(lines.first { $0.contains("test-bits:bits=1") })
    let two = try #require(lines.first { $0.contains("test-bits:bits=2") })
    let scale = try #require(lines.first { $0.contains("test-scale") })
    #expect(lines.firstIndex(of: one)! < lines.firstIndex(of: two)!)
    #expect(!one.contains("*"))
    #expect(two.contains("2.000e-01 ") && scale.contains("1.000e-01*"))  // lower nmse wins
    #expect(two.contains("0.500*") && scale.contains("0.400 "))  // higher recall wins
    #expect(two.contains("-1.00e-02*") && scale.contains("+2.00e-02 "))  // smaller |bias| wins
  }

  @Test func parsesCPUInfo() {
    let text = """
      processor\t: 0
      model name\t: AMD EPYC 7B13
      flags\t\t: fpu sse avx2 fma avx512f avx512_vpopcntdq
      processor\t: 1
      model name\t: other
      """
    let (model, flags) = MachineInfo.parseCPUInfo(text)
    #expect(model == "AMD EPYC 7B13")
    #expect(flags == MachineInfo.CPUFlags(avx2: true, avx512f: true, avx512vpopcntdq: true, fma: true))
    let (_, none) = MachineInfo.parseCPUInfo("flags : sse2\n")
    #expect(none == MachineInfo.CPUFlags(avx2: false, avx512f: false, avx512vpopcntdq: false, fma: false))
  }

  @Test func reportIsWrittenAndReadBack() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vq-report-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(at: folder) }
    let e = try Evaluation(base: TestData.unitSphere(count: 120, dimension: 8, seed: 2))
    let results = try Bench.run([try QuantizerSpec("fp32")], on: e)
    let report = BenchReport(dataset: DatasetInfo(name: "test", evaluation: e), elapsedSeconds: 0.5, results: results)
    let path = folder.appendingPathComponent("report.json").path
    try report.write(to: path)
    let back = try JSONDecoder().decode(BenchReport.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    #expect(back.results == results)
    #expect(back.dataset == DatasetInfo(name: "test", evaluation: e))
    #expect(back.dataset.baseCount == 108 && back.dataset.queryCount == 12)
    #expect(back.machine.cores >= 1 && back.build.configuration == (BuildInfo.current().configuration))
    // Only the report is in the folder: no temporary file left behind.
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["report.json"])
  }
}
