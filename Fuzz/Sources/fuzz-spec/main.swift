// Fuzzes spec parsing: any UTF-8 string either parses or throws VQError. A parsed spec's canonical
// string must parse back to the same spec with the same canonical string. (Building the quantizer is
// left out: trained methods such as blockquant spend seconds on their codebooks under ASan, which
// libFuzzer reports as a hang.)
import FuzzSupport
import VQ

runFuzzer { data, count in
  guard let data else { return 0 }
  let text = String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
  guard let spec = try? QuantizerSpec(text) else { return 0 }
  let again = try! QuantizerSpec(spec.description)
  precondition(again == spec && again.description == spec.description, "canonical string does not round-trip: \(spec)")
  return 0
}
