// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "nstrace",
    products: [
        .executable(name: "nstrace", targets: ["nstrace"]),
    ],
    // `swift build --disable-default-traits` (make release, make lean) leaves the fleet code out:
    // no swift-otel, NIO, BoringSSL or SwiftProtobuf, and no full Foundation (ICU) either.
    traits: [
        .trait(name: "Telemetry", description: "--otlp and --metrics (NstraceTelemetry: swift-otel, swift-prometheus)"),
        .default(enabledTraits: ["Telemetry"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // OTLP/HTTP log export (--otlp). Only the HTTP trait: the default also builds gRPC.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
        // The Prometheus text exposition behind --metrics.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // swift-otel's own API types (its log handler, its service): already in its graph.
        .package(url: "https://github.com/apple/swift-log", from: "1.12.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.4.1"),
        // HTTP/2 for the CRI client (pod names): already in swift-otel's graph (async-http-client).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.36.0"),
    ],
    targets: [
        // The wire format shared with the BPF programs (plain C types, no libbpf).
        .target(name: "NstraceABI"),
        // libbpf, the generated skeleton of bpf/nstrace.bpf.c, and the few C shims Swift needs.
        .target(
            name: "CLibbpf",
            dependencies: ["NstraceABI"],
            linkerSettings: [.linkedLibrary("bpf"), .linkedLibrary("elf"), .linkedLibrary("z")]
        ),
        // Decoding, formatting, filtering, containers, files, analysis: knows nothing of libbpf.
        // Release builds skip the run-time exclusivity checks: a tenth of `nstrace analyze`'s
        // time on host events went to them (the attribution's tables are class properties);
        // debug builds, which the tests run, keep them and so still catch a conflicting access.
        .target(name: "NstraceCore", dependencies: ["NstraceABI", "CZlib"],
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        // zlib (crc32, deflate, inflate) for trace files; zlib1g-dev.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // The thin typed layer over libbpf: open, configure, load, attach, ring buffer, counters.
        .target(name: "NstraceBPF", dependencies: ["CLibbpf", "NstraceABI", "NstraceCore"]),
        // capset(2) and prctl(2): dropping privileges after attaching (no libcap).
        .target(name: "CPrivileges"),
        // Fleet output: OpenTelemetry log export and Prometheus metrics. Kept out of NstraceCore so
        // the core stays dependency-free; costs nothing per event unless --otlp/--metrics is given.
        .target(
            name: "NstraceTelemetry",
            dependencies: [
                "NstraceCore",
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ]
        ),
        .executableTarget(
            name: "nstrace",
            dependencies: [
                "NstraceCore", "NstraceBPF", "CPrivileges",
                .target(name: "NstraceTelemetry", condition: .when(traits: ["Telemetry"])),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Makes the exact syscalls the integration tests expect to see (C: no runtime threads).
        .executableTarget(name: "nstrace-testdriver"),
        // make bench: its own benchmarks (decode+format, trace file), the tracer's, and other tracers'.
        .executableTarget(name: "nstrace-bench", dependencies: ["NstraceCore", "NstraceABI", "BenchPeers", "EventRecords"]),
        // Ring-buffer records built byte by byte: the unit tests' input and the benchmarks'
        // synthetic workloads (never a dependency of the product).
        .target(name: "EventRecords", dependencies: ["NstraceCore", "NstraceABI"]),
        // make bench: the other tracers' output parsers and the bpftrace script (unit-tested).
        .target(name: "BenchPeers"),
        // The tests' one way to run nstrace (and its test driver) and to parse its JSON; never
        // a dependency of the product.
        .target(name: "NstraceTestSupport", path: "Tests/NstraceTestSupport"),
        .testTarget(name: "NstraceCoreTests", dependencies: ["NstraceCore", "NstraceABI", "EventRecords"]),
        .testTarget(name: "NstraceIntegrationTests", dependencies: ["NstraceCore", "NstraceTestSupport"]),
        .testTarget(name: "BenchPeersTests", dependencies: ["BenchPeers"]),
        .testTarget(name: "NstraceTelemetryTests", dependencies: ["NstraceTelemetry"]),
        // Real runtimes (runc, crun, containerd, dockerd, podman) driven by runtimes.sh.
        .testTarget(name: "NstraceContainerTests", dependencies: ["NstraceTestSupport", "NstraceTelemetry"], exclude: ["runtimes.sh"]),
    ]
)
