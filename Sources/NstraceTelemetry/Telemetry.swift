import NstraceCore

/// What `--otlp` and `--metrics` add to a tracing run, behind one object the ring-buffer loop
/// calls. Without either option there is no Telemetry at all: the loop's only cost is a nil
/// check per event.
public final class Telemetry {
    public let otlp: OTLPLogExporter?
    public let metrics: EventMetrics?
    private let server: MetricsServer?

    /// Parses, connects nothing yet, binds the metrics port: every error is one line, before
    /// tracing starts. No thread is started here (see `start`).
    public init(otlpURL: String?, metricsAddress: String?, clock: WallClock,
                report: @escaping @Sendable (String) -> Void) throws(TelemetryError) {
        otlp = try otlpURL.map { url throws(TelemetryError) in try OTLPLogExporter(url: url, clock: clock, report: report) }
        if let metricsAddress {
            let metrics = EventMetrics()
            self.metrics = metrics
            server = try MetricsServer(listen: metricsAddress, metrics: metrics)
        } else {
            metrics = nil
            server = nil
        }
    }

    /// Starts the exporter's and the server's threads. Called after the capabilities are
    /// dropped: on Linux they are per thread, and a thread started before keeps them.
    public func start() throws(TelemetryError) {
        try otlp?.start()
        server?.start()
    }

    /// One event that passed the filters (the ring-buffer loop's thread).
    @inline(__always)
    public func observe(_ ev: AttributedEvent) {
        metrics?.count(ev.event.type, container: ev.container)
        otlp?.enqueue(ev.event, container: ev.container, target: ev.target)
    }

    /// Between batches.
    public func turn(lostEvents: UInt64, containersSeen: Int) {
        metrics?.update(lostEvents: lostEvents, containersSeen: containersSeen, otlp: otlp?.totals())
    }

    /// At the end: flushes the exporter (bounded) and returns what the summary line adds.
    public func finish(lostEvents: UInt64, containersSeen: Int) -> String {
        guard let otlp else {
            turn(lostEvents: lostEvents, containersSeen: containersSeen)
            return ""
        }
        let totals = otlp.finish()
        metrics?.update(lostEvents: lostEvents, containersSeen: containersSeen, otlp: totals)
        var line = ", otlp: \(totals.exported) exported, \(totals.dropped) dropped"
        if totals.failedBatches > 0 { line += " (\(totals.failedBatches) failed export\(totals.failedBatches == 1 ? "" : "s"))" }
        return line
    }
}
