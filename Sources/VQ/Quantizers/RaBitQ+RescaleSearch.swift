import VQKernels

/// The per-vector optimal rescale of extended RaBitQ (research/rotation.md §3.3), found exactly and fast.
///
/// Problem: for magnitudes a_i = |y_i| and levels k_i(t) = min(⌊t·a_i⌋, K), maximize the cosine
/// F(t) = N(t)/√S(t) with N = Σ (k_i+½)·a_i and S = Σ (k_i+½)². F is piecewise constant in t and changes
/// only at the breakpoints m/a_i. (For any scale λ the code maximizing ⟨c, a⟩ − (λ/2)‖c‖² over the
/// whole grid is this family's member at t = 1/λ, and the cosine-optimal code is such a maximizer, so
/// the family holds the best code of the grid.)
///
/// Domain: RaBitQ-Library's and FAISS's window t ∈ [ρ_B·t_end, t_end], t_end = (K + 10)/max a_i, with
/// their ρ_B = 0, .15, .20, .52, .59, .71, .75, .77, .81 (B − 1 = 0…8), in which they walk every
/// breakpoint with a priority queue (≈ 150 µs per vector at d = 1024, B = 4). The answer here is that
/// window's exact optimum, or the fixed point of step 1 when that is better, so never worse than theirs.
/// 1. Alternate code → MSE scale → code (Lloyd on one scalar; F never decreases): a few O(D) passes
///    give a good incumbent F*.
/// 2. Branch and bound. O(D) passes evaluate a coarse grid of the window; on a cell [t_a, t_b] every
///    breakpoint adds a_i to N and 2m ∈ [2·t_a·a_i, 2·t_b·a_i] to S, which bounds S below by two lines
///    in N; F² under that envelope peaks at an end or at the kink (`bound`).
///    Cells that cannot beat F* are dropped; the breakpoints of the others are listed once and then
///    split quicksort-style around pivots (the sums of each side give the state at the pivot), the
///    same bound pruning every part, until a part is small enough to sort and walk in order.
///
/// Every O(D) pass is an exact integer computation in fixed point (`Kernels.rabitqRescaleEvaluate`), so
/// the chosen t, hence the codes, are the same at every kernel level.
struct RaBitQRescaleSearch {
  let dimension: Int
  let extendedBits: Int
  let maxLevel: Int32
  private var magnitudes: [Float]
  private var fixed: [Int32]
  private var events: [Event]
  private var points: [Float] = []
  private var grid: [State] = []
  private var cells: [(lower: State, upper: State)] = []
  /// Passes over the vector, breakpoints listed and parts walked in the last search (for tests).
  private(set) var lastEvaluations = 0
  private(set) var lastListedEvents = 0
  private(set) var lastSweeps = 0

  /// RaBitQ-Library's `kTightStart`: the window's lower end as a fraction of t_end, by B − 1.
  static let windowStart: [Float] = [0, 0.15, 0.20, 0.52, 0.59, 0.71, 0.75, 0.77, 0.81]
  /// Coarse cells the window is split into by O(D) passes when the incumbent is outside it.
  static let coarseCells = 8
  /// Grid points around an incumbent inside the window, as multiples of its t.
  static let gridAroundIncumbent: [Float] = [0.8, 0.9, 0.97, 0.99, 1, 1.01, 1.03, 1.1, 1.25]
  /// Alternations of step 1 (it only has to supply a good incumbent; step 2 makes the answer exact).
  static let alternations = 3
  /// A part with at most this many breakpoints is sorted and walked.
  static let leafSize = 24
  /// Optimal uniform-quantizer step of N(0, 1) for 2^B levels (Max 1960), B = 1…9: the starting guess.
  static let gaussianStep: [Double] = [0, 1.596, 0.9957, 0.5860, 0.3352, 0.1881, 0.1041, 0.0569, 0.0308, 0.0165]

  struct State {
    var t: Float
    var numerator: Int64
    var squares: Int64
    var levels: Int64
    /// N²/S, proportional to F².
    var ratio: Double { squares > 0 ? Double(numerator) * Double(numerator) / Double(squares) : 0 }
  }

