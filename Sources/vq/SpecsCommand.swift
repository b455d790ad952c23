import ArgumentParser
import Foundation
import VQ
import VQBench

/// `vq specs`: every registered method with its keys, allowed values and defaults.
struct SpecsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "specs",
    abstract: "List every quantizer with its family, keys, allowed values and defaults.",
    discussion: "A spec string is NAME[:key=value,...], e.g. 'int:bits=4'; omitted keys take their defaults.")

  @Flag(help: "Print a JSON array instead of the text listing.")
  var json = false

  struct MethodEntry {
    struct Key {
      let key: String
      let allowed: String
      let `default`: String
      let summary: String
    }
    let name: String
    let family: String
    let summary: String
    let keys: [Key]
  }

  func run() throws {
    let entries = QuantizerRegistry.standard.methods.map { m in
      MethodEntry(
        name: m.name, family: m.family, summary: m.summary,
        keys: m.parameters.map { .init(key: $0.key, allowed: $0.allowedValues, default: $0.defaultValue, summary: $0.summary) })
    }
    if json {
      let listing = JSONValue.array(entries.map { e in
        .object([
          ("name", .string(e.name)), ("family", .string(e.family)), ("summary", .string(e.summary)),
          ("keys", .array(e.keys.map { k in
            .object([("key", .string(k.key)), ("allowed", .string(k.allowed)), ("default", .string(k.default)),
                     ("summary", .string(k.summary))])
          })),
        ])
      })
      print(listing.rendered(pretty: true))
      return
    }
    var lines = ["spec strings: NAME[:key=value,...]; omitted keys take their defaults", ""]
    for e in entries {
      lines.append("\(e.name)  [\(e.family)]  \(e.summary)")
      guard !e.keys.isEmpty else {
        lines.append("    (no keys)")
        continue
      }
      let keyWidth = e.keys.map(\.key.count).max()!
      let allowedWidth = e.keys.map(\.allowed.count).max()!
      let defaultWidth = e.keys.map { $0.default.count }.max()! + "default ".count
      for k in e.keys {
        lines.append("    " + k.key.padding(toLength: keyWidth, withPad: " ", startingAt: 0)
          + "  " + k.allowed.padding(toLength: allowedWidth, withPad: " ", startingAt: 0)
          + "  " + ("default " + k.default).padding(toLength: defaultWidth, withPad: " ", startingAt: 0)
          + "  " + k.summary)
      }
    }
    print(lines.joined(separator: "\n"))
  }
}
