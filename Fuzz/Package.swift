// swift-tools-version:6.1
//
// libFuzzer harnesses for every reader in swift-vq (see README.md). Not part of the root package:
// it needs `-sanitize=fuzzer`, which the root package must not carry (no unsafeFlags). Build with
//   swift build -c release --scratch-path ../.build-fuzz -Xswiftc -sanitize=fuzzer,address --product fuzz-vecs
import PackageDescription

let harnessDependencies: [Target.Dependency] = [
  "FuzzSupport", .product(name: "VQ", package: "swift-vq"), .product(name: "VQIndex", package: "swift-vq"),
]

let package = Package(
  name: "swift-vq-fuzz",
  dependencies: [.package(name: "swift-vq", path: "..")],
  targets: [
    // Declares libFuzzer's `LLVMFuzzerRunDriver` (the runtime is linked by -sanitize=fuzzer).
    .target(name: "CFuzzDriver"),
    .target(name: "FuzzSupport", dependencies: ["CFuzzDriver"]),
    .executableTarget(name: "fuzz-vecs", dependencies: harnessDependencies),
    .executableTarget(name: "fuzz-npy", dependencies: harnessDependencies),
    .executableTarget(name: "fuzz-vqx", dependencies: harnessDependencies),
    .executableTarget(name: "fuzz-spec", dependencies: harnessDependencies),
    .executableTarget(name: "fuzz-faiss", dependencies: harnessDependencies),
  ],
  swiftLanguageModes: [.v6]
)
