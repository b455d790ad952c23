import VQ

/// The `.vqx` index file (DESIGN.md §7), version 1. All integers little-endian.
///
/// ```
/// 0   "VQXINDEX"             magic (8 bytes)
/// 8   u32 version = 1        12  u32 header bytes (a multiple of 64)
/// 16  u64 dimension          24  u64 rows (deleted ones included)
/// 32  u64 deleted rows       40  u64 seed (IVF training)
/// 48  u32 metric (0 ip, 1 cosine, 2 l2)   52  u32 lists (0: flat)
/// 56  u32 section count      60  u32 spec bytes
/// 64  u32 code bytes/vector  68  u32 side fields/vector
/// 72  spec string (UTF-8, canonical), zero-padded to a multiple of 8
///     section table: per section u32 kind, u32 CRC-32C, u64 offset, u64 length, u64 reserved
///     u32 CRC-32C of everything above, zero padding to the header size
/// sections, each at a 64-byte-aligned offset: codes, side values (structure-of-arrays), ids (u64),
/// tombstones (u64 bitmap), list offsets (u64, lists + 1), and when present originals (f32 rows),
/// squared norms (f32, l2), centroids (f32, IVF), the quantizer's fitted state (f32).
/// ```
///
/// Sections are aligned so a reader can memory-map the file and search codes and originals in place
/// (`mapped: true`): an index larger than memory pages in on demand. Every section carries a CRC-32C
/// checked on open (a full read of the file; `verifyChecksums: false` skips it for a trusted file).
/// Writers go through `AtomicFile`: temporary file, fsync, rename, folder fsync.
public enum IndexFile {
  public static let magic: [UInt8] = Array("VQXINDEX".utf8)
  public static let version: UInt32 = 1

  enum SectionKind: UInt32, CaseIterable {
    case codes = 1, side, ids, tombstones, listOffsets, originals, squaredNorms, centroids, fittedState, shard,
      centreCorrections

    var name: String {
      switch self {
      case .codes: "codes"
      case .side: "side values"
      case .ids: "ids"
      case .tombstones: "tombstones"
      case .listOffsets: "list offsets"
      case .originals: "originals"
      case .squaredNorms: "squared norms"
      case .centroids: "centroids"
      case .fittedState: "fitted quantizer state"
      case .shard: "shard"
      case .centreCorrections: "centre corrections"
      }
    }
  }

  static let fixedHeaderBytes = 72
  static let sectionEntryBytes = 32

  // MARK: Write

  /// Writes `index` to `path` atomically (the previous file, if any, stays intact until the rename).
  public static func write(_ index: VectorIndex, to path: String) throws {
    #if !_endian(little)
      throw VQError.invalidArgument(".vqx files are written on little-endian machines only")
    #endif
    var sections: [(SectionKind, UnsafeRawBufferPointer)] = []
    // Arrays whose bytes the sections point at must outlive the write: keep them here.
    let listOffsets = index.listOffsets.map { UInt64($0) }
    let fitted = (index.quantizer as? any FittedStateQuantizer)?.fittedState ?? []
    let shard = index.shard.map { [UInt64($0.index), UInt64($0.count), UInt64($0.totalRows)] } ?? []
    try index.codes.withUnsafeCodes { codes in
      try index.codes.withUnsafeAllSides { side in
        try index.ids.withUnsafeBytes { ids in
          try index.tombstones.withUnsafeBytes { tombstones in
            try listOffsets.withUnsafeBytes { offsets in
              try withOptionalBytes(index.originals) { originals in
                try withOptionalBytes(index.squaredNorms) { norms in
                 try withOptionalBytes(index.centreCorrections) { corrections in
                  try withOptionalBytes(index.centroids) { centroids in
                    try withOptionalBytes(fitted.isEmpty ? nil : fitted) { fittedBytes in
                      sections = [
                        (.codes, UnsafeRawBufferPointer(codes)), (.side, UnsafeRawBufferPointer(side)),
                        (.ids, ids), (.tombstones, tombstones), (.listOffsets, offsets),
                      ]
                      if let originals { sections.append((.originals, originals)) }
                      if let norms { sections.append((.squaredNorms, norms)) }
                      if let corrections { sections.append((.centreCorrections, corrections)) }
                      if let centroids { sections.append((.centroids, centroids)) }
                      if let fittedBytes { sections.append((.fittedState, fittedBytes)) }
                      try shard.withUnsafeBytes { shardBytes in
                        if !shard.isEmpty { sections.append((.shard, shardBytes)) }
                        try writeFile(index, sections: sections, to: path)
                      }
                    }
                  }
                 }
                }
              }
            }
          }
        }
      }
    }
  }

