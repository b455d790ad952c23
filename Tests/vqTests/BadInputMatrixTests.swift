import Foundation
import Testing
import VQ
import VQTestSupport

/// The bad-input matrix: every subcommand of the real `vq` binary × every bad input that applies to
/// it. Each case must exit with status 2 (not a signal, not 0 or 1), print to stderr a single
/// `error: ` message that names the problem (the words in `mentions`, compared in lower case: the
/// file's name and what is wrong with it, the option or key, the allowed range), write no output file
/// and leave every input file byte-for-byte as it was, with no temporary file behind.
///
/// Bad inputs: NaN, +Inf, -Inf, a zero vector with cosine, an empty file, a truncated file, wrong
/// magic (.npy, .vqx), an unknown .vqx version, a bad checksum, a dimension mismatch between files, an
/// unknown spec, an unknown key, out-of-range bits, k = 0, k > count, an unreadable path (missing, a
/// folder), an output path in a missing folder. The matrix is built in `cases`; its size is checked.
@Suite(.serialized) struct BadInputMatrixTests {
  struct Case {
    let command: String
    let input: String
    let arguments: [String]
    let mentions: [String]
    /// A file the command would write: it must not exist afterwards.
    var output: String? = nil
  }

  /// The fixture files: good ones and one of each bad kind.
  final class Files {
    let fixtures: Fixtures
    let base, queries, index, cosineIndex, extra: String
    /// Bad vector files by kind: (path, words the message must contain).
    var badVectors: [(kind: String, path: String, mentions: [String])] = []
    var badIndexes: [(kind: String, path: String, mentions: [String])] = []
    let zeroVectors, otherDimension: String
    let missingFolder: String
    /// `vq bench --data` folders whose base file is each bad kind: (kind, folder, words).
    var badBenchData: [(kind: String, folder: String, mentions: [String])] = []
    var mismatchedBenchData = ""

    init() throws {
      fixtures = try Fixtures()
      let d = 8
      let rows = Fixtures.vectors(200, d, seed: 1)
      base = try fixtures.write("base.fvecs", Fixtures.fvecs(rows))
      queries = try fixtures.write("queries.fvecs", Fixtures.fvecs(Fixtures.vectors(5, d, seed: 2)))
      extra = try fixtures.write("extra.fvecs", Fixtures.fvecs(Fixtures.vectors(20, d, seed: 3)))
      otherDimension = try fixtures.write("dim7.fvecs", Fixtures.fvecs(Fixtures.vectors(20, 7, seed: 4)))
      var zero = Fixtures.vectors(20, d, seed: 5)
      zero[4] = [Float](repeating: 0, count: d)
      zeroVectors = try fixtures.write("zero.fvecs", Fixtures.fvecs(zero))
      missingFolder = fixtures.path("no/such/folder")

      func withValue(_ v: Float, row: Int, column: Int) -> [UInt8] {
        var r = Fixtures.vectors(20, d, seed: 6)
        r[row][column] = v
        return Fixtures.fvecs(r)
      }
      let npyGood = Fixtures.npy(descr: "<f4", shape: [3, d], payload: [UInt8](repeating: 0x3F, count: 3 * d * 4))
      var npyBadMagic = npyGood
      npyBadMagic[1] = UInt8(ascii: "X")
      try fixtures.fixtures_mkdir("folder.fvecs")
      badVectors = [
        ("NaN", try fixtures.write("nan.fvecs", withValue(.nan, row: 3, column: 2)), ["nan.fvecs", "nan", "row 3", "column 2"]),
        ("+Inf", try fixtures.write("pinf.fvecs", withValue(.infinity, row: 5, column: 0)), ["pinf.fvecs", "inf", "row 5"]),
        ("-Inf", try fixtures.write("ninf.fvecs", withValue(-.infinity, row: 7, column: 1)), ["ninf.fvecs", "inf", "row 7"]),
        ("empty file", try fixtures.write("empty.fvecs", []), ["empty.fvecs", "empty"]),
        ("truncated file", try fixtures.write("trunc.fvecs", Array(Fixtures.fvecs(Fixtures.vectors(20, d, seed: 7)).dropLast(5))), ["trunc.fvecs", "truncated", "record 19"]),
        ("wrong magic", try fixtures.write("magic.npy", npyBadMagic), ["magic.npy", "magic"]),
        ("missing path", fixtures.path("missing.fvecs"), ["missing.fvecs"]),
        ("unreadable path (a folder)", fixtures.path("folder.fvecs"), ["folder.fvecs"]),
      ]
      // The same bad files as the base of a `vq bench --data` folder (named base.*, as bench looks for).
      for (i, v) in badVectors.enumerated() {
        let ext = (v.path as NSString).pathExtension
        let folder = fixtures.path("bench-data-\(i)")
        if v.kind == "missing path" {
          badBenchData.append((v.kind, folder, ["bench-data-\(i)", "not a folder"]))
          continue
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let base = folder + "/base.\(ext)"
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: v.path, isDirectory: &isDirectory), isDirectory.boolValue {
          try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: false)
        } else {
          try FileManager.default.copyItem(atPath: v.path, toPath: base)
        }
        badBenchData.append((v.kind, folder, ["base.\(ext)"] + v.mentions.dropFirst()))
      }
      mismatchedBenchData = fixtures.path("bench-data-dim")
      try FileManager.default.createDirectory(atPath: mismatchedBenchData, withIntermediateDirectories: false)
      try FileManager.default.copyItem(atPath: base, toPath: mismatchedBenchData + "/base.fvecs")
      try FileManager.default.copyItem(atPath: otherDimension, toPath: mismatchedBenchData + "/query.fvecs")