  /// A breakpoint: at `t`, one coordinate moves up a level, adding `numerator` = 2·A_i to N and
  /// `squares` = 8·(new level) to S (fixed-point units: N = Σ (2k+1)·A_i, S = Σ (2k+1)²).
  typealias Event = RaBitQEvent

  init(dimension: Int, extendedBits: Int) {
    self.dimension = dimension
    self.extendedBits = extendedBits
    maxLevel = Int32((1 << extendedBits) - 1)
    magnitudes = [Float](repeating: 0, count: dimension)
    fixed = [Int32](repeating: 0, count: dimension)
    events = [Event](repeating: Event(t: 0, numerator: 0, squares: 0), count: max(64, dimension))
  }

  /// The best rescale for the rotated vector `y` (`dimension` floats). If max|y_i| is outside
  /// [2^−40, 2^40], `y` is first scaled in place by a power of two (exact), and `unscale` is the factor
  /// that undoes it on sums linear in y. Returns t = 0 for a zero vector.
  mutating func bestRescale(_ y: UnsafeMutablePointer<Float>) -> (t: Float, unscale: Double) {
    let D = dimension
    var largest = magnitudes.withUnsafeMutableBufferPointer { a in
      fixed.withUnsafeMutableBufferPointer { A in Kernels.rabitqMagnitudes(y, count: D, into: a.baseAddress!, fixed: A.baseAddress!) }
    }
    guard largest > 0 else { return (0, 1) }
    var unscale = 1.0
    if largest < 0x1p-40 || largest > 0x1p40 {
      let e = -Int(largest.exponent)
      let factor = Float(sign: .plus, exponent: e, significand: 1)
      for i in 0..<D { y[i] *= factor }
      unscale = Double(sign: .plus, exponent: -e, significand: 1)
      largest = magnitudes.withUnsafeMutableBufferPointer { a in
        fixed.withUnsafeMutableBufferPointer { A in Kernels.rabitqMagnitudes(y, count: D, into: a.baseAddress!, fixed: A.baseAddress!) }
      }
    }
    return (search(largest: largest), unscale)
  }

  private mutating func evaluate(_ t: Float) -> State {
    lastEvaluations += 1
    let r = magnitudes.withUnsafeBufferPointer { a in
      fixed.withUnsafeBufferPointer { A in
        Kernels.rabitqRescaleEvaluate(a.baseAddress!, fixed: A.baseAddress!, count: dimension, t: t, maxLevel: maxLevel)
      }
    }
    return State(t: t, numerator: r.numerator, squares: r.squares, levels: r.levels)
  }