  private static func withOptionalBytes<R>(_ batch: VectorBatch?, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
    guard let batch else { return try body(nil) }
    return try batch.withUnsafeBufferPointer { try body(UnsafeRawBufferPointer($0)) }
  }

  private static func withOptionalBytes<R>(_ array: [Float]?, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
    guard let array else { return try body(nil) }
    return try array.withUnsafeBytes { try body($0) }
  }

  private static func writeFile(_ index: VectorIndex, sections: [(SectionKind, UnsafeRawBufferPointer)], to path: String) throws {
    let spec = Array(index.spec.description.utf8)
    let specPadded = (spec.count + 7) / 8 * 8
    let tableStart = fixedHeaderBytes + specPadded
    let headerBytes = (tableStart + sections.count * sectionEntryBytes + 4 + 63) / 64 * 64
    var header = [UInt8]()
    header.reserveCapacity(headerBytes)
    func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { header.append(contentsOf: $0) } }
    header.append(contentsOf: magic)
    put(version)
    put(UInt32(headerBytes))
    put(UInt64(index.dimension))
    put(UInt64(index.rowCount))
    put(UInt64(index.deletedCount))
    put(index.seed)
    put(metricCode(index.metric))
    put(UInt32(index.centroids?.count ?? 0))
    put(UInt32(sections.count))
    put(UInt32(spec.count))
    put(UInt32(index.codes.layout.bytesPerCode))
    put(UInt32(index.codes.layout.sideFields.count))
    header.append(contentsOf: spec)
    header.append(contentsOf: [UInt8](repeating: 0, count: specPadded - spec.count))
    var offset = headerBytes
    for (kind, bytes) in sections {
      put(kind.rawValue)
      put(CRC32C.checksum(bytes))
      put(UInt64(offset))
      put(UInt64(bytes.count))
      put(UInt64(0))
      offset = (offset + bytes.count + 63) / 64 * 64
    }
    put(CRC32C.checksum(header))
    header.append(contentsOf: [UInt8](repeating: 0, count: headerBytes - header.count))
    try AtomicFile.write(to: path) { sink in
      try sink.write(header)
      for (_, bytes) in sections {
        try sink.write(bytes)
        try sink.pad(toMultipleOf: 64)
      }
    }
  }

  static func metricCode(_ metric: IndexMetric) -> UInt32 {
    switch metric {
    case .innerProduct: 0
    case .cosine: 1
    case .l2: 2
    }
  }

  // MARK: Read

  /// The facts in a `.vqx` header, without loading the sections.
  public struct Header: Sendable {
    public var version: UInt32
    public var dimension: Int
    public var rows: Int
    public var deletedRows: Int
    public var seed: UInt64
    public var metric: IndexMetric
    public var lists: Int
    public var spec: QuantizerSpec
    public var bytesPerCode: Int
    public var sideFields: Int
    public var fileBytes: Int
    /// (name, offset, length) of every section, in file order.
    public var sections: [(name: String, offset: Int, length: Int)]
    /// Whether the index stores per-row centre corrections (IVF RaBitQ).
    public var hasCentreCorrections: Bool { sections.contains { $0.name == SectionKind.centreCorrections.name } }
    /// Bytes stored per vector for search: code, side values and, when present, the centre correction
    /// (what `VectorIndex.bytesPerVector` reports; ids and originals not counted).
    public var bytesPerVector: Int { bytesPerCode + 4 * sideFields + (hasCentreCorrections ? 4 : 0) }
  }

  /// Loads the index at `path`. `mapped: true` memory-maps the file and searches codes and originals in
  /// place; otherwise the file is read into memory. Throws, naming the file and the problem, on a foreign
  /// file, an unknown version, a truncated file, a bad checksum or inconsistent sections.
  public static func read(
    _ path: String, mapped: Bool = false, verifyChecksums: Bool = true, registry: QuantizerRegistry = .standard
  ) throws -> VectorIndex {
    let file = try FileBytes(path: path, mapped: mapped)
    let parsed = try parse(file.bytes, path: path, registry: registry)
    let header = parsed.header
    if verifyChecksums {
      for entry in parsed.entries {
        let bytes = UnsafeRawBufferPointer(rebasing: file.bytes[entry.offset..<(entry.offset + entry.length)])
        guard CRC32C.checksum(bytes) == entry.crc else {
          throw VQError.corrupt(path: path, detail: "checksum mismatch in section '\(entry.kind.name)' (the file is damaged)")
        }
      }
    }
    func section(_ kind: SectionKind) -> UnsafeRawBufferPointer? {
      parsed.entries.first { $0.kind == kind }.map { UnsafeRawBufferPointer(rebasing: file.bytes[$0.offset..<($0.offset + $0.length)]) }
    }
    func required(_ kind: SectionKind, bytes expected: Int) throws -> UnsafeRawBufferPointer {
      guard let s = section(kind) else { throw VQError.corrupt(path: path, detail: "missing section '\(kind.name)'") }
      guard s.count == expected else {
        throw VQError.corrupt(path: path, detail: "section '\(kind.name)' has \(s.count) bytes, expected \(expected)")
      }
      return s
    }
    func optional(_ kind: SectionKind, bytes expected: Int) throws -> UnsafeRawBufferPointer? {
      guard section(kind) != nil else { return nil }
      return try required(kind, bytes: expected)
    }

    let d = header.dimension, n = header.rows
    var quantizer = try registry.makeQuantizer(header.spec, dimension: d)
    let layout = quantizer.layout
    guard layout.bytesPerCode == header.bytesPerCode, layout.sideFields.count == header.sideFields else {
      throw VQError.corrupt(
        path: path,
        detail: "\(header.spec.description) codes \(layout.bytesPerCode) bytes + \(layout.sideFields.count) side values per vector here, the file says \(header.bytesPerCode) + \(header.sideFields)")
    }
    let codeBytes = try required(.codes, bytes: layout.bytesPerCode * n)
    let side = try required(.side, bytes: 4 * layout.sideFields.count * n)
    let idBytes = try required(.ids, bytes: 8 * n)
    let tombstoneBytes = try required(.tombstones, bytes: 8 * ((n + 63) / 64))
    let listCount = max(header.lists, 1)
    let offsetBytes = try required(.listOffsets, bytes: 8 * (listCount + 1))
    let originalBytes = try optional(.originals, bytes: 4 * d * n)
    let normBytes = try optional(.squaredNorms, bytes: 4 * n)
    let correctionBytes = try optional(.centreCorrections, bytes: 4 * n)
    if correctionBytes != nil, header.lists == 0 || !(quantizer is RaBitQ) {
      throw VQError.corrupt(path: path, detail: "centre corrections belong to an IVF RaBitQ index, not to this \(header.spec.description) \(header.lists == 0 ? "flat" : "IVF") index")
    }
    let centroidBytes = try optional(.centroids, bytes: 4 * d * header.lists)
    if let restorable = quantizer as? any FittedStateQuantizer {
      let state = section(.fittedState).map { Array($0.bindMemory(to: Float.self)) } ?? []
      do {
        quantizer = try restorable.restoring(fittedState: state)
      } catch {
        throw VQError.corrupt(path: path, detail: "the fitted state of \(header.spec.description) does not fit: \(error)")
      }
    } else if section(.fittedState) != nil {
      throw VQError.corrupt(path: path, detail: "\(header.spec.description) has no fitted state, but the file holds one")
    }
    if header.metric == .l2, normBytes == nil {
      throw VQError.corrupt(path: path, detail: "an l2 index needs the section '\(SectionKind.squaredNorms.name)'")
    }
    if header.lists > 0, centroidBytes == nil {
      throw VQError.corrupt(path: path, detail: "an IVF index needs the section '\(SectionKind.centroids.name)'")
    }

    let listOffsets = offsetBytes.bindMemory(to: UInt64.self).map { Int(truncatingIfNeeded: $0) }
    guard listOffsets.first == 0, listOffsets.last == n, zip(listOffsets, listOffsets.dropFirst()).allSatisfy({ $0 <= $1 }) else {
      throw VQError.corrupt(path: path, detail: "list offsets are not increasing from 0 to \(n)")
    }
    let tombstones = Array(tombstoneBytes.bindMemory(to: UInt64.self))
    var deleted = 0
    for w in tombstones { deleted += w.nonzeroBitCount }
    if n % 64 != 0, let last = tombstones.last, last >> UInt64(n % 64) != 0 {
      throw VQError.corrupt(path: path, detail: "tombstones mark rows beyond the \(n) stored")
    }
    guard deleted == header.deletedRows else {
      throw VQError.corrupt(path: path, detail: "the header says \(header.deletedRows) deleted rows, the tombstones mark \(deleted)")
    }
    let ids = Array(idBytes.bindMemory(to: UInt64.self))
    var live = Set<UInt64>(minimumCapacity: n)
    for (row, id) in ids.enumerated() where tombstones[row >> 6] & (1 << UInt64(row & 63)) == 0 {
      guard live.insert(id).inserted else { throw VQError.corrupt(path: path, detail: "id \(id) is stored twice") }
    }

    // Codes and originals borrow from the file's bytes (mapped, or read once into memory): no copy.
    let codes = CodeBuffer(layout: layout, count: n, borrowingCodes: codeBytes.baseAddress!, side: side.baseAddress!, owner: file)
    let originals = originalBytes.map { VectorBatch(dimension: d, count: n, borrowing: $0.baseAddress!, owner: file) }
    if let originalBytes {
      let values = originalBytes.bindMemory(to: Float.self)
      if let bad = values.firstIndex(where: { !$0.isFinite }) {
        throw VQError.corrupt(path: path, detail: "non-finite original value at row \(bad / d), column \(bad % d)")
      }
    }
    let centroids = try centroidBytes.map { bytes -> VectorBatch in
      try VectorBatch(dimension: d, values: Array(bytes.bindMemory(to: Float.self)))
    }
    var index = VectorIndex(
      spec: header.spec, dimension: d, metric: header.metric, seed: header.seed, quantizer: quantizer,
      centroids: centroids, listOffsets: listOffsets, codes: codes, ids: ids, originals: originals,
      squaredNorms: normBytes.map { Array($0.bindMemory(to: Float.self)) },
      centreCorrections: correctionBytes.map { Array($0.bindMemory(to: Float.self)) }, tombstones: tombstones)
    if let shardBytes = try optional(.shard, bytes: 24) {
      let values = shardBytes.bindMemory(to: UInt64.self).map { Int(truncatingIfNeeded: $0) }
      do {
        index.shard = try ShardInfo(index: values[0], count: values[1], totalRows: values[2])
      } catch {
        throw VQError.corrupt(path: path, detail: "bad shard section: \(error)")
      }
      guard index.shard!.rows.count == n else {
        throw VQError.corrupt(path: path, detail: "shard \(values[0])/\(values[1]) should hold \(index.shard!.rows.count) rows, the file holds \(n)")
      }
    }
    return index
  }

  /// Reads only the header of `path` (and checks its checksum).
  public static func header(_ path: String, registry: QuantizerRegistry = .standard) throws -> Header {
    let file = try FileBytes(path: path, mapped: true)
    return try parse(file.bytes, path: path, registry: registry).header
  }

  struct Entry {
    var kind: SectionKind
    var crc: UInt32
    var offset: Int
    var length: Int
  }

  static func parse(_ bytes: UnsafeRawBufferPointer, path: String, registry: QuantizerRegistry) throws -> (
    header: Header, entries: [Entry]
  ) {
    let size = bytes.count
    let magicBytes = min(size, magic.count)
    guard bytes[0..<magicBytes].elementsEqual(magic[0..<magicBytes]) else {
      throw VQError.corrupt(path: path, detail: "not a swift-vq index file (.vqx): bad magic bytes")
    }
    guard size >= fixedHeaderBytes else {
      throw VQError.truncated(path: path, record: 0, byteOffset: size, detail: "the .vqx header needs \(fixedHeaderBytes) bytes, the file has \(size)")
    }
    func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
    let version = u32(8)
    guard version == IndexFile.version else {
      throw VQError.corrupt(path: path, detail: "unsupported .vqx version \(version) (this build reads version \(IndexFile.version))")
    }
    let headerBytes = Int(u32(12))
    guard headerBytes <= size else {
      throw VQError.truncated(path: path, record: 0, byteOffset: size, detail: "the .vqx header needs \(headerBytes) bytes, the file has \(size)")
    }
    let sectionCount = Int(u32(56)), specBytes = Int(u32(60))
    let tableStart = fixedHeaderBytes + (specBytes + 7) / 8 * 8
    let crcAt = tableStart + sectionCount * sectionEntryBytes
    guard headerBytes % 64 == 0, crcAt + 4 <= headerBytes, sectionCount <= SectionKind.allCases.count else {
      throw VQError.corrupt(path: path, detail: "malformed .vqx header (size \(headerBytes), \(sectionCount) sections, spec \(specBytes) bytes)")
    }
    guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<crcAt])) == u32(crcAt) else {
      throw VQError.corrupt(path: path, detail: "header checksum mismatch (the file is damaged)")
    }
    let specText = String(decoding: bytes[fixedHeaderBytes..<(fixedHeaderBytes + specBytes)], as: UTF8.self)
    let spec: QuantizerSpec
    do {
      spec = try QuantizerSpec(parsing: specText, registry: registry)
    } catch {
      throw VQError.corrupt(path: path, detail: "the index's spec '\(specText)' is not known to this build: \(error)")
    }
    let metric: IndexMetric
    switch u32(48) {
    case 0: metric = .innerProduct
    case 1: metric = .cosine
    case 2: metric = .l2
    case let other: throw VQError.corrupt(path: path, detail: "unknown metric code \(other)")
    }
    let dimension = Int(truncatingIfNeeded: u64(16)), rows = Int(truncatingIfNeeded: u64(24))
    let deleted = Int(truncatingIfNeeded: u64(32))
    guard dimension > 0, dimension <= 1 << 20, rows >= 0, rows <= size, deleted >= 0, deleted <= rows else {
      throw VQError.corrupt(path: path, detail: "implausible header: dimension \(dimension), \(rows) rows, \(deleted) deleted")
    }
    var entries: [Entry] = []
    for s in 0..<sectionCount {
      let at = tableStart + s * sectionEntryBytes
      guard let kind = SectionKind(rawValue: u32(at)) else {
        throw VQError.corrupt(path: path, detail: "unknown section kind \(u32(at))")
      }
      guard !entries.contains(where: { $0.kind == kind }) else {
        throw VQError.corrupt(path: path, detail: "section '\(kind.name)' appears twice")
      }
      let offset = u64(at + 8), length = u64(at + 16)
      guard offset % 64 == 0, offset >= UInt64(headerBytes), offset <= UInt64(Int.max), length <= UInt64(Int.max) - offset else {
        throw VQError.corrupt(path: path, detail: "section '\(kind.name)' has a bad offset \(offset)")
      }
      guard offset + length <= UInt64(size) else {
        throw VQError.truncated(
          path: path, record: 0, byteOffset: size,
          detail: "section '\(kind.name)' needs bytes \(offset)..<\(offset + length), the file has \(size)")
      }
      entries.append(Entry(kind: kind, crc: u32(at + 4), offset: Int(offset), length: Int(length)))
    }
    let header = Header(
      version: version, dimension: dimension, rows: rows, deletedRows: deleted, seed: u64(40), metric: metric,
      lists: Int(u32(52)), spec: spec, bytesPerCode: Int(u32(64)), sideFields: Int(u32(68)), fileBytes: size,
      sections: entries.map { ($0.kind.name, $0.offset, $0.length) })
    return (header, entries)
  }
}
