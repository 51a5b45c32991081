import ArgumentParser
import NstraceBPF
import NstraceCore
#if canImport(Glibc)
import Glibc
#endif

struct LiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live",
        abstract: "Stream namespace and mount events as they happen (the default command).",
        discussion: """
            Prints one line to stderr starting with "nstrace: tracing" once every program is \
            attached, and a summary (events seen, lost) when it stops: on Ctrl-C, SIGTERM or \
            after --duration.
            """
    )

    @Option(name: [.short, .long], help: "Output format: text or json (JSON Lines).")
    var output: OutputFormat = .text

    @Option(name: .long, help: "Color the text output: auto (on a terminal), always, never.")
    var color: ColorMode = .auto

    @OptionGroup(title: "Filters")
    var filters: FilterOptions

    @Option(name: .long, help: ArgumentHelp("Stop after this many seconds.", valueName: "SECONDS"))
    var duration: Double?

    @Option(name: .long, help: ArgumentHelp("Ring buffer size: a power of two, e.g. 8M (default), 64M.", valueName: "SIZE"))
    var ringSize: ByteSize = ByteSize(argument: "8M")!

    @Flag(name: .long, help: "Show libbpf's log, the verifier's included.")
    var verbose = false

    @Flag(name: .long, help: "Omit the header line of the text output.")
    var noHeader = false

    func validate() throws {
        if let duration, !(duration > 0 && duration.isFinite) {
            throw ValidationError("--duration must be a positive number of seconds")
        }
        let size = ringSize.bytes
        if size < 4096 || size > (1 << 30) || size & (size - 1) != 0 {
            throw ValidationError("--ring-size must be a power of two between 4K and 1G, e.g. 8M")
        }
    }

    func run() throws {
        let filter = try filters.makeFilter()
        do {
            try Preflight.checkPrivileges()
            try Preflight.checkBTF()
            let tracefs = try Preflight.ensureTracefs()
            StopSignal.install()

            var options = NamespaceTracer.Options()
            options.ringBufferBytes = UInt32(ringSize.bytes)
            options.wakeupBytes = ringSize.bytes / 8
            options.verbose = verbose
            let tracer = try NamespaceTracer(options: options, tracefs: tracefs)
            for skipped in tracer.skipped where skipped.tracepoint.contains("sys_enter_") {
                Stderr.warning("this kernel has no tracepoint \(skipped.tracepoint): \(skipped.syscall) is not traced")
            }

            let attribution = ContainerAttribution(cgroups: Self.cgroupResolver(), hostNamespaces: Self.hostNamespaces())
            let metadata = MetadataWorker(source: ContainerMetadataSource())
            attribution.onNewContainer = { metadata.request($0) }
            let stateDirectories = RuntimeStateDirectories()
            attribution.refineGuess = { stateDirectories.refine($0) }
            // Containers already running: their namespaces, so joins into them are recognised.
            // Scanned after attaching: a container starting meanwhile is seen by its events.
            Self.registerRunningContainers(in: attribution)
            let session = LiveSession(format: output, color: useColor, filter: filter,
                                      containerFilter: filters.containerFilter, attribution: attribution, header: !noHeader)
            let reader = try RingBufferReader(mapFD: tracer.ringBufferFD) { bytes in session.handle(bytes) }
            Stderr.line("tracing \(tracer.attachedCount) programs; Ctrl-C to stop")

            try session.start()
            let deadline = duration.map { monotonicNow() + $0 }
            while !StopSignal.requested && !session.outputClosed {
                var timeout: Int32 = 100
                if let deadline {
                    let left = deadline - monotonicNow()
                    if left <= 0 { break }
                    timeout = Int32(min(100, max(1, left * 1000)))
                }
                try reader.poll(timeoutMilliseconds: timeout)
                for found in metadata.drain() { attribution.apply(id: found.id, name: found.name, image: found.image) }
                try session.flush()
            }
            // What is already in the ring buffer belongs to the trace: drain it.
            try reader.drain()
            try session.flush()
            let stats = try tracer.readStats()
            Stderr.line(session.summary(stats: stats))
        } catch let error as PreflightError {
            Stderr.line(error.description)
            throw ExitCode.failure
        } catch let error as BPFError {
            Stderr.line(error.description)
            throw ExitCode.failure
        } catch let error as OutputError {
            Stderr.line("output: " + error.description)
            throw ExitCode.failure
        }
    }

    /// "The host" is the namespaces nstrace itself runs in.
    static func hostNamespaces() -> [UInt32] {
        guard let own = try? ProcNamespaces.read(pid: getpid()) else { return [] }
        let slots: [ProcNamespaceLink] = [.mnt, .net, .pid, .uts, .ipc, .user, .cgroup, .time, .pidForChildren, .timeForChildren]
        return slots.map { UInt32(truncatingIfNeeded: own[$0] ?? 0) }
    }

    static func registerRunningContainers(in attribution: ContainerAttribution) {
        guard let inventory = try? ContainerInventory.scan() else { return }
        let slots: [ProcNamespaceLink] = [.mnt, .net, .pid, .uts, .ipc, .user, .cgroup, .time, .pidForChildren, .timeForChildren]
        for container in inventory.containers {
            let inodes = slots.map { UInt32(truncatingIfNeeded: container.namespaces[$0] ?? 0) }
            attribution.register(container.identity, namespaces: inodes)
        }
    }

    static func cgroupResolver() -> CgroupResolver? {
        do {
            return try CgroupResolver()
        } catch {
            Stderr.warning("no cgroup v2 mount (\(error)): containers are recognised by their runtime only")
            return nil
        }
    }

    private var useColor: Bool {
        switch color {
        case .always: return true
        case .never: return false
        case .auto:
            if getenv("NO_COLOR") != nil { return false }
            if let term = getenv("TERM"), String(cString: term) == "dumb" { return false }
            return isatty(1) != 0
        }
    }
}

func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
