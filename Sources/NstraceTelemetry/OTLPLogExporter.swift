import Dispatch
import FoundationEssentials
import Glibc
import Logging
import NstraceCore
import OTel
import ServiceLifecycle
import Synchronization

/// `--otlp URL`: every event as an OpenTelemetry log record over OTLP/HTTP (protobuf), through
/// swift-otel's batch processor and exporter.
///
/// The ring-buffer loop only copies the record into a bounded queue (`enqueue`); a feeder
/// thread turns queued events into log records and hands them to swift-otel. swift-otel's own
/// queue drops silently when full and its hand-off stream is unbounded, so the feeder keeps at
/// most `sdkQueueSize` records in its hands (handed over minus settled, as its diagnostics
/// report them): what a slow or absent receiver cannot take piles up in our queue, which drops
/// and counts. Local output never waits for any of this.
public final class OTLPLogExporter: @unchecked Sendable {
    public struct Totals: Sendable {
        public var exported: UInt64
        public var dropped: UInt64
        public var failedBatches: UInt64
    }

    public let endpoint: String
    private let queue: BoundedEventQueue
    private let diagnostics: ExportDiagnostics
    private let configuration: OTel.Configuration
    // Made by start(): swift-otel's HTTP client starts its NIO threads when it is made.
    private var logger: Logger?
    private var serviceGroup: ServiceGroup?
    private let sdkQueueSize: Int
    private let handed = Atomic<UInt64>(0)
    private let lostAtExit = Atomic<UInt64>(0)
    private let stopping = Atomic<Bool>(false)
    private let feederDone = DispatchSemaphore(value: 0)
    private let serviceDone = DispatchSemaphore(value: 0)
    private let attributes: LogRecordAttributes
    /// Pod names from the bundles the runtimes are invoked on.
    let pods = PodNames()

    /// Throws `TelemetryError` (one line) for a URL that is not http(s)://host[:port][/path]
    /// or an environment that asks for gRPC (OTEL_EXPORTER_OTLP_[LOGS_]PROTOCOL=grpc: not
    /// built in). Starts no thread: `start()` does, once the capabilities are dropped.
    public init(url: String, clock: WallClock, queueCapacity: Int = 4096,
                report: @escaping @Sendable (String) -> Void) throws(TelemetryError) {
        endpoint = try Self.logsEndpoint(url)
        queue = BoundedEventQueue(capacity: queueCapacity)
        diagnostics = ExportDiagnostics(endpoint: endpoint, report: report)
        attributes = LogRecordAttributes(clock: clock, pods: pods)

        var configuration = OTel.Configuration.default
        configuration.serviceName = "nstrace"
        configuration.resourceAttributes = HostIdentity.resourceAttributes()
        configuration.diagnosticLogger = .custom(diagnostics.logger())
        configuration.traces.enabled = false
        configuration.metrics.enabled = false
        configuration.logs.enabled = true
        configuration.logs.level = .trace
        configuration.logs.exporter = .otlp
        configuration.logs.otlpExporter.protocol = .httpProtobuf
        configuration.logs.otlpExporter.endpoint = endpoint
        configuration.logs.otlpExporter.timeout = .seconds(5)
        // swift-otel's batch processor exports ONE batch per tick and nothing when its queue
        // fills (the logs spec does not ask it to), so its rate is at most maxExportBatchSize
        // per scheduleDelay: 512 per 500 ms capped a burst at about 1,000 records/s. A whole
        // queue per 100 ms instead.
        configuration.logs.batchLogRecordProcessor.scheduleDelay = .milliseconds(100)
        configuration.logs.batchLogRecordProcessor.maxExportBatchSize =
            configuration.logs.batchLogRecordProcessor.maxQueueSize
        configuration.logs.batchLogRecordProcessor.exportTimeout = .seconds(5)
        sdkQueueSize = configuration.logs.batchLogRecordProcessor.maxQueueSize
        self.configuration = configuration
        // swift-otel would stop the process (fatalError) on a gRPC protocol it was built without.
        let environment = ProcessInfo.processInfo.environment
        for key in ["OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"] {
            if let value = environment[key], value.lowercased().hasPrefix("grpc") {
                throw TelemetryError("--otlp: \(key)=\(value): nstrace exports OTLP over HTTP only (http/protobuf or http/json)")
            }
        }
    }

