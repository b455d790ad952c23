import Foundation
import VQKernels

/// The machine a report was measured on: numbers from different machines are not comparable.
public struct MachineInfo: Sendable, Equatable, Decodable {
  /// CPU model name (`/proc/cpuinfo`), or `nil` where unknown.
  public var cpuModel: String?
  /// Cores the process may use.
  public var cores: Int
  /// The CPU features the kernels care about (`nil` where unknown).
  public var flags: CPUFlags?
  /// The kernel dispatch level in use (`VQ_KERNEL_LEVEL` may lower it).
  public var kernelLevel: String

  public struct CPUFlags: Sendable, Equatable, Decodable {
    public var avx2: Bool
    public var avx512f: Bool
    public var avx512vpopcntdq: Bool
    public var fma: Bool

    public var jsonValue: JSONValue {
      .object([("avx2", .bool(avx2)), ("avx512f", .bool(avx512f)), ("avx512vpopcntdq", .bool(avx512vpopcntdq)), ("fma", .bool(fma))])
    }
  }

  public var jsonValue: JSONValue {
    .object([
      ("cpu_model", .string(cpuModel)), ("cores", .int(cores)), ("flags", flags?.jsonValue ?? .null),
      ("kernel_level", .string(kernelLevel)),
    ])
  }

  enum CodingKeys: String, CodingKey {
    case cpuModel = "cpu_model", cores, flags, kernelLevel = "kernel_level"
  }

  /// This machine, now.
  public static func current() -> MachineInfo {
    var model: String?
    var flags: CPUFlags?
    if let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
      let (m, f) = parseCPUInfo(text)
      model = m
      flags = f
    }
    return MachineInfo(
      cpuModel: model, cores: ProcessInfo.processInfo.activeProcessorCount, flags: flags,
      kernelLevel: KernelLevel.current.description)
  }

  /// The first `model name` and `flags` lines of a `/proc/cpuinfo` text.
  static func parseCPUInfo(_ text: String) -> (String?, CPUFlags?) {
    var model: String?
    var flagSet: Set<Substring>?
    for line in text.split(separator: "\n") {
      guard let colon = line.firstIndex(of: ":") else { continue }
      let key = line[..<colon].trimmingCharacters(in: .whitespaces)
      let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      if key == "model name", model == nil { model = value }
      if key == "flags", flagSet == nil { flagSet = Set(value.split(separator: " ").map { Substring($0) }) }
      if model != nil && flagSet != nil { break }
    }
    let flags = flagSet.map { s in
      CPUFlags(avx2: s.contains("avx2"), avx512f: s.contains("avx512f"),
               avx512vpopcntdq: s.contains("avx512_vpopcntdq"), fma: s.contains("fma"))
    }
    return (model, flags)
  }
}

/// How the measuring binary was built.
public struct BuildInfo: Sendable, Equatable, Decodable {
  /// `debug` or `release` (debug Swift is 10–100× slower: its numbers mean little).
  public var configuration: String
  /// The Swift compiler version, to the minor release.
  public var swiftCompiler: String
  /// When the report was made (ISO 8601, UTC).
  public var date: String

  enum CodingKeys: String, CodingKey {
    case configuration, swiftCompiler = "swift_compiler", date
  }

  public var jsonValue: JSONValue {
    .object([("configuration", .string(configuration)), ("swift_compiler", .string(swiftCompiler)), ("date", .string(date))])
  }

  public static func current(date: Date = Date()) -> BuildInfo {
    #if DEBUG
    let configuration = "debug"
    #else
    let configuration = "release"
    #endif
    return BuildInfo(configuration: configuration, swiftCompiler: compilerVersion, date: ISO8601DateFormatter().string(from: date))
  }

  static var compilerVersion: String {
    #if compiler(>=6.5)
    return ">=6.5"
    #elseif compiler(>=6.4)
    return "6.4"
    #elseif compiler(>=6.3)
    return "6.3"
    #elseif compiler(>=6.2)
    return "6.2"
    #elseif compiler(>=6.1)
    return "6.1"
    #else
    return "<6.1"
    #endif
  }
}
