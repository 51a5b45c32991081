import ArgumentParser
import NstraceBPF
import NstraceCore
#if Telemetry
import NstraceTelemetry
#endif
#if canImport(Glibc)
import Glibc
#endif

/// What receives the records of a tracing run: `EventPrinter` prints them, `RecordSession`
/// writes them to a trace file.
protocol EventSink: AnyObject {
    /// One ring-buffer record, valid only during the call.
    func handle(_ bytes: UnsafeRawBufferPointer)
    /// Between batches: write out what is buffered. Return false to stop (reader gone).
    func turn(stats: () -> TracerStats?) throws -> Bool
    /// After the last record; its summary line goes to stderr.
    func finish(stats: TracerStats) throws -> String
    /// A trace file is read later, when no runtime can be asked: before the end, ask once more
    /// (synchronously, bounded by the lookup's timeout) for the names still unknown.
    var wantsNamesBeforeFinish: Bool { get }
    /// --otlp / --metrics: told of every event that passes the filters; nil without them.
    var telemetry: Telemetry? { get set }
    /// The one event pipeline (--otlp / --metrics observe every event it attributes).
    var pipeline: EventPipeline { get }
}

extension EventSink {
    var wantsNamesBeforeFinish: Bool { false }
}

/// Set-up and poll loop shared by `live` and `record`: preflight, load and attach, container
/// attribution seeded from what runs now, then records to the sink until Ctrl-C, SIGTERM or
/// the duration; what is still in the ring buffer is drained before the end.
struct TracingLoop {
    let options: TracingOptions
    var telemetryOptions = TelemetryOptions()

    /// Loads and attaches, builds the attribution, asks `makeSink` for the sink, and runs.
    /// Every failure is one line on stderr and exit status 1.
    func run(makeSink: (ContainerAttribution, _ inventory: ContainerInventory?) throws -> EventSink) throws {
        do {
            try Preflight.checkPrivileges()
            try Preflight.checkBTF()
            let tracefs = try Preflight.ensureTracefs()
            // A bad exporter setting or a metrics port in use: one line, before any tracing.
            let telemetry: Telemetry? = try telemetryOptions.makeTelemetry()
            StopSignal.install()

            var tracerOptions = NamespaceTracer.Options()
            tracerOptions.ringBufferBytes = UInt32(options.ringSize.bytes)
            tracerOptions.wakeupBytes = options.ringSize.bytes / 8
            tracerOptions.verbose = options.verbose
            let tracer = try NamespaceTracer(options: tracerOptions, tracefs: tracefs)
            for skipped in tracer.skipped where skipped.tracepoint.contains("sys_enter_") {
                Stderr.warning("this kernel has no tracepoint \(skipped.tracepoint): \(skipped.syscall) is not traced")
            }

            let attribution = ContainerAttribution(cgroups: Self.cgroupResolver(), hostNamespaces: Self.hostNamespaces())
            let metadataSource = ContainerMetadataSource()
            let metadata = MetadataWorker(source: metadataSource)
            let stateDirectories = RuntimeStateDirectories()
            attribution.refineGuess = { stateDirectories.refine($0) }
            attribution.engine.dockerLayerDB = DockerLayerDB() // live only: dockerd's overlay mounts
            // Containers already running: their namespaces, so joins into them are recognised.
            // Scanned after attaching: a container starting meanwhile is seen by its events.
            let inventory = try? ContainerInventory.scan()
            for container in inventory?.containers ?? [] {
                attribution.register(container.identity, namespaces: container.namespaces.set)
            }
            let sink = try makeSink(attribution, inventory)
            sink.telemetry = telemetry
            if let telemetry {
                sink.pipeline.observer = { ev, found in telemetry.observeEvery(ev, found, attribution: attribution) }
            }
            let previous = attribution.onNewContainer
            attribution.onNewContainer = { identity in
                previous?(identity)
                metadata.request(identity)
            }
            let reader = try RingBufferReader(mapFD: tracer.ringBufferFD) { bytes in sink.handle(bytes) }
            // Attached and looked around: nothing from here on needs a capability. Dropped
            // before the metadata worker, the OTLP exporter (swift-otel's NIO threads) and the
            // metrics server start their threads (capabilities are per thread).
            try Privileges.drop(switchingTo: options.user.flatMap(Privileges.lookup))
            try telemetry?.start()
            for container in inventory?.containers ?? [] { metadata.request(container.identity) }
            Stderr.line("tracing \(tracer.attachedCount) programs; Ctrl-C to stop")

            let deadline = options.duration.map { MonotonicClock.seconds() + $0 }
            let stats = { try? tracer.readStats() }
            while !StopSignal.requested {
                var timeout: Int32 = 100
                if let deadline {
                    let left = deadline - MonotonicClock.seconds()
                    if left <= 0 { break }
                    timeout = Int32(min(100, max(1, left * 1000)))
                }
                try reader.poll(timeoutMilliseconds: timeout)
                for found in metadata.drain() { attribution.apply(id: found.id, name: found.name, image: found.image) }
                guard try sink.turn(stats: stats) else { break }
                if let telemetry, let now = stats() {
                    telemetry.turn(lostEvents: now.lost, containersSeen: attribution.containers.count)
                }
            }
            // What is already in the ring buffer belongs to the trace: drain it.
            try reader.drain()
            for found in metadata.drain() { attribution.apply(id: found.id, name: found.name, image: found.image) }
            if sink.wantsNamesBeforeFinish {
                for record in attribution.containers where record.name == nil || record.image == nil {
                    if let found = metadataSource.lookup(record.identity) {
                        attribution.apply(id: record.id, name: found.name, image: found.image)
                    }
                }
            }
            let final = try tracer.readStats()
            let summary = try sink.finish(stats: final)
            Stderr.line(summary + (telemetry?.finish(lostEvents: final.lost, containersSeen: attribution.containers.count) ?? ""))
        } catch let error as TelemetryError {
            Stderr.line(error.description)
            throw ExitCode.failure
        } catch let error as PreflightError {
            Stderr.line(error.description)
            throw ExitCode.failure
        } catch let error as BPFError {
            Stderr.line(error.description)
            throw ExitCode.failure
        } catch let error as OutputError {
            Stderr.line("output: " + error.description)
            throw ExitCode.failure
        } catch let error as TraceFileError {
            Stderr.line(error.description)
            throw ExitCode.failure
        }
    }

    /// "The host" is the namespaces nstrace itself runs in.
    static func hostNamespaces() -> NamespaceSet {
        (try? ProcNamespaces.read(pid: getpid()))?.set ?? NamespaceSet()
    }

    static func cgroupResolver() -> CgroupResolver? {
        do {
            return try CgroupResolver()
        } catch {
            Stderr.warning("no cgroup v2 mount (\(error)): containers are recognised by their runtime only")
            return nil
        }
    }
}
