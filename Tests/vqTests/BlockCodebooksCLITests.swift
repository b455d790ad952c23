import Foundation
import Testing
import VQ

/// `vq blockcodebooks`: the generator writes what the library trains, and --check compares with the
/// shipped files byte for byte.
@Suite struct BlockCodebooksCLITests {
  @Test func generatorWritesAndChecksShippedFiles() throws {
    let shipped = try #require(BlockCodebookStore.directory)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vq-blockcodebooks-\(getpid())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let written = try VQBinary.run(["blockcodebooks", "--output", folder.path, "--dimensions", "128", "--bits", "2,4"])
    #expect(written.status == 0, "\(written.stderr)")
    for name in ["n128-p4-b2.vqbc", "n128-p2-b4.vqbc"] {
      let mine = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path)
      #expect(mine != nil && mine == FileManager.default.contents(atPath: shipped + "/" + name), "\(name)")
    }
    let checked = try VQBinary.run(["blockcodebooks", "--check", shipped, "--dimensions", "128", "--bits", "2,4"])
    #expect(checked.status == 0 && checked.stdout.contains("same  n128-p4-b2.vqbc"), "\(checked.stdout) \(checked.stderr)")
    // A folder without the files: exit 2, naming them.
    let missing = try VQBinary.run(["blockcodebooks", "--check", folder.path, "--dimensions", "64", "--bits", "4"])
    #expect(missing.status == 2 && missing.stderr.contains("n64-p2-b4.vqbc"), "\(missing.stderr)")
    let bad = try VQBinary.run(["blockcodebooks", "--output", folder.path, "--bits", "two"])
    #expect(bad.status == 2 && bad.stderr.contains("--bits"), "\(bad.stderr)")
  }
}
