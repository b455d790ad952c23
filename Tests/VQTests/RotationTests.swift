import Testing
import VQ
import VQKernels
import VQTestSupport

@Suite struct RotationTests {
  @Test func paleyH12IsHadamard() {
    let h = Paley.h12
    for i in 0..<12 {
      for j in 0..<12 {
        var s = 0
        for k in 0..<12 { s += Int(h[i][k]) * Int(h[j][k]) }
        #expect(s == (i == j ? 12 : 0), "row \(i) · row \(j)")
      }
    }
  }

  @Test func paddedSizes() {
    #expect(HadamardSize.fitting(384) == HadamardSize(rows: 12, p: 32))
    #expect(HadamardSize.fitting(1024) == HadamardSize(rows: 1, p: 1024))
    #expect(HadamardSize.fitting(1000) == HadamardSize(rows: 1, p: 1024))
    #expect(HadamardSize.fitting(100) == HadamardSize(rows: 1, p: 128))
    #expect(HadamardSize.fitting(90) == HadamardSize(rows: 12, p: 8))
  }

  /// Norms preserved and the inverse recovers the input to 1e-5 relative (Float arithmetic).
  @Test(arguments: [1, 7, 12, 100, 384, 768, 1024, 1000])
  func hadamardIsAnIsometryAndInverts(d: Int) {
    let x = TestData.gaussian(count: 8, dimension: d, seed: UInt64(d))
    let rotation = RandomizedHadamard(dimension: d, rounds: 3, seed: 5)
    checkIsometry(rotation, x)
  }

  @Test(arguments: [1, 5, 33, 64])
  func haarIsAnIsometryAndInverts(d: Int) {
    let x = TestData.gaussian(count: 8, dimension: d, seed: UInt64(d))
    checkIsometry(DenseRotation(dimension: d, seed: 3), x)
  }

  private func checkIsometry(_ rotation: some Rotation, _ x: VectorBatch) {
    let y = rotation.apply(x)
    let back = rotation.applyInverse(y)
    let nx = x.norms(), ny = y.norms()
    for i in 0..<x.count {
      #expect(abs(ny[i] - nx[i]) <= 1e-5 * nx[i], "norm row \(i): \(nx[i]) → \(ny[i])")
      let a = x[row: i], b = back[row: i]
      var err = 0.0
      for j in 0..<a.count { err += Double(a[j] - b[j]) * Double(a[j] - b[j]) }
      #expect(err.squareRoot() <= 1e-5 * Double(nx[i]), "inverse row \(i)")
    }
  }
}
