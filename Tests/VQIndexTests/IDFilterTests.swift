import Testing
import VQ
@testable import VQIndex

@Suite("IDFilter and SearchParameters")
struct IDFilterTests {
  @Test("an allow-list holds exactly the ids inserted, across word boundaries")
  func membership() {
    let allowed: [UInt64] = [0, 5, 63, 64, 127, 1000]
    let filter = IDFilter(allowing: allowed)
    #expect(filter.count == allowed.count)
    for id in UInt64(0)...1100 {
      #expect(filter.contains(id) == allowed.contains(id), "id \(id)")
    }
  }

  @Test("k = 0, negative rerank and nprobe = 0 are refused, naming the parameter")
  func validation() {
    #expect(throws: VQError.self) { try SearchParameters(k: 0).validate() }
    #expect(throws: VQError.self) { try SearchParameters(k: 1, rerank: -1).validate() }
    #expect(throws: VQError.self) { try SearchParameters(k: 1, nprobe: 0).validate() }
    do {
      try SearchParameters(k: 0).validate()
    } catch {
      #expect("\(error)".contains("k"))
    }
  }
}