  private mutating func search(largest: Float) -> Float {
    lastEvaluations = 0
    lastListedEvents = 0
    lastSweeps = 0
    let K = Double(maxLevel)
    // Fixed-point scale: A_i ≈ s·a_i.
    let s = 4_194_304.0 / Double(largest)
    let tEnd = Float((K + 10) / Double(largest))
    let tStart = tEnd * Self.windowStart[min(extendedBits, Self.windowStart.count - 1)]

    // Step 1: alternate code and MSE scale from the Gaussian guess.
    let sigmaGuess = Double(largest) / (2 * Double.log(Double(max(dimension, 2)))).squareRoot()
    let bits = min(extendedBits + 1, Self.gaussianStep.count - 1)
    var current = evaluate(Float(1 / (Self.gaussianStep[bits] * sigmaGuess)))
    var best = current
    for _ in 0..<Self.alternations {
      guard current.numerator > 0 else { break }
      let next = Float(s * Double(current.squares) / (2 * Double(current.numerator)))
      guard next != current.t, next > 0, next.isFinite else { break }
      let state = evaluate(next)
      if state.ratio > best.ratio { best = state }
      guard state.ratio > current.ratio else { break }
      current = state
    }

    // Step 2: the window's coarse grid, then the breakpoints of the cells that may beat the incumbent.
    // The grid is dense around the incumbent (where the cells that survive are) and the window's ends.
    // (Scratch arrays live in `self`, so a search allocates nothing once they have grown.)
    points.removeAll(keepingCapacity: true)
    points.append(tStart)
    points.append(tEnd)
    if best.t > tStart, best.t < tEnd {
      for f in Self.gridAroundIncumbent where best.t * f > tStart && best.t * f < tEnd { points.append(best.t * f) }
    } else {
      for j in 1..<Self.coarseCells { points.append(tStart + (tEnd - tStart) * Float(j) / Float(Self.coarseCells)) }
    }
    points.sort()
    grid.removeAll(keepingCapacity: true)
    for j in points.indices where grid.last.map({ points[j] > $0.t }) ?? true {
      let t = points[j]
      let state = t == best.t ? best : evaluate(t)
      if state.ratio > best.ratio { best = state }
      grid.append(state)
    }
    // Cells holding many breakpoints are bisected by O(D) passes (finer cells bound tighter); the
    // others have their breakpoints listed and split.
    let listLimit = Int64(max(32, dimension / 32))
    cells.removeAll(keepingCapacity: true)
    for j in 0..<(grid.count - 1) { cells.append((grid[j], grid[j + 1])) }
    while let (lower, upper) = cells.popLast() {
      guard bound(lower, upper, scale: s) > best.ratio else { continue }
      let middle = lower.t + (upper.t - lower.t) / 2
      if upper.levels - lower.levels > listLimit, middle > lower.t, middle < upper.t {
        let m = evaluate(middle)
        if m.ratio > best.ratio { best = m }
        // Push the half with the larger bound last, so it is examined first.
        let first = (lower, m), second = (m, upper)
        if bound(lower, m, scale: s) >= bound(m, upper, scale: s) {
          cells.append(second)
          cells.append(first)
        } else {
          cells.append(first)
          cells.append(second)
        }
        continue
      }
      let count = listEvents(from: lower.t, to: upper.t)
      var list: [Event] = []
      swap(&list, &events)   // the split below mutates counters on self
      list.withUnsafeMutableBufferPointer { buffer in
        split(buffer.baseAddress!, count: count, lower: lower, upper: upper, scale: s, best: &best)
      }
      swap(&list, &events)
    }
    return best.t
  }

  /// Upper bound of N²/S over the states between `lower` and `upper` (see the type's documentation),
  /// with both ends known. A state x = N − N_a into the cell has passed breakpoints of slope
  /// ΔS/ΔN = 2τ ≥ 2t_a and has the rest, of slope ≤ 2t_b, still to come before S_b, so
  /// S ≥ S_a + max(2t_a·x, (S_b − S_a) − 2t_b·(X − x)); N²/S under that two-piece envelope is
  /// quasi-convex on each piece, so its maximum is at x = 0, the kink or x = X. Slack: 1e−6 for the
  /// rounding of t·a_i, 1e−4 for the fixed-point A_i (every coordinate with a breakpoint inside the
  /// window has a_i ≥ max a/(K+10), so A_i ≥ 2^22/(K+10) − 1).
  @inline(__always)
  private func bound(_ lower: State, _ upper: State, scale s: Double) -> Double {
    let X = Double(upper.numerator - lower.numerator)
    let Y = Double(upper.squares - lower.squares)
    let la = 4 * Double(lower.t) * (1 - 1e-6) / s
    let lb = 4 * Double(upper.t) * (1 + 1e-4) / s
    let na = Double(lower.numerator), sa = Double(lower.squares)
    @inline(__always) func g(_ x: Double) -> Double {
      let n = na + x
      return n * n / (sa + max(la * x, Y - lb * (X - x)))
    }
    var b = max(lower.ratio, g(X))
    if lb > la {
      let kink = (lb * X - Y) / (lb - la)
      if kink > 0, kink < X { b = max(b, g(kink)) }
    }
    if X > 0 { b = max(b, g(0)) }
    return b
  }

  /// Lists the breakpoints in (ta, tb] into `events` (grown as needed); returns their number.
  private mutating func listEvents(from ta: Float, to tb: Float) -> Int {
    let D = dimension, K = maxLevel
    while true {
      let capacity = events.count
      let count = magnitudes.withUnsafeBufferPointer { a in
        fixed.withUnsafeBufferPointer { A in
          events.withUnsafeMutableBufferPointer { e in
            Kernels.rabitqEvents(a.baseAddress!, fixed: A.baseAddress!, count: D, from: ta, to: tb, maxLevel: K,
                                 into: e.baseAddress!, capacity: capacity)
          }
        }
      }
      if count <= capacity {
        lastListedEvents += count
        return count
      }
      events = [Event](repeating: Event(t: 0, numerator: 0, squares: 0), count: count + count / 2)
    }
  }

