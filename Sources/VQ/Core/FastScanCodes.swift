import VQKernels

/// Codes in the FastScan layout: the first `blockedBytes` bytes of every flat code, read as
/// `2·blockedBytes` 4-bit sub-codes (byte k: sub-code 2k in its low nibble, 2k+1 in its high nibble),
/// interleaved 32 vectors per block so that one `vpshufb` looks up a sub-quantizer's table for 16 vectors
/// at once (layout: `FastScanReference`; scanned by `Kernels.fastScanAccumulate`). The rest of each code
/// and all side values stay flat in `remainder`, so `flat()` gives back the original `CodeBuffer` exactly.
///
/// Built from a `CodeBuffer` with `init(flat:blockedBytes:)` (RaBitQ: the sign plane, whose nibbles are
/// the 4-coordinate sub-codes of its 1-bit FastScan; 4-bit product codes: the whole code). The last block
/// is padded with zero sub-codes; a scan returns 32 results per block, of which the caller keeps the first
/// `count` overall.
public struct FastScanCodes: Sendable, Equatable {
  /// Vectors per block.
  public static let blockSize = FastScanReference.blockSize

  /// The layout of the flat codes this was made from.
  public let layout: CodeLayout
  /// Vectors.
  public let count: Int
  /// Leading bytes of each flat code held in blocks (2 sub-codes each).
  public let blockedBytes: Int
  /// Everything else of the flat codes: the bytes after `blockedBytes` and every side value (same fields
  /// as `layout`).
  public let remainder: CodeBuffer
  private let blocks: [UInt8]

  /// Pairs of sub-quantizers per block (= `blockedBytes`).
  public var pairCount: Int { blockedBytes }
  /// 4-bit sub-codes per vector.
  public var subcodeCount: Int { 2 * blockedBytes }
  /// Blocks of 32 vectors (the last one padded).
  public var blockCount: Int { (count + Self.blockSize - 1) / Self.blockSize }
  /// Bytes of one block.
  public var bytesPerBlock: Int { FastScanReference.bytesPerPair * pairCount }

  /// Converts flat codes; `blockedBytes` (default: the whole code) leading bytes of each go into blocks.
  public init(flat codes: CodeBuffer, blockedBytes: Int? = nil) {
    let bytesPerCode = codes.layout.bytesPerCode
    let blocked = blockedBytes ?? bytesPerCode
    precondition(blocked >= 0 && blocked <= bytesPerCode, "blockedBytes \(blocked) outside 0...\(bytesPerCode)")
    layout = codes.layout
    count = codes.count
    self.blockedBytes = blocked
    let restBytes = bytesPerCode - blocked
    var rest = CodeBuffer(layout: CodeLayout(bytesPerCode: restBytes, sideFields: codes.layout.sideFields), count: count)
    let blockBytes = FastScanReference.bytesPerPair * blocked
    var packed = [UInt8](repeating: 0, count: (count + Self.blockSize - 1) / Self.blockSize * blockBytes)
    let n = count
    codes.withUnsafeCodes { source in
      packed.withUnsafeMutableBufferPointer { target in
        for i in 0..<n {
          let code = source.baseAddress! + i * bytesPerCode
          let block = target.baseAddress! + (i / Self.blockSize) * blockBytes
          let v = i % Self.blockSize
          let slot = FastScanReference.byte(ofSlot: v & 15)
          let shift: UInt8 = v >= 16 ? 4 : 0
          for k in 0..<blocked {
            let byte = code[k]
            block[FastScanReference.bytesPerPair * k + slot] |= (byte & 15) << shift
            block[FastScanReference.bytesPerPair * k + 16 + slot] |= (byte >> 4) << shift
          }
        }
      }
      if restBytes > 0 {
        rest.withUnsafeMutableCodes { target in
          for i in 0..<n {
            (target.baseAddress! + i * restBytes).update(from: source.baseAddress! + i * bytesPerCode + blocked, count: restBytes)
          }
        }
      }
    }
    for f in 0..<codes.layout.sideFields.count where n > 0 {
      codes.withUnsafeSide(f) { side in
        rest.withUnsafeMutableSide(f) { target in target.baseAddress!.update(from: side.baseAddress!, count: n) }
      }
    }
    remainder = rest
    blocks = packed
  }

  /// The flat codes back, identical to the ones converted.
  public func flat() -> CodeBuffer {
    var codes = CodeBuffer(layout: layout, count: count)
    let bytesPerCode = layout.bytesPerCode, blocked = blockedBytes, restBytes = bytesPerCode - blocked
    let blockBytes = bytesPerBlock, n = count
    codes.withUnsafeMutableCodes { target in
      blocks.withUnsafeBufferPointer { source in
        for i in 0..<n {
          let code = target.baseAddress! + i * bytesPerCode
          let block = source.baseAddress! + (i / Self.blockSize) * blockBytes
          let v = i % Self.blockSize
          let slot = FastScanReference.byte(ofSlot: v & 15)
          let shift: UInt8 = v >= 16 ? 4 : 0
          for k in 0..<blocked {
            let low = (block[FastScanReference.bytesPerPair * k + slot] >> shift) & 15
            let high = (block[FastScanReference.bytesPerPair * k + 16 + slot] >> shift) & 15
            code[k] = low | high << 4
          }
        }
      }
      if restBytes > 0 {
        remainder.withUnsafeCodes { source in
          for i in 0..<n {
            (target.baseAddress! + i * bytesPerCode + blocked).update(from: source.baseAddress! + i * restBytes, count: restBytes)
          }
        }
      }
    }
    for f in 0..<layout.sideFields.count where n > 0 {
      remainder.withUnsafeSide(f) { side in
        codes.withUnsafeMutableSide(f) { target in target.baseAddress!.update(from: side.baseAddress!, count: n) }
      }
    }
    return codes
  }

