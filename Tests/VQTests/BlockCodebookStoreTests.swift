import Foundation
import Testing
@testable import VQ

/// The shipped BlockQuant codebooks (Sources/VQ/Resources/BlockCodebooks): present for every key of the
/// shipped set, loaded instead of trained, and exactly what the generator (`BlockCodebook.trained` +
/// `BlockCodebookStore.fileBytes`, i.e. `vq blockcodebooks`) produces.
@Suite struct BlockCodebookStoreTests {
  /// The shipped folder, found (tests run next to the resource bundle or from the source tree).
  func directory() throws -> String { try #require(BlockCodebookStore.directory, "no BlockCodebooks folder found") }

  @Test func everyShippedKeyHasAValidFileAndLoadsFromIt() throws {
    let folder = try directory()
    #expect(BlockCodebookStore.shippedKeys.count == 48)
    for key in BlockCodebookStore.shippedKeys {
      let name = BlockCodebookStore.fileName(dimension: key.dimension, blockSize: key.blockSize, bits: key.bits)
      let path = folder + "/" + name
      #expect(FileManager.default.fileExists(atPath: path), "missing \(name)")
      let book = try BlockCodebook.cached(dimension: key.dimension, blockSize: key.blockSize, bits: key.bits)
      #expect(book.isShipped, "\(name) was trained, not loaded")
      #expect(book.codewords.count == book.count * key.blockSize)
      #expect(book.codewords.allSatisfy { $0.isFinite })
      // The file holds a converged k-means solution: at b ≤ 4 (blocks of p ≥ 2) its distortion is below
      // scalar Lloyd–Max at the same bits (0.3634, 0.1175, 0.0345, 0.0095 per coordinate; rotation.md
      // §5.3: block codebooks gain).
      if key.bits <= 4 {
        let lloydMax = [0.363380, 0.117482, 0.034548, 0.009497][key.bits - 1]
        #expect(book.trainingDistortion < lloydMax, "\(name): distortion \(book.trainingDistortion)")
      }
    }
  }

  /// The generator reproduces shipped files byte for byte (the cheap ones: 256 codewords of 2 or 4
  /// coordinates; the 4096-codeword books take seconds each: `vq blockcodebooks --check` covers them).
  @Test(arguments: [(128, 4, 2), (128, 2, 4), (1024, 2, 4)])
  func smallShippedFilesRegenerateBitForBit(_ key: (Int, Int, Int)) throws {
    let (n, p, b) = key
    let path = try directory() + "/" + BlockCodebookStore.fileName(dimension: n, blockSize: p, bits: b)
    let shipped = try #require(FileManager.default.contents(atPath: path))
    let regenerated = BlockCodebookStore.fileBytes(of: try BlockCodebook.trained(dimension: n, blockSize: p, bits: b))
    #expect([UInt8](shipped) == regenerated)
    // And the loaded codebook equals the trained one.
    let loaded = try BlockCodebook.cached(dimension: n, blockSize: p, bits: b)
    let trained = try BlockCodebook.trained(dimension: n, blockSize: p, bits: b)
    #expect(loaded.isShipped && !trained.isShipped)
    #expect(loaded.codewords == trained.codewords && loaded.iterations == trained.iterations
            && loaded.trainingDistortion == trained.trainingDistortion && loaded.sampleCount == trained.sampleCount)
  }

  @Test func fileRoundTripsAndDamageIsReported() throws {
    let book = try BlockCodebook.trained(dimension: 24, blockSize: 2, bits: 2)
    let key = BlockCodebookKey(dimension: 24, blockSize: 2, bits: 2, seed: BlockCodebook.defaultSeed)
    let bytes = BlockCodebookStore.fileBytes(of: book)
    #expect(bytes.count == BlockCodebookFile.headerBytes + 4 * 16 * 2 + 4)
    let stored = try bytes.withUnsafeBytes { try BlockCodebookFile.decode($0, key: key, path: "x.vqbc") }
    #expect(stored.codewords == book.codewords && stored.iterations == book.iterations
            && stored.sampleCount == book.sampleCount && stored.trainingDistortion == book.trainingDistortion)

    func rejects(_ damaged: [UInt8], key: BlockCodebookKey = key, mentioning word: String) {
      do {
        _ = try damaged.withUnsafeBytes { try BlockCodebookFile.decode($0, key: key, path: "x.vqbc") }
        Issue.record("damaged file accepted (\(word))")
      } catch let error as VQError {
        guard case .corrupt(let path, let detail) = error else { Issue.record("wrong error \(error)"); return }
        #expect(path == "x.vqbc")
        #expect(detail.contains(word), "\(detail)")
      } catch {
        Issue.record("unexpected error \(error)")
      }
    }
    var flipped = bytes
    flipped[60] ^= 0x10  // a codeword bit
    rejects(flipped, mentioning: "checksum")
    rejects(Array(bytes.dropLast(5)), mentioning: "bytes")
    rejects(Array(bytes.prefix(20)), mentioning: "shorter")
    var magic = bytes
    magic[0] = UInt8(ascii: "X")
    rejects(magic, mentioning: "magic")
    var version = bytes
    version[8] &+= 1
    rejects(version, mentioning: "trainer version")
    rejects(bytes, key: BlockCodebookKey(dimension: 24, blockSize: 2, bits: 2, seed: 1), mentioning: "expected (n 24")
  }

  /// A key outside the shipped set is trained, and equals a fresh training run.
  @Test func unshippedKeysAreTrained() throws {
    let book = try BlockCodebook.cached(dimension: 40, blockSize: 2, bits: 2)
    #expect(!book.isShipped)
    #expect(book.codewords == (try BlockCodebook.trained(dimension: 40, blockSize: 2, bits: 2)).codewords)
  }
}
