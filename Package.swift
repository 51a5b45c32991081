// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "nstrace",
    products: [
        .executable(name: "nstrace", targets: ["nstrace"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
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
        .target(name: "NstraceCore", dependencies: ["NstraceABI", "CZlib"]),
        // zlib (crc32, deflate, inflate) for trace files; zlib1g-dev.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // The thin typed layer over libbpf: open, configure, load, attach, ring buffer, counters.
        .target(name: "NstraceBPF", dependencies: ["CLibbpf", "NstraceABI", "NstraceCore"]),
        // capset(2) and prctl(2): dropping privileges after attaching (no libcap).
        .target(name: "CPrivileges"),
        .executableTarget(
            name: "nstrace",
            dependencies: [
                "NstraceCore", "NstraceBPF", "CPrivileges",
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
        // Real runtimes (runc, crun, containerd, dockerd, podman) driven by runtimes.sh.
        .testTarget(name: "NstraceContainerTests", dependencies: ["NstraceTestSupport"], exclude: ["runtimes.sh"]),
    ]
)
