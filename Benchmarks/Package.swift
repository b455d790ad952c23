// swift-tools-version:6.1
//
// The benchmarks of swift-vq, a package of their own so that the root package never builds them or
// resolves ordo-one/benchmark. Run from the repository root:
//   swift package --package-path Benchmarks benchmark
import PackageDescription

let package = Package(
  name: "swift-vq-benchmarks",
  platforms: [.macOS(.v14)],
  dependencies: [
    // `name:` because a path dependency's identity is its directory name, which depends on the checkout.
    .package(name: "swift-vq", path: ".."),
    .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
  ],
  targets: [
    .executableTarget(
      name: "KernelBenchmarks",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "VQ", package: "swift-vq"),
      ],
      path: "Benchmarks/KernelBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    ),
    // swift-vq beside FAISS in one run (plain executable): swift run -c release --package-path Benchmarks SpeedComparison
    .executableTarget(
      name: "SpeedComparison",
      dependencies: [.product(name: "VQ", package: "swift-vq")],
      path: "Benchmarks/SpeedComparison"
    ),
    // Adaptive stochastic quantization (issue 6): exact and sort-free approximate ASQ at d = 2^20.
    .executableTarget(
      name: "ASQBenchmarks",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "VQ", package: "swift-vq"),
      ],
      path: "Benchmarks/ASQBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    ),
    // The compressed index (issue 7): flat and IVF search, one thread, on the embedded or a given data set.
    .executableTarget(
      name: "IndexBenchmarks",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "VQ", package: "swift-vq"),
        .product(name: "VQIndex", package: "swift-vq"),
      ],
      path: "Benchmarks/IndexBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    ),
  ],
  swiftLanguageModes: [.v6]
)
