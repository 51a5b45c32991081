import NstraceCore

/// What `--otlp` and `--metrics` add to a tracing run, behind one object the ring-buffer loop
/// calls. Without either option there is no Telemetry at all: the loop's only cost is a nil
/// check per event.
public final class Telemetry {
    public let otlp: OTLPLogExporter?
    public let metrics: EventMetrics?
    private let server: MetricsServer?
    private let startups: LiveStartupAnalysis?

    /// Parses, connects nothing yet, binds the metrics port: every error is one line, before
    /// tracing starts. No thread is started here (see `start`).
    public init(otlpURL: String?, metricsAddress: String?, criSocket: String? = nil, clock: WallClock,
                report: @escaping @Sendable (String) -> Void) throws(TelemetryError) {
        otlp = try otlpURL.map { url throws(TelemetryError) in try OTLPLogExporter(url: url, clock: clock, report: report) }
        if let otlp {
            if let criSocket { try PodLookup.checkNamedSocket(criSocket) }
            otlp.pods.lookup = PodLookup(socket: criSocket, report: report)
        }
        if let metricsAddress {
            let metrics = EventMetrics()
            self.metrics = metrics
            server = try MetricsServer(listen: metricsAddress, metrics: metrics)
            startups = LiveStartupAnalysis(registry: metrics.registry)
        } else {
            metrics = nil
            server = nil
            startups = nil
        }
    }

    /// Every event the pipeline attributed, filtered or not (the ring-buffer loop's thread):
    /// the live startup analysis and the runtimes' bundles (pod names).
    public func observeEvery(_ ev: EventView, _ found: Attribution, attribution: ContainerAttribution) {
        startups?.observe(ev, found, attribution: attribution)
        otlp?.pods.noteExec(ev, container: found.container)
    }

    /// Starts the exporter's and the server's threads. Called after the capabilities are
    /// dropped: on Linux they are per thread, and a thread started before keeps them.
    public func start() throws(TelemetryError) {
        try otlp?.start()
        otlp?.pods.lookup?.start()
        if let server, !server.start() { throw TelemetryError("--metrics: cannot start the server's thread") }
    }

    /// One event that passed the filters (the ring-buffer loop's thread).
    @inline(__always)
    public func observe(_ ev: AttributedEvent) {
        metrics?.count(ev.event.type, container: ev.container)
        otlp?.enqueue(ev.event, container: ev.container, target: ev.target)
    }

    /// Between batches.
    public func turn(lostEvents: UInt64, containersSeen: Int) {
        startups?.turn(lostEvents: lostEvents)
        metrics?.update(lostEvents: lostEvents, containersSeen: containersSeen, otlp: otlp?.totals())
    }

    /// At the end: flushes the exporter (bounded) and returns what the summary line adds.
    public func finish(lostEvents: UInt64, containersSeen: Int) -> String {
        startups?.turn(lostEvents: lostEvents)
        guard let otlp else {
            metrics?.update(lostEvents: lostEvents, containersSeen: containersSeen, otlp: nil)
            return ""
        }
        let totals = otlp.finish()
        metrics?.update(lostEvents: lostEvents, containersSeen: containersSeen, otlp: totals)
        var line = ", otlp: \(totals.exported) exported, \(totals.dropped) dropped"
        if totals.failedBatches > 0 { line += " (\(totals.failedBatches) failed export\(totals.failedBatches == 1 ? "" : "s"))" }
        if let failed = otlp.pods.lookup?.failures, failed > 0 {
            line += ", pod names: \(failed) failed CRI quer\(failed == 1 ? "y" : "ies")"
        }
        return line
    }
}
