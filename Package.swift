// swift-tools-version:6.1
//
// swift-vq: direction- and inner-product-preserving vector quantization.
//
// No target uses `unsafeFlags`: a package with them cannot be a versioned dependency
// (research: limits.md §4). Native speed comes from the C target `CVQKernels`, whose hot loops are
// compiled per ISA with `__attribute__((target(...)))` and chosen at run time.
//
// Build switches (none is on by default):
//   VQ_KERNEL_LEVEL=portable|avx2|avx512   (environment, at run time) forces one kernel level;
//                                           the best level the CPU supports is used otherwise.
import PackageDescription

let strictSwift: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
  name: "swift-vq",
  platforms: [.macOS(.v14)],
  products: [
    .library(name: "VQ", targets: ["VQ"]),
    .library(name: "VQIndex", targets: ["VQIndex"]),
    .library(name: "VQBench", targets: ["VQBench"]),
    .executable(name: "vq", targets: ["vq"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
    .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
    // Property tests (Tests/VQTests/PropertyTests.swift) only.
    .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
  ],
  targets: [
    // MARK: - Kernels
    // C: the ISA-specific hot loops, one dispatch table chosen at run time.
    .target(name: "CVQKernels"),
    // Swift face of the kernels, with a scalar Swift reference for each.
    .target(name: "VQKernels", dependencies: ["CVQKernels"], swiftSettings: strictSwift),

    // MARK: - Public API
    .target(
      name: "VQ",
      dependencies: ["VQKernels", .product(name: "RealModule", package: "swift-numerics")],
      // BlockQuant's trained codebooks (`vq blockcodebooks` writes them; BlockCodebookStore reads them).
      resources: [.copy("Resources/BlockCodebooks")],
      swiftSettings: strictSwift),
    // The embedded data set (a vendored copy of MiniLM-small), shipped as a resource bundle so that
    // an installed `vq` finds it without the source tree.
    .target(name: "VQData", path: "Data", exclude: ["README.md"], resources: [.copy("minilm-small"), .copy("kv-small")],
            swiftSettings: strictSwift),
    // Flat and IVF search on codes, re-ranking, filters, add/delete, the `.vqx` file.
    .target(
      name: "VQIndex",
      dependencies: [
        "VQ", "VQKernels", .product(name: "HeapModule", package: "swift-collections"),
        .product(name: "RealModule", package: "swift-numerics"),
      ],
      swiftSettings: strictSwift),
    .target(name: "VQBench", dependencies: ["VQ", "VQKernels", "VQData", "VQIndex"], swiftSettings: strictSwift),
    .executableTarget(
      name: "vq",
      dependencies: ["VQ", "VQIndex", "VQBench", "VQData", .product(name: "ArgumentParser", package: "swift-argument-parser")],
      swiftSettings: strictSwift),

    // MARK: - Test support and unit test bundles
    .target(name: "VQTestSupport", dependencies: ["VQ", "VQKernels"], swiftSettings: strictSwift),
    .testTarget(name: "VQKernelsTests", dependencies: ["VQKernels", "VQTestSupport"], swiftSettings: strictSwift),
    .testTarget(
      name: "VQTests",
      dependencies: [
        "VQ", "VQData", "VQTestSupport", "VQIndex", "VQKernels",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ],
      swiftSettings: strictSwift),
    .testTarget(name: "VQIndexTests", dependencies: ["VQIndex", "VQData", "VQTestSupport"], swiftSettings: strictSwift),
    .testTarget(name: "VQBenchTests", dependencies: ["VQBench", "VQData", "VQTestSupport"], swiftSettings: strictSwift),
    .testTarget(name: "vqTests", dependencies: ["VQ", "VQData", "VQTestSupport"], swiftSettings: strictSwift),
  ],
  swiftLanguageModes: [.v6]
)