      index = fixtures.path("good.vqx")
      let build = try VQBinary.run(["index", "build", "--spec", "rabitq:bits=2", "--base", base, "--out", index])
      try #require(build.status == 0, "\(build.stderr)")
      cosineIndex = fixtures.path("cosine.vqx")
      let cosine = try VQBinary.run(["index", "build", "--spec", "rabitq:bits=2", "--base", base, "--out", cosineIndex, "--metric", "cosine"])
      try #require(cosine.status == 0, "\(cosine.stderr)")
      let good = Array(try Data(contentsOf: URL(fileURLWithPath: index)))
      var badMagic = good
      badMagic[0] ^= 0xFF
      var badVersion = good
      badVersion[8] = 99  // the u32 version at offset 8
      var badChecksum = good
      badChecksum[good.count - 40] ^= 0x10  // inside the last section
      try fixtures.fixtures_mkdir("folder.vqx")
      badIndexes = [
        ("empty file", try fixtures.write("empty.vqx", []), ["empty.vqx", "empty"]),
        ("truncated file", try fixtures.write("trunc.vqx", Array(good.prefix(good.count - 100))), ["trunc.vqx", "truncated"]),
        ("wrong magic", try fixtures.write("magic.vqx", badMagic), ["magic.vqx", "magic"]),
        ("unknown version", try fixtures.write("version.vqx", badVersion), ["version.vqx", "version 99"]),
        ("bad checksum", try fixtures.write("checksum.vqx", badChecksum), ["checksum.vqx", "checksum"]),
        ("missing path", fixtures.path("missing.vqx"), ["missing.vqx"]),
        ("unreadable path (a folder)", fixtures.path("folder.vqx"), ["folder.vqx"]),
      ]
    }

