import Glibc
import Logging
import NstraceCore
import Synchronization

/// What swift-otel reports about its exports, counted. swift-otel's public API takes log
/// records but reports outcomes only through its diagnostic logger; this handler is that
/// logger. It reads the batch processor's messages (swift-otel 1.6.0, pinned by the OTLP
/// end-to-end tests): "Exported batch." and "Failed to export batch." carry `batch_size`,
/// "Log records were dropped…" carries `dropped_count`. Everything else is ignored.
///
/// Failures are printed to stderr at most once a minute, never once per event.
final class ExportDiagnostics: Sendable {
    struct Counts: Sendable {
        var exported: UInt64 = 0
        var failed: UInt64 = 0
        var droppedBySDK: UInt64 = 0
        var failedBatches: UInt64 = 0
        var lastReport: Double = -.infinity
        var unreportedFailures: UInt64 = 0
    }

    private let counts = Mutex(Counts())
    private let endpoint: String
    private let report: @Sendable (String) -> Void
    private let reportInterval: Double

    init(endpoint: String, reportInterval: Double = 60, report: @escaping @Sendable (String) -> Void) {
        self.endpoint = endpoint
        self.reportInterval = reportInterval
        self.report = report
    }

    var snapshot: Counts { counts.withLock { $0 } }

    /// Records handed to swift-otel whose fate is known.
    var settled: UInt64 { counts.withLock { $0.exported &+ $0.failed &+ $0.droppedBySDK } }

    func logger() -> Logger {
        Logger(label: "nstrace.otlp") { [self] _ in Handler(diagnostics: self) }
    }

    fileprivate func observe(_ message: String, metadata: Logger.Metadata, error: (any Error)?) {
        func number(_ key: String) -> UInt64 {
            guard let value = metadata[key] else { return 0 }
            return UInt64(String(describing: value)) ?? 0
        }
        switch message {
        case "Exported batch.":
            counts.withLock { $0.exported &+= number("batch_size") }
        case "Failed to export batch.":
            let why = Self.describe(error.map { String(describing: $0) } ?? metadata["error"].map { String(describing: $0) })
            let line: String? = counts.withLock { c in
                let n = number("batch_size")
                c.failed &+= n
                c.failedBatches &+= 1
                c.unreportedFailures &+= n
                let now = MonotonicClock.seconds()
                guard now - c.lastReport >= reportInterval else { return nil }
                let text = "otlp: export to \(endpoint) failed: \(why) (\(c.unreportedFailures) records lost since the last report; reported at most once a minute)"
                c.lastReport = now
                c.unreportedFailures = 0
                return text
            }
            if let line { report(line) }
        case let m where m.hasPrefix("Log records were dropped"):
            counts.withLock { $0.droppedBySDK &+= number("dropped_count") }
        default:
            break
        }
    }

    /// swift-otel's and AsyncHTTPClient's errors, said plainly where they are known.
    static func describe(_ error: String?) -> String {
        guard let error else { return "unknown error" }
        if error.hasPrefix("TimeoutError") { return "no answer before the export timeout (receiver down or slow)" }
        if error.hasPrefix("requestFailed(") { return "the receiver answered HTTP " + error.dropFirst("requestFailed(".count).dropLast() }
        if error.hasPrefix("responseHasUnsupportedContentType") || error.contains("BinaryDecodingError") {
            return "the receiver's answer is not an OTLP response (\(error))"
        }
        return error
    }

    /// The swift-log handler behind `logger()`. Its level is fixed at debug ("Exported batch."
    /// is a debug message): OTEL_LOG_LEVEL must not blind the accounting.
    private struct Handler: LogHandler {
        let diagnostics: ExportDiagnostics
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level {
            get { .debug }
            set {}
        }

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged = metadata
            if let extra = event.metadata { merged.merge(extra) { $1 } }
            diagnostics.observe(event.message.description, metadata: merged, error: event.error)
        }
    }
}
