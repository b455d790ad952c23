import Testing
import VQBench

@Suite struct VersionTests {
  @Test func versionIsSemantic() { #expect(VQBenchVersion.version.split(separator: ".").count == 3) }
}
