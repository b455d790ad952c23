import Testing
import VQData

@Suite struct EmbeddedDataTests {
  @Test func miniLMSmallIsFound() throws {
    let set = try #require(EmbeddedData.miniLMSmall)
    #expect(set.base.lastPathComponent == "base.fvecs")
  }
}
