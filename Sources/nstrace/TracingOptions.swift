import ArgumentParser

/// What every command that loads the BPF programs takes (live, record).
struct TracingOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Stop after this many seconds.", valueName: "SECONDS"))
    var duration: Double?

    @Option(name: .long, help: ArgumentHelp("Ring buffer size: a power of two, e.g. 8M (default), 64M.", valueName: "SIZE"))
    var ringSize: ByteSize = ByteSize(argument: "8M")!

    @Flag(name: .long, help: "Show libbpf's log, the verifier's included.")
    var verbose = false

    func validate() throws {
        if let duration, !(duration > 0 && duration.isFinite) {
            throw ValidationError("--duration must be a positive number of seconds")
        }
        let size = ringSize.bytes
        if size < 4096 || size > (1 << 30) || size & (size - 1) != 0 {
            throw ValidationError("--ring-size must be a power of two between 4K and 1G, e.g. 8M")
        }
    }
}