  /// Sub-code `m` (0..<subcodeCount) of vector `i`.
  public func subcode(_ i: Int, _ m: Int) -> UInt8 {
    precondition(i >= 0 && i < count && m >= 0 && m < subcodeCount, "vector \(i) or sub-code \(m) out of range")
    let (byte, high) = FastScanReference.position(vector: i % Self.blockSize, subcode: m)
    let value = blocks[(i / Self.blockSize) * bytesPerBlock + byte]
    return high ? value >> 4 : value & 15
  }

  /// The blocks (`blockCount · bytesPerBlock` bytes, block after block).
  public func withUnsafeBlocks<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
    try blocks.withUnsafeBufferPointer(body)
  }
}

extension FastScanCodes {
  /// Sums of 8-bit table entries for the 32 vectors of each block in `blockRange`:
  /// `out[32·(b − start) + v] = Σ_m tables.bytes[16·m + code_m(32·b + v)]` (`Kernels.fastScanAccumulate`);
  /// `out` holds `32·blockRange.count` values, entries past `count` are padding (zero sub-codes).
  public func accumulate(_ tables: FastScanTables, blockRange: Range<Int>, into out: UnsafeMutablePointer<UInt32>) {
    precondition(tables.bytes.count == FastScanReference.bytesPerPair * pairCount, "tables for \(tables.bytes.count / 16) sub-quantizers, codes have \(subcodeCount)")
    precondition(blockRange.lowerBound >= 0 && blockRange.upperBound <= blockCount, "block range \(blockRange) outside 0..<\(blockCount)")
    guard !blockRange.isEmpty else { return }
    let bytesPerBlock = bytesPerBlock, pairs = pairCount
    blocks.withUnsafeBufferPointer { b in
      tables.bytes.withUnsafeBufferPointer { t in
        Kernels.fastScanAccumulate(blocks: b.baseAddress! + blockRange.lowerBound * bytesPerBlock, blockCount: blockRange.count,
                                   pairCount: pairs, luts: t.baseAddress!, into: out)
      }
    }
  }
}

/// Float look-up tables of 4-bit sub-quantizers (16 entries each) quantized to bytes for FastScan, for any
/// quantizer whose code is a list of 4-bit sub-codes (RaBitQ's sign nibbles, 4-bit product or block codes).
///
/// Table m is stored as T_m[c] = round((L_m[c] − min_m)/Δ) ∈ 0…255 with min_m = min_c L_m[c] and one step
/// Δ = max_m (max_c L_m[c] − min_m)/255 for all tables, so that Σ_m L_m[c_m] ≈ Δ·S + offset with
/// S = Σ_m T_m[c_m] (what `Kernels.fastScanAccumulate` returns) and offset = Σ_m min_m. Guarantee: the error
/// is at most `errorBound` = M·Δ/2 (each entry is rounded to the nearest step), plus float rounding of the
/// inputs' order; typically ≈ Δ·√(M/12). An odd M is padded with a zero table.
public struct FastScanTables: Sendable {
  /// `⌈M/2⌉ · 32` bytes: pair p = table 2p, then table 2p+1.
  public let bytes: [UInt8]
  /// Δ: the value of one table unit.
  public let step: Float
  /// Σ_m min_m: add to Δ·S.
  public let offset: Float
  /// M·Δ/2: the largest error of Δ·S + offset against Σ_m L_m[c_m].
  public let errorBound: Float

  /// Quantizes `tables` (M tables of 16 floats, table m at [16·m, 16·m + 16)); M = tables.count / 16.
  public init(_ tables: [Float]) {
    precondition(tables.count % 16 == 0, "tables hold 16 entries each, got \(tables.count) values")
    let count = tables.count / 16, padded = count + count % 2
    var minimum = [Double](repeating: 0, count: count)
    var widest = 0.0
    for m in 0..<count {
      var lo = Double(tables[16 * m]), hi = lo
      for c in 1..<16 {
        lo = Swift.min(lo, Double(tables[16 * m + c]))
        hi = Swift.max(hi, Double(tables[16 * m + c]))
      }
      minimum[m] = lo
      widest = Swift.max(widest, hi - lo)
    }
    let step = widest / 255
    var bytes = [UInt8](repeating: 0, count: 16 * padded)
    if step > 0 {
      for m in 0..<count {
        for c in 0..<16 {
          let level = ((Double(tables[16 * m + c]) - minimum[m]) / step).rounded(.toNearestOrEven)
          bytes[16 * m + c] = UInt8(Swift.min(255, Swift.max(0, level)))
        }
      }
    }
    self.bytes = bytes
    self.step = Float(step)
    offset = Float(minimum.reduce(0, +))
    errorBound = Float(Double(count) * step / 2)
  }

  /// Δ·S + offset: the estimate of Σ_m L_m[c_m] from a FastScan sum.
  @inline(__always)
  public func value(_ sum: UInt32) -> Float { step * Float(sum) + offset }
}
