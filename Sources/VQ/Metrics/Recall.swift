/// Recall of a retrieved list against the true neighbours.
public enum Recall {
  /// The fraction of `truth` found in `found`: `|found ∩ truth| / truth.count` (1 for an empty truth).
  ///
  /// Both lists are short (k ≤ a few hundred), so a quadratic membership test is faster than a set.
  public static func fraction<F: Collection<Int>, T: Collection<Int>>(found: F, truth: T) -> Double {
    guard !truth.isEmpty else { return 1 }
    var hits = 0
    for t in truth where found.contains(t) { hits += 1 }
    return Double(hits) / Double(truth.count)
  }
}