  /// Branch and bound over the `count` breakpoints at `list` (all in (lower.t, upperT]).
  private mutating func split(
    _ list: UnsafeMutablePointer<Event>, count: Int, lower: State, upper: State, scale s: Double, best: inout State
  ) {
    guard count > 0, bound(lower, upper, scale: s) > best.ratio else { return }
    if count <= Self.leafSize {
      walk(list, count: count, lower: lower, upperT: upper.t, best: &best)
      return
    }
    // Pivot: median of three breakpoint times; the left part is strictly earlier.
    let x = list[0].t, y = list[count / 2].t, z = list[count - 1].t
    var pivot = max(min(x, y), min(max(x, y), z))
    var left = partition(list, count: count, pivot: pivot)
    if left == 0 {
      // Every time ≥ pivot, the median: split at the first later time instead (or walk if none).
      var next = Float.infinity
      for k in 0..<count where list[k].t > pivot && list[k].t < next { next = list[k].t }
      guard next.isFinite else {
        walk(list, count: count, lower: lower, upperT: upper.t, best: &best)
        return
      }
      pivot = next
      left = partition(list, count: count, pivot: pivot)
    }
    var middle = lower
    for k in 0..<left {
      middle.numerator += Int64(list[k].numerator)
      middle.squares += Int64(list[k].squares)
      middle.levels += 1
    }
    middle.t = pivot
    // The middle state (every breakpoint before the pivot) is attained just before the pivot.
    if middle.ratio > best.ratio {
      var latest = lower.t
      for k in 0..<left where list[k].t > latest { latest = list[k].t }
      best = middle
      best.t = latest + (pivot - latest) / 2
    }
    // The part with the larger bound first: a better incumbent prunes the other.
    if bound(lower, middle, scale: s) >= bound(middle, upper, scale: s) {
      split(list, count: left, lower: lower, upper: middle, scale: s, best: &best)
      split(list + left, count: count - left, lower: middle, upper: upper, scale: s, best: &best)
    } else {
      split(list + left, count: count - left, lower: middle, upper: upper, scale: s, best: &best)
      split(list, count: left, lower: lower, upper: middle, scale: s, best: &best)
    }
  }

  /// Moves the breakpoints earlier than `pivot` to the front; returns how many there are.
  @inline(__always)
  private func partition(_ list: UnsafeMutablePointer<Event>, count: Int, pivot: Float) -> Int {
    // Branch-free (the comparison is unpredictable): every element is swapped with the boundary.
    var left = 0
    for k in 0..<count {
      let e = list[k]
      list[k] = list[left]
      list[left] = e
      left &+= e.t < pivot ? 1 : 0
    }
    return left
  }

  /// Sorts a small part by time and walks it, updating `best` with every state it passes through.
  private mutating func walk(_ list: UnsafeMutablePointer<Event>, count: Int, lower: State, upperT: Float, best: inout State) {
    lastSweeps += 1
    for k in 1..<max(count, 1) {
      let e = list[k]
      var j = k
      while j > 0, list[j - 1].t > e.t {
        list[j] = list[j - 1]
        j -= 1
      }
      list[j] = e
    }
    var state = lower
    var k = 0
    while k < count {
      let t = list[k].t
      while k < count, list[k].t == t {
        state.numerator += Int64(list[k].numerator)
        state.squares += Int64(list[k].squares)
        state.levels += 1
        k += 1
      }
      if state.ratio > best.ratio {
        let next = k < count ? list[k].t : upperT
        state.t = t < next ? t + (next - t) / 2 : next
        best = state
      }
    }
  }
}

extension UnsafeMutablePointer {
  @inline(__always)
  fileprivate func swapAt(_ i: Int, _ j: Int) {
    let tmp = self[i]
    self[i] = self[j]
    self[j] = tmp
  }
}
