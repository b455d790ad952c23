import Testing
import VQ

@Suite struct SpecTests {
  @Test func canonicalDescriptionRoundTripsForEveryMethod() throws {
    for method in QuantizerRegistry.standard.methods {
      for spec in method.specsForEveryBitWidth() {
        let again = try QuantizerSpec(spec.description)
        #expect(again == spec, "\(spec.description)")
        #expect(again.description == spec.description)
      }
    }
  }

  @Test func unknownNameIsRejectedWithTheKnownNames() {
    #expect(throws: VQError.self) { try QuantizerSpec("nosuch:bits=2") }
    do { _ = try QuantizerSpec("nosuch") } catch let e as VQError {
      #expect(e.description.contains("unknown quantizer 'nosuch'"))
      #expect(e.description.contains("fp32"))
    } catch { Issue.record("unexpected error \(error)") }
  }

  @Test func keysOnAMethodWithoutKeysAreRejected() {
    do { _ = try QuantizerSpec("fp32:bits=2"); Issue.record("accepted an unknown key") } catch let e as VQError {
      #expect(e.description.contains("unknown key 'bits'"))
    } catch { Issue.record("unexpected error \(error)") }
  }
}
