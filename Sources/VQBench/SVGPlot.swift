import Foundation

/// A line plot rendered as inline SVG: labelled axes with ticks (linear or logarithmic), one path per
/// series, point markers, a legend. No scripts, no external fonts: the report opens anywhere.
struct SVGPlot {
  struct Series {
    var name: String
    var color: String
    var points: [(x: Double, y: Double)]
    /// `nil`: solid; else an SVG dash array (theory curves are dashed).
    var dash: String? = nil
    var markers = true
  }

  var id: String
  var title: String
  var xLabel: String
  var yLabel: String
  var xLog = false
  var yLog = false
  var series: [Series] = []
  /// Tick labels for the x axis at exactly these values (e.g. the re-rank depths); else automatic.
  var xTicks: [Double]? = nil
  /// An upper limit for the y axis (recall never exceeds 1).
  var yUpper: Double? = nil
  var width = 640.0
  var height = 380.0

  private var left: Double { 78 }
  private var right: Double { width - 190 }
  private var top: Double { 34 }
  private var bottom: Double { height - 52 }

  func render() -> String {
    let finite = series.flatMap(\.points).filter { p in
      p.x.isFinite && p.y.isFinite && (!xLog || p.x > 0) && (!yLog || p.y > 0)
    }
    var out = "<svg class=\"plot\" id=\"\(id)\" data-plot=\"\(id)\" xmlns=\"http://www.w3.org/2000/svg\" "
      + "viewBox=\"0 0 \(fmt(width)) \(fmt(height))\" width=\"\(fmt(width))\" height=\"\(fmt(height))\" role=\"img\" "
      + "aria-label=\"\(escape(title))\">\n"
    out += "<title>\(escape(title))</title>\n"
    out += "<text class=\"plot-title\" x=\"\(fmt(left))\" y=\"20\">\(escape(title))</text>\n"
    guard !finite.isEmpty else {
      out += "<text class=\"empty\" x=\"\(fmt(left))\" y=\"\(fmt((top + bottom) / 2))\">no data</text>\n</svg>"
      return out
    }
    let xs = finite.map(\.x), ys = finite.map(\.y)
    let xRange = range(xs, log: xLog, ticks: xTicks)
    var yRange = range(ys, log: yLog, ticks: nil)
    if let yUpper, yRange.hi > yUpper, ys.max()! <= yUpper {
      yRange.hi = yUpper
      if !yLog { yRange.lo = min(yRange.lo, yUpper - niceStep((yUpper - yRange.lo) / 5)) }
    }
    func px(_ x: Double) -> Double {
      let t = xLog ? (log10(x) - log10(xRange.lo)) / (log10(xRange.hi) - log10(xRange.lo)) : (x - xRange.lo) / (xRange.hi - xRange.lo)
      return left + t * (right - left)
    }
    func py(_ y: Double) -> Double {
      let t = yLog ? (log10(y) - log10(yRange.lo)) / (log10(yRange.hi) - log10(yRange.lo)) : (y - yRange.lo) / (yRange.hi - yRange.lo)
      return bottom - t * (bottom - top)
    }
    // Grid and ticks.
    out += "<g class=\"axes\">\n"
    for tick in ticks(yRange, log: yLog) {
      let y = py(tick)
      out += "<line class=\"grid\" x1=\"\(fmt(left))\" x2=\"\(fmt(right))\" y1=\"\(fmt(y))\" y2=\"\(fmt(y))\"/>"
      out += "<text class=\"tick\" x=\"\(fmt(left - 6))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\">\(tickLabel(tick, log: yLog))</text>\n"
    }
    for tick in xTicks ?? ticks(xRange, log: xLog) {
      let x = px(tick)
      out += "<line class=\"grid\" x1=\"\(fmt(x))\" x2=\"\(fmt(x))\" y1=\"\(fmt(top))\" y2=\"\(fmt(bottom))\"/>"
      out += "<text class=\"tick\" x=\"\(fmt(x))\" y=\"\(fmt(bottom + 16))\" text-anchor=\"middle\">\(tickLabel(tick, log: xLog))</text>\n"
    }
    out += "<rect class=\"frame\" x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(right - left))\" height=\"\(fmt(bottom - top))\"/>\n"
    out += "<text class=\"axis-label x-label\" x=\"\(fmt((left + right) / 2))\" y=\"\(fmt(height - 12))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
    let yMid = (top + bottom) / 2
    out += "<text class=\"axis-label y-label\" x=\"18\" y=\"\(fmt(yMid))\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(fmt(yMid)))\">\(escape(yLabel))</text>\n"
    out += "</g>\n<g class=\"series-group\">\n"
    // Series.
    var legendY = top + 4
    let drawn = series.filter { !$0.points.isEmpty }.count
    let legendStep = min(17, (bottom + 40 - top) / Double(max(1, drawn)))
    for s in series {
      let pts = s.points.filter { p in
        p.x.isFinite && p.y.isFinite && (!xLog || p.x > 0) && (!yLog || p.y > 0)
      }.sorted { $0.x < $1.x }
      guard !pts.isEmpty else { continue }
      let name = escape(s.name)
      out += "<g class=\"series\" data-series=\"\(name)\">"
      let d = pts.enumerated().map { i, p in (i == 0 ? "M" : "L") + fmt(px(p.x)) + " " + fmt(py(p.y)) }.joined(separator: " ")
      if pts.count > 1 {
        out += "<path class=\"line\" d=\"\(d)\" stroke=\"\(s.color)\"" + (s.dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>"
      }
      if s.markers || pts.count == 1 {
        for p in pts {
          out += "<circle class=\"marker\" cx=\"\(fmt(px(p.x)))\" cy=\"\(fmt(py(p.y)))\" r=\"3.2\" fill=\"\(s.color)\"><title>\(name): \(shortNumber(p.x)), \(shortNumber(p.y))</title></circle>"
        }
      }
      out += "</g>\n"
      // Legend entry.
      let lx = right + 14
      out += "<g class=\"legend\"><line x1=\"\(fmt(lx))\" x2=\"\(fmt(lx + 22))\" y1=\"\(fmt(legendY))\" y2=\"\(fmt(legendY))\" stroke=\"\(s.color)\" stroke-width=\"2.2\""
        + (s.dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>"
      if s.markers { out += "<circle cx=\"\(fmt(lx + 11))\" cy=\"\(fmt(legendY))\" r=\"3\" fill=\"\(s.color)\"/>" }
      out += "<text class=\"legend-text\" x=\"\(fmt(lx + 28))\" y=\"\(fmt(legendY + 4))\">\(name)</text></g>\n"
      legendY += legendStep
    }
    out += "</g>\n</svg>"
    return out
  }

  // MARK: Scales

  private func range(_ v: [Double], log: Bool, ticks: [Double]?) -> (lo: Double, hi: Double) {
    var lo = v.min()!, hi = v.max()!
    if let ticks, let tl = ticks.min(), let th = ticks.max() { lo = min(lo, tl); hi = max(hi, th) }
    if log {
      var a = pow(10, floor(log10(lo))), b = pow(10, ceil(log10(hi)))
      if a == b { a /= 10; b *= 10 }
      if ticks != nil { a = lo / 1.15; b = hi * 1.15 }
      return (a, b)
    }
    if lo == hi { lo -= 0.5; hi += 0.5 }
    let pad = (hi - lo) * 0.06
    let step = niceStep((hi - lo + 2 * pad) / 5)
    return (floor((lo - pad) / step) * step, ceil((hi + pad) / step) * step)
  }

  private func ticks(_ r: (lo: Double, hi: Double), log: Bool) -> [Double] {
    if log {
      var out: [Double] = []
      let decades = Int(ceil(log10(r.hi) - 1e-9)) - Int(floor(log10(r.lo) + 1e-9))
      var e = floor(log10(r.lo) + 1e-9)
      while pow(10, e) <= r.hi * (1 + 1e-9) {
        for m in decades <= 2 ? [1.0, 2, 5] : [1.0] {
          let t = m * pow(10, e)
          if t >= r.lo * (1 - 1e-9) && t <= r.hi * (1 + 1e-9) { out.append(t) }
        }
        e += 1
      }
      return out
    }
    let step = niceStep((r.hi - r.lo) / 5)
    var out: [Double] = []
    var t = (r.lo / step).rounded(.up) * step
    while t <= r.hi + step * 1e-9 {
      out.append(abs(t) < step * 1e-9 ? 0 : t)
      t += step
    }
    return out
  }

  private func niceStep(_ raw: Double) -> Double {
    guard raw > 0, raw.isFinite else { return 1 }
    let p = pow(10, floor(log10(raw)))
    let f = raw / p
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p
  }

  private func tickLabel(_ v: Double, log: Bool) -> String {
    if log {
      let e = log10(v)
      if abs(e - e.rounded()) < 1e-9 {
        let n = Int(e.rounded())
        if n >= 0 && n <= 3 { return String(Int(v.rounded())) }
        return "10<tspan class=\"sup\" dy=\"-5\" font-size=\"9\">\(n)</tspan>"
      }
    }
    return shortNumber(v)
  }

  private func shortNumber(_ v: Double) -> String {
    if v == 0 { return "0" }
    if abs(v) >= 1e4 || abs(v) < 1e-3 { return String(format: "%.1e", v) }
    if v == v.rounded() { return String(Int(v)) }
    return String(format: "%g", (v * 1000).rounded() / 1000)
  }

  private func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
}

/// Text for HTML and SVG.
func escape(_ s: String) -> String {
  s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