    func out(_ name: String) -> String { fixtures.path(name) }
  }

  static let badSpecs: [(kind: String, spec: String, mentions: [String])] = [
    ("unknown spec", "nope:bits=2", ["nope"]),
    ("unknown key", "rabitq:colour=red", ["colour"]),
    ("out-of-range bits", "rabitq:bits=12", ["bits", "12"]),
  ]

  /// Every applicable (subcommand, bad input) pair.
  static func cases(_ f: Files) -> [Case] {
    var cases: [Case] = []
    var n = 0
    func fresh(_ ext: String) -> String {
      n += 1
      return f.out("out\(n).\(ext)")
    }
    let inMissingFolder = { (ext: String) in f.missingFolder + "/x.\(ext)" }

    // eval --spec --base [--queries]
    for v in f.badVectors {
      cases.append(Case(command: "eval", input: "base: \(v.kind)", arguments: ["eval", "--spec", "int:bits=4", "--base", v.path], mentions: v.mentions))
      cases.append(Case(command: "eval", input: "queries: \(v.kind)", arguments: ["eval", "--spec", "int:bits=4", "--base", f.base, "--queries", v.path], mentions: v.mentions))
    }
    cases.append(Case(command: "eval", input: "dimension mismatch", arguments: ["eval", "--spec", "int:bits=4", "--base", f.base, "--queries", f.otherDimension], mentions: ["dim7.fvecs", "dimension"]))
    for s in badSpecs {
      cases.append(Case(command: "eval", input: s.kind, arguments: ["eval", "--spec", s.spec, "--base", f.base], mentions: s.mentions))
    }

    // index build --spec --base --out
    for v in f.badVectors {
      let o = fresh("vqx")
      cases.append(Case(command: "index build", input: "base: \(v.kind)", arguments: ["index", "build", "--spec", "sign", "--base", v.path, "--out", o], mentions: v.mentions, output: o))
    }
    do {
      let o = fresh("vqx")
      cases.append(Case(command: "index build", input: "zero vector with cosine", arguments: ["index", "build", "--spec", "sign", "--base", f.zeroVectors, "--out", o, "--metric", "cosine"], mentions: ["zero", "row 4"], output: o))
    }
    for s in badSpecs {
      let o = fresh("vqx")
      cases.append(Case(command: "index build", input: s.kind, arguments: ["index", "build", "--spec", s.spec, "--base", f.base, "--out", o], mentions: s.mentions, output: o))
    }
    cases.append(Case(command: "index build", input: "output in a missing folder", arguments: ["index", "build", "--spec", "sign", "--base", f.base, "--out", inMissingFolder("vqx")], mentions: ["no/such/folder"], output: inMissingFolder("vqx")))
    do {
      let o = fresh("vqx")
      cases.append(Case(command: "index build", input: "lists > count", arguments: ["index", "build", "--spec", "sign", "--base", f.base, "--out", o, "--ivf", "500"], mentions: ["500", "lists"], output: o))
    }

    // index search IDX --queries [--k]
    for x in f.badIndexes {
      cases.append(Case(command: "index search", input: "index: \(x.kind)", arguments: ["index", "search", x.path, "--queries", f.queries], mentions: x.mentions))
    }
    for v in f.badVectors {
      cases.append(Case(command: "index search", input: "queries: \(v.kind)", arguments: ["index", "search", f.index, "--queries", v.path], mentions: v.mentions))
    }
    cases.append(Case(command: "index search", input: "dimension mismatch", arguments: ["index", "search", f.index, "--queries", f.otherDimension], mentions: ["dimension", "7", "8"]))
    cases.append(Case(command: "index search", input: "zero query with cosine", arguments: ["index", "search", f.cosineIndex, "--queries", f.zeroVectors], mentions: ["zero", "4"]))
    cases.append(Case(command: "index search", input: "k = 0", arguments: ["index", "search", f.index, "--queries", f.queries, "--k", "0"], mentions: ["k", "0"]))
    cases.append(Case(command: "index search", input: "k > count", arguments: ["index", "search", f.index, "--queries", f.queries, "--k", "500"], mentions: ["k = 500", "200"]))
    cases.append(Case(command: "index search", input: "groundtruth: missing path", arguments: ["index", "search", f.index, "--queries", f.queries, "--groundtruth", f.out("missing.ivecs")], mentions: ["missing.ivecs"]))

    // index info IDX --verify
    for x in f.badIndexes {
      cases.append(Case(command: "index info", input: "index: \(x.kind)", arguments: ["index", "info", x.path, "--verify"], mentions: x.mentions))
    }

    // index add IDX --vectors --out
    for x in f.badIndexes {
      let o = fresh("vqx")
      cases.append(Case(command: "index add", input: "index: \(x.kind)", arguments: ["index", "add", x.path, "--vectors", f.extra, "--out", o], mentions: x.mentions, output: o))
    }
    for v in f.badVectors {
      let o = fresh("vqx")
      cases.append(Case(command: "index add", input: "vectors: \(v.kind)", arguments: ["index", "add", f.index, "--vectors", v.path, "--out", o], mentions: v.mentions, output: o))
    }
    do {
      let o = fresh("vqx"), p = fresh("vqx"), q = fresh("vqx")
      cases.append(Case(command: "index add", input: "dimension mismatch", arguments: ["index", "add", f.index, "--vectors", f.otherDimension, "--out", o], mentions: ["dimension", "7", "8"], output: o))
      cases.append(Case(command: "index add", input: "zero vector with cosine", arguments: ["index", "add", f.cosineIndex, "--vectors", f.zeroVectors, "--out", p], mentions: ["zero", "4"], output: p))
      cases.append(Case(command: "index add", input: "in-place: NaN", arguments: ["index", "add", f.index, "--vectors", f.badVectors[0].path], mentions: f.badVectors[0].mentions))
      cases.append(Case(command: "index add", input: "ids: missing path", arguments: ["index", "add", f.index, "--vectors", f.extra, "--ids", f.out("missing.ivecs"), "--out", q], mentions: ["missing.ivecs"], output: q))
    }
    cases.append(Case(command: "index add", input: "output in a missing folder", arguments: ["index", "add", f.index, "--vectors", f.extra, "--out", inMissingFolder("vqx")], mentions: ["no/such/folder"], output: inMissingFolder("vqx")))

    // index delete IDX --ids --out
    for x in f.badIndexes {
      let o = fresh("vqx")
      cases.append(Case(command: "index delete", input: "index: \(x.kind)", arguments: ["index", "delete", x.path, "--ids", "1", "--out", o], mentions: x.mentions, output: o))
    }
    cases.append(Case(command: "index delete", input: "unknown id", arguments: ["index", "delete", f.index, "--ids", "100000"], mentions: ["100000"]))
    cases.append(Case(command: "index delete", input: "output in a missing folder", arguments: ["index", "delete", f.index, "--ids", "1", "--out", inMissingFolder("vqx")], mentions: ["no/such/folder"], output: inMissingFolder("vqx")))

    // index compact IDX --out
    for x in f.badIndexes {
      let o = fresh("vqx")
      cases.append(Case(command: "index compact", input: "index: \(x.kind)", arguments: ["index", "compact", x.path, "--out", o], mentions: x.mentions, output: o))
    }
    cases.append(Case(command: "index compact", input: "output in a missing folder", arguments: ["index", "compact", f.index, "--out", inMissingFolder("vqx")], mentions: ["no/such/folder"], output: inMissingFolder("vqx")))

    // index train --base --ivf --out
    for v in f.badVectors {
      let o = fresh("fvecs")
      cases.append(Case(command: "index train", input: "base: \(v.kind)", arguments: ["index", "train", "--base", v.path, "--ivf", "4", "--out", o], mentions: v.mentions, output: o))
    }
    do {
      let o = fresh("fvecs"), p = fresh("fvecs")
      cases.append(Case(command: "index train", input: "lists = 0", arguments: ["index", "train", "--base", f.base, "--ivf", "0", "--out", o], mentions: ["ivf", "0"], output: o))
      cases.append(Case(command: "index train", input: "lists > count", arguments: ["index", "train", "--base", f.base, "--ivf", "500", "--out", p], mentions: ["500"], output: p))
    }
    cases.append(Case(command: "index train", input: "output in a missing folder", arguments: ["index", "train", "--base", f.base, "--ivf", "4", "--out", inMissingFolder("fvecs")], mentions: ["no/such/folder"], output: inMissingFolder("fvecs")))

    // index merge SHARDS --out
    for x in f.badIndexes {
      let o = fresh("vqx")
      cases.append(Case(command: "index merge", input: "shard: \(x.kind)", arguments: ["index", "merge", x.path, "--out", o], mentions: x.mentions, output: o))
    }

    // export IDX --format --out
    for x in f.badIndexes {
      let o = fresh("fvecs")
      cases.append(Case(command: "export", input: "index: \(x.kind)", arguments: ["export", x.path, "--format", "fvecs", "--out", o], mentions: x.mentions, output: o))
    }
    cases.append(Case(command: "export", input: "output in a missing folder", arguments: ["export", f.index, "--format", "fvecs", "--out", inMissingFolder("fvecs")], mentions: ["no/such/folder"], output: inMissingFolder("fvecs")))

    // import INPUT --spec --out
    for v in f.badVectors {
      let o = fresh("vqx")
      cases.append(Case(command: "import", input: "vectors: \(v.kind)", arguments: ["import", v.path, "--spec", "sign", "--out", o], mentions: v.mentions, output: o))
    }
    for s in badSpecs {
      let o = fresh("vqx")
      cases.append(Case(command: "import", input: s.kind, arguments: ["import", f.base, "--spec", s.spec, "--out", o], mentions: s.mentions, output: o))
    }
    cases.append(Case(command: "import", input: "output in a missing folder", arguments: ["import", f.base, "--spec", "sign", "--out", inMissingFolder("vqx")], mentions: ["no/such/folder"], output: inMissingFolder("vqx")))

    // bench --data DIR --out DIR: bad data, bad options; the report folder must not appear.
    func bench(_ input: String, _ arguments: [String], _ mentions: [String]) {
      let o = fresh("report")
      cases.append(Case(command: "bench", input: input, arguments: ["bench", "--out", o, "--kv", "none"] + arguments, mentions: mentions, output: o))
    }
    for v in f.badBenchData { bench("data: \(v.kind)", ["--data", v.folder, "--methods", "int:bits=4"], v.mentions) }
    bench("dimension mismatch", ["--data", f.mismatchedBenchData, "--methods", "int:bits=4"], ["query.fvecs", "dimension"])
    bench("unknown spec", ["--methods", "nope:bits=2"], ["nope"])
    bench("unknown key", ["--methods", "rabitq:colour=red"], ["colour"])
    bench("out-of-range bits", ["--methods", "int", "--bits", "12"], ["bits", "12"])
    bench("threads = 0", ["--methods", "int:bits=4", "--threads", "0"], ["--threads", "0"])
    bench("kv: missing folder", ["--methods", "int:bits=4", "--kv", f.out("no-kv")], ["no-kv"])
    bench("kv-tokens < 8", ["--methods", "int:bits=4", "--kv-tokens", "2"], ["--kv-tokens", "2"])
    bench("unknown peer", ["--methods", "int:bits=4", "--peer", "annoy"], ["--peer", "annoy"])
    bench("--quick alone", ["--quick"], ["--quick"])
    bench("threads = 0 with an experiment", ["--dme", "--quick", "--threads", "0"], ["--threads", "0"])
    cases.append(Case(command: "bench", input: "output in a missing folder", arguments: ["bench", "--methods", "int:bits=4", "--kv", "none", "--out", inMissingFolder("report")], mentions: ["no/such/folder"], output: inMissingFolder("report")))

    // asq --input FILE --levels s
    for v in f.badVectors {
      cases.append(Case(command: "asq", input: "input: \(v.kind)", arguments: ["asq", "--input", v.path, "--levels", "4"], mentions: v.mentions))
    }
    cases.append(Case(command: "asq", input: "levels = 1", arguments: ["asq", "--input", f.base, "--levels", "1"], mentions: ["--levels", "1"]))
    cases.append(Case(command: "asq", input: "levels > 65536", arguments: ["asq", "--input", f.base, "--levels", "70000"], mentions: ["--levels", "70000"]))
    cases.append(Case(command: "asq", input: "approx = 1", arguments: ["asq", "--input", f.base, "--levels", "4", "--approx", "1"], mentions: ["--approx", "1"]))
    cases.append(Case(command: "asq", input: "weights: dimension mismatch", arguments: ["asq", "--input", f.base, "--levels", "4", "--weights", f.otherDimension], mentions: ["dim7.fvecs"]))
    cases.append(Case(command: "asq", input: "weights: wrong count", arguments: ["asq", "--input", f.base, "--levels", "4", "--weights", f.extra], mentions: ["extra.fvecs", "20", "200"]))
    for v in f.badVectors {
      cases.append(Case(command: "asq", input: "weights: \(v.kind)", arguments: ["asq", "--input", f.base, "--levels", "4", "--weights", v.path], mentions: v.mentions))
    }
    return cases
  }

  @Test("every subcommand x every bad input: exit 2, 'error: ' naming the problem, no output, inputs untouched")
  func matrix() throws {
    let files = try Files()
    let cases = Self.cases(files)
    // 8 vector kinds, 7 index kinds, 3 spec kinds over 13 subcommands (see `cases`).
    #expect(cases.count == 136 + 19 + 21, "the matrix has \(cases.count) cases")
    let inputs = try FileManager.default.contentsOfDirectory(atPath: files.fixtures.folder.path).sorted()
    func snapshot() -> [String: Data] {
      Dictionary(uniqueKeysWithValues: inputs.compactMap { name in
        FileManager.default.contents(atPath: files.fixtures.path(name)).map { (name, $0) }
      })
    }
    let before = snapshot()
    for c in cases {
      let out = try VQBinary.run(c.arguments)
      let label = "\(c.command) × \(c.input)"
      #expect(out.status == 2, "\(label): exit \(out.status), stderr: \(out.stderr)")
      #expect(out.stderr.hasPrefix("error: "), "\(label): stderr: \(out.stderr)")
      #expect(!out.stderr.contains("Fatal error") && !out.stderr.contains("Crash"), "\(label): \(out.stderr)")
      let message = out.stderr.lowercased()
      for word in c.mentions {
        #expect(message.contains(word.lowercased()), "\(label): the message does not mention '\(word)': \(out.stderr)")
      }
      if let output = c.output {
        #expect(!FileManager.default.fileExists(atPath: output), "\(label) left \(output)")
      }
    }
    #expect(snapshot() == before, "a failed command changed an input file")
    let now = try FileManager.default.contentsOfDirectory(atPath: files.fixtures.folder.path).sorted()
    #expect(now == inputs, "files appeared or vanished: \(Set(now).symmetricDifference(inputs))")
  }
}

extension Fixtures {
  /// Creates an empty folder `name` inside the fixture folder (an unreadable path for a file reader).
  func fixtures_mkdir(_ name: String) throws {
    try FileManager.default.createDirectory(atPath: path(name), withIntermediateDirectories: false)
  }
}
