import ArgumentParser

/// What every command that loads the BPF programs takes (live, record).
struct TracingOptions: ParsableArguments {
    // unconditional: `--duration -1` reaches validate(), not "missing value"
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Stop after this many seconds.", valueName: "SECONDS"))
    var duration: Double?

    @Option(name: .long, help: ArgumentHelp("Ring buffer size: a power of two, e.g. 8M (default), 64M.", valueName: "SIZE"))
    var ringSize: ByteSize = ByteSize(argument: "8M")!

    @Flag(name: .long, help: "Show libbpf's log, the verifier's included.")
    var verbose = false

    @Option(name: .long, help: ArgumentHelp("Once attached, run as this user (name or uid). Capabilities are dropped after attaching in any case.", valueName: "USER"))
    var user: String?

    func validate() throws {
        if let duration, !(duration > 0 && duration.isFinite) {
            throw ValidationError("--duration must be a positive number of seconds")
        }
        if let user, Privileges.lookup(user) == nil {
            throw ValidationError("--user \(user.debugDescription): no such user")
        }
        let size = ringSize.bytes
        if size < 4096 || size > (1 << 30) || size & (size - 1) != 0 {
            throw ValidationError("--ring-size must be a power of two between 4K and 1G, e.g. 8M")
        }
    }
}
