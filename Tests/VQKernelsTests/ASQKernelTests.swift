import Testing
import VQ
import VQKernels

extension KernelLevelSwitching {
  /// The exact-ASQ layer kernel (`cvq_asq.h`) at every kernel level this CPU runs, against
  /// `ASQLayerReference`, bit for bit (argmins exactly, outputs by bit pattern); and the reference against
  /// the brute-force leftmost row minima on real DP layers. Serialized with every test that switches the
  /// process-wide kernel level (see `KernelLevelSwitching`).
  @Suite struct ASQKernelTests {
    /// Sizes around the block thresholds (16 rows, 96 columns) and the 16-cell / 8-lane vector scan.
    static let sizes = [1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 95, 96, 97, 98, 200, 1000, 4097]

    /// One layer's inputs in the `ASQCostTerms` form: centred sorted points y, E_k = P2_k − y_k·P1_k and
    /// B_k = y_k·P0_k − P1_k from inclusive prefix sums (weights optional), and D_1[j] = C(0, j) shifted by E.
    struct LayerInput {
      var y: [Double], e: [Double], b: [Double], shifted: [Double]
    }

    static func realLayer(count n: Int, kind: Int, seed: UInt64) -> LayerInput {
      var g = SeededGenerator(seed: seed)
      var x = (0..<n).map { _ -> Double in
        switch kind {
        case 0: return g.nextGaussian()
        case 1: return Double.exp(g.nextGaussian())
        default: return Double(Int(g.next() % 7))  // many exact ties
        }
      }
      x.sort()
      let weights: [Double]? = kind == 1 ? (0..<n).map { _ in Double.exp(3 * g.nextGaussian()) } : nil
      let centre = (x[0] + x[n - 1]) / 2
      var y = [Double](repeating: 0, count: n), e = y, b = y
      var p0 = 0.0, p1 = 0.0, p2 = 0.0
      for i in 0..<n {
        let v = x[i] - centre, w = weights?[i] ?? 1
        p0 += w; p1 += w * v; p2 += w * v * v
        y[i] = v; e[i] = p2 - v * p1; b[i] = v * p0 - p1
      }
      let shifted = (0..<n).map { j in ((e[0] + y[0] * -b[j] + y[j] * b[0]) + -e[j]) + e[j] }
      return LayerInput(y: y, e: e, b: b, shifted: shifted)
    }

    /// Runs the reference or the kernel at `level` (nil = reference) on one layer.
    static func run(_ input: LayerInput, lower: [UInt32]?, shiftOut: Bool, level: KernelLevel?) -> ([UInt32], [UInt64]) {
      let n = input.y.count
      var argmins = [UInt32](repeating: .max, count: n)
      var out = [Double](repeating: .nan, count: n)
      input.shifted.withUnsafeBufferPointer { s in
        input.y.withUnsafeBufferPointer { y in
          input.b.withUnsafeBufferPointer { b in
            input.e.withUnsafeBufferPointer { e in
              let lowerCopy = lower
              func call(_ lp: UnsafePointer<UInt32>?) {
                if let level {
                  KernelLevel.with(level) {
                    Kernels.asqLayer(shifted: s.baseAddress!, y: y.baseAddress!, b: b.baseAddress!, e: e.baseAddress!,
                                     count: n, lower: lp, argmins: &argmins, out: &out, shiftOut: shiftOut)
                  }
                } else {
                  ASQLayerReference.layer(shifted: s.baseAddress!, y: y.baseAddress!, b: b.baseAddress!, e: e.baseAddress!,
                                          count: n, lower: lp, argmins: &argmins, out: &out, shiftOut: shiftOut)
                }
              }
              if let lowerCopy { lowerCopy.withUnsafeBufferPointer { call($0.baseAddress!) } } else { call(nil) }
            }
          }
        }
      }
      return (argmins, out.map(\.bitPattern))
    }

    /// Real DP layers (normal, weighted lognormal, heavy ties): three layers chained (each layer's argmins
    /// are the next one's lower bounds); every level equals the reference bit for bit, and the reference's
    /// argmins and minima are the brute-force leftmost minima over [lower[j], j].
    @Test(arguments: sizes)
    func realLayersMatchTheReferenceAndBruteForce(n: Int) {
      for kind in 0..<3 {
        var input = Self.realLayer(count: n, kind: kind, seed: UInt64(n * 3 + kind))
        var lower: [UInt32]? = nil
        for layer in 0..<3 {
          let (argmins, out) = Self.run(input, lower: lower, shiftOut: true, level: nil)
          for j in 0..<n {
            let first = Int(lower?[j] ?? 0)
            var best = Double.infinity, arg = -1
            for k in Swift.min(first, j)...j {
              let v = (input.shifted[k] + input.y[k] * -input.b[j]) + input.y[j] * input.b[k]
              if v < best { best = v; arg = k }
            }
            #expect(Int(argmins[j]) == arg, "brute force: n \(n) kind \(kind) layer \(layer) row \(j)")
            #expect(out[j] == (((best + -input.e[j]) + input.e[j])).bitPattern, "brute-force minimum: row \(j)")
            if Int(argmins[j]) != arg { return }
          }
          for level in KernelLevel.supported {
            for shiftOut in [false, true] {
              let (expectedArgmins, expectedOut) = shiftOut ? (argmins, out) : Self.run(input, lower: lower, shiftOut: false, level: nil)
              let (gotArgmins, gotOut) = Self.run(input, lower: lower, shiftOut: shiftOut, level: level)
              #expect(gotArgmins == expectedArgmins && gotOut == expectedOut,
                      "level \(level) n \(n) kind \(kind) layer \(layer) shiftOut \(shiftOut)")
            }
          }
          input.shifted = out.map(Double.init(bitPattern:))
          lower = argmins
        }
      }
    }

    /// Arbitrary (not totally monotone) cells and arbitrary lower bounds, some above the row: the search
    /// then depends on every detail (block sizes, window clamps, scan ties), and every level must still
    /// return the reference's bits. Values are rounded to a coarse grid so that many cells tie exactly.
    @Test(arguments: sizes)
    func arbitraryCellsMatchTheReference(n: Int) {
      var g = SeededGenerator(seed: UInt64(n) &* 7_919 &+ 5)
      func coarse() -> Double { Double(Int(g.next() % 9)) - 4 }
      for trial in 0..<4 {
        let input = LayerInput(y: (0..<n).map { _ in coarse() }, e: (0..<n).map { _ in g.nextGaussian() },
                               b: (0..<n).map { _ in coarse() * 0.5 }, shifted: (0..<n).map { _ in coarse() * 3 })
        let lower: [UInt32]? = trial == 0 ? nil : (0..<n).map { j in UInt32(g.next() % UInt64(j + 3)) }
        let expected = Self.run(input, lower: lower, shiftOut: trial % 2 == 1, level: nil)
        for level in KernelLevel.supported {
          let got = Self.run(input, lower: lower, shiftOut: trial % 2 == 1, level: level)
          #expect(got.0 == expected.0 && got.1 == expected.1, "level \(level) n \(n) trial \(trial)")
        }
      }
    }
  }
}
