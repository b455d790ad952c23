import Testing
import VQ
import VQKernels
import VQTestSupport

extension KernelLevelSwitching {
  /// `Kernels.dotRows` at every level this CPU runs equals `DotRowsReference` bit for bit, around the
  /// kernel's steps (16 coordinates, 4 rows per pass), with cancellation-prone values; and the reference
  /// is the dot product (within float rounding of a Double sum).
  @Suite struct DotKernelTests {
    @Test(arguments: [0, 1, 7, 15, 16, 17, 31, 48, 100, 384, 1000])
    func dotRowsMatchesTheReference(d: Int) {
      var g = SeededGenerator(seed: UInt64(d) &* 7919 &+ 1)
      for count in [0, 1, 3, 4, 5, 9] {
        // Mixed magnitudes so the summation order shows in the last bits.
        let value = { () -> Float in Float(g.nextGaussian()) * (g.next() % 4 == 0 ? 1000 : 1) }
        let x = (0..<max(d, 1)).map { _ in value() }
        let rows = (0..<max(count * d, 1)).map { _ in value() }
        let expected: [Float] = (0..<count).map { c in
          x.withUnsafeBufferPointer { xs in
            rows.withUnsafeBufferPointer { rs in DotRowsReference.dot(xs.baseAddress!, rs.baseAddress! + c * d, dimension: d) }
          }
        }
        for level in KernelLevel.supported {
          var out = [Float](repeating: .nan, count: max(count, 1))
          KernelLevel.with(level) {
            Kernels.dotRows(x, rows: rows, count: count, dimension: d, into: &out)
          }
          #expect(Array(out.prefix(count)).map(\.bitPattern) == expected.map(\.bitPattern), "level \(level) d \(d) count \(count)")
        }
        for c in 0..<count {
          var exact = 0.0, magnitude = 0.0
          for j in 0..<d {
            exact += Double(x[j]) * Double(rows[c * d + j])
            magnitude += abs(Double(x[j]) * Double(rows[c * d + j]))
          }
          // Each of the ≤ d roundings is at most 2^-24 of a partial sum bounded by Σ|x_j·r_j|.
          #expect(abs(Double(expected[c]) - exact) <= Double(d + 1) * 0x1p-24 * magnitude + 1e-30)
        }
      }
    }
  }
}
