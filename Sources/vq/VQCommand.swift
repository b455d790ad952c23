import ArgumentParser
import VQ

@main
struct VQCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "vq", abstract: "Direction- and inner-product-preserving vector quantization.")
}
