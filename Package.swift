// swift-tools-version: 6.1
import PackageDescription

/// coroner: crash-dump analysis for Linux and Xen.
///
/// The modules form a layer cake whose arrows only point down:
/// DumpFormats → AddressTranslation → DebugInfo → LinuxKernel / XenHypervisor
/// → Reports → the `coroner` command.
let package = Package(
  name: "coroner",
  platforms: [.macOS(.v14)],
  products: [
    .library(
      name: "Coroner",
      targets: [
        "DumpFormats", "AddressTranslation", "DebugInfo", "LinuxKernel",
        "Reports",
      ]),
    .executable(name: "coroner", targets: ["coroner"]),
  ],
  dependencies: [
    .package(
      url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
  ],
  targets: [
    // C libraries, through pkg-config; each is imported by one Swift file.
    .systemLibrary(
      name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(
      name: "CLZO", pkgConfig: "lzo2", providers: [.apt(["liblzo2-dev"])]),
    .systemLibrary(
      name: "CSnappy", pkgConfig: "snappy",
      providers: [.apt(["libsnappy-dev"])]),
    .systemLibrary(
      name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
    .systemLibrary(
      name: "CLZMA", pkgConfig: "liblzma", providers: [.apt(["liblzma-dev"])]),
    .systemLibrary(
      name: "CElf", pkgConfig: "libdw",
      providers: [.apt(["libdw-dev", "libelf-dev"])]),

    // Layer 1: dump containers.
    .target(
      name: "DumpFormats",
      dependencies: ["CZlib", "CLZO", "CSnappy", "CZstd", "CElf"]),
    // Layer 2: address translation (never reads files).
    .target(name: "AddressTranslation", dependencies: ["DumpFormats"]),
    // Layer 3: symbols and types.
    .target(
      name: "DebugInfo", dependencies: ["CElf", "DumpFormats", "AddressTranslation"]),
    // Layer 4: the Linux model.
    .target(
      name: "LinuxKernel",
      dependencies: ["DumpFormats", "AddressTranslation", "DebugInfo"]),
    // Layer 5: renderers and the CLI.
    .target(
      name: "Reports",
      dependencies: [
        "DumpFormats", "AddressTranslation", "DebugInfo", "LinuxKernel",
      ]),
    .executableTarget(
      name: "coroner",
      dependencies: [
        "DumpFormats", "AddressTranslation", "DebugInfo", "LinuxKernel",
        "Reports",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),

    // The benchmark harness (scripts/bench.sh runs it).
    .executableTarget(
      name: "coroner-bench", dependencies: ["DumpFormats", "CZlib", "CZstd"],
      path: "Benchmarks/coroner-bench"),

    // Tests.
    .target(
      name: "CoronerTestSupport", dependencies: ["DumpFormats", "CLZMA"],
      path: "Tests/CoronerTestSupport"),
    .testTarget(
      name: "DumpFormatsTests",
      dependencies: ["DumpFormats", "CoronerTestSupport"]),
    .testTarget(
      name: "AddressTranslationTests",
      dependencies: ["AddressTranslation", "CoronerTestSupport"]),
    .testTarget(
      name: "DebugInfoTests",
      dependencies: ["DebugInfo", "DumpFormats", "CoronerTestSupport"]),
    .testTarget(
      name: "LinuxKernelTests",
      dependencies: [
        "LinuxKernel", "DumpFormats", "DebugInfo", "CoronerTestSupport",
      ]),
    .testTarget(
      name: "CoronerCLITests",
      dependencies: ["Reports", "CoronerTestSupport"]),
  ]
)