    /// http(s)://host[:port] with no path (or /) gets /v1/logs, as OTEL_EXPORTER_OTLP_ENDPOINT
    /// does; a URL with a path is used as it is.
    public static func logsEndpoint(_ url: String) throws(TelemetryError) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https" else {
            throw TelemetryError("--otlp: \(url.debugDescription) is not an http:// or https:// URL")
        }
        guard let host = components.host, !host.isEmpty else {
            throw TelemetryError("--otlp: \(url.debugDescription) has no host")
        }
        if let port = components.port, !(1...65535).contains(port) {
            throw TelemetryError("--otlp: port \(port) is not between 1 and 65535")
        }
        // URLComponents accepts "host:notaport" as a host with an invalid port component as nil.
        let authority = url.split(separator: "/", omittingEmptySubsequences: false).dropFirst(2).first ?? ""
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]"),
           Int(authority[authority.index(after: colon)...]) == nil {
            throw TelemetryError("--otlp: \(url.debugDescription) has a port that is not a number")
        }
        if components.path.isEmpty || components.path == "/" {
            return url.hasSuffix("/") ? url + "v1/logs" : url + "/v1/logs"
        }
        return url
    }

    /// Makes swift-otel's backend (its HTTP client starts NIO threads) and starts its services
    /// and the feeder thread. swift-otel applies the OTEL_* environment variables here.
    public func start() throws(TelemetryError) {
        let group: ServiceGroup
        do {
            let backend = try OTel.makeLoggingBackend(configuration: configuration)
            logger = Logger(label: "nstrace", factory: backend.factory)
            group = ServiceGroup(configuration: .init(services: [backend.service], logger: Logger(label: "nstrace.otlp.lifecycle") { _ in SwiftLogNoOpLogHandler() }))
            serviceGroup = group
        } catch {
            throw TelemetryError("--otlp: \(error)")
        }
        let done = serviceDone
        Task.detached {
            try? await group.run()
            done.signal()
        }
        guard startDetachedThread(stackSize: 1 << 20, { [self] in feed() }) else {
            throw TelemetryError("--otlp: cannot start the exporter's thread")
        }
    }

    /// The ring-buffer loop's side: a copy, a lock, an append. Never waits.
    @inline(__always)
    public func enqueue(_ view: EventView, container: ContainerRecord?, target: ContainerRecord?) {
        queue.push(ExportedEvent(record: Array(view.bytes), container: container.map(ContainerSnapshot.init),
                                 target: target.map(ContainerSnapshot.init)))
    }

    private func feed() {
        nameCurrentThread("nstrace-otlp")
        guard let logger else { return }
        while true {
            let stop = stopping.load(ordering: .acquiring)
            let inFlight = Int(handed.load(ordering: .relaxed) &- diagnostics.settled)
            let batch = queue.take(max: max(0, sdkQueueSize - inFlight))
            // after the take: a runtime's bundle is queued before its container's first event
            pods.resolvePending()
            for event in batch {
                guard let (body, metadata) = attributes.make(event) else { continue }
                // swift-otel adds code.file.path/function.name/line.number of the call: there
                // is no source line behind an event, so they stay empty.
                logger.log(level: .info, Logger.Message(stringLiteral: body), metadata: metadata,
                           source: "nstrace", file: "", function: "", line: 0)
            }
            handed.add(UInt64(batch.count), ordering: .relaxed)
            if stop && queue.count == 0 { break }
            if batch.isEmpty { usleep(stop ? 5_000 : 20_000) }
        }
        feederDone.signal()
    }

    /// Stops taking events, hands what is queued to swift-otel and lets it flush, waiting at
    /// most `timeout` seconds in all; what is not delivered by then counts as dropped.
    public func finish(timeout: Double = 5) -> Totals {
        let deadline = DispatchTime.now() + timeout
        stopping.store(true, ordering: .releasing)
        if feederDone.wait(timeout: deadline) == .timedOut {
            // The receiver is too slow to drain the queue in time: what is left is lost.
            _ = queue.dropRemaining()
            _ = feederDone.wait(timeout: .now() + 0.5)
        }
        if let group = serviceGroup {
            Task.detached { await group.triggerGracefulShutdown() }
            _ = serviceDone.wait(timeout: deadline)
        }
        return totals(final: true)
    }

    /// Counts so far; `final`: what swift-otel still holds counts as dropped.
    public func totals(final: Bool = false) -> Totals {
        let d = diagnostics.snapshot
        var dropped = queue.dropped &+ d.failed &+ d.droppedBySDK
        if final {
            let settled = d.exported &+ d.failed &+ d.droppedBySDK
            let given = handed.load(ordering: .relaxed)
            if given > settled { dropped &+= given - settled }
        }
        return Totals(exported: d.exported, dropped: dropped, failedBatches: d.failedBatches)
    }
}

/// A bad --otlp or --metrics value, or a port in use: one line for stderr.
public struct TelemetryError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
