import ArgumentParser
import NstraceCore
#if Telemetry
import NstraceTelemetry
#endif

/// `--otlp` and `--metrics`, for the commands that trace (live, record). docs/fleet.md.
/// Both parse in every build; a build without the `Telemetry` trait (make release, make lean)
/// refuses them with one line (`TelemetryAbsent.swift`).
struct TelemetryOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Also send every event as an OpenTelemetry log record over OTLP/HTTP (protobuf) to URL, e.g. http://collector:4318 (/v1/logs is added to a URL without a path). OTEL_EXPORTER_OTLP_* variables apply.",
        valueName: "URL"))
    var otlp: String?

    @Option(name: .long, help: ArgumentHelp(
        "Serve Prometheus metrics at http://ADDR:PORT/metrics, e.g. 0.0.0.0:9464.", valueName: "ADDR:PORT"))
    var metrics: String?

    @Option(name: .customLong("cri-socket"), help: ArgumentHelp(
        "With --otlp: the CRI socket asked for pod names (default: /run/containerd/containerd.sock, then /run/crio/crio.sock, where present).",
        valueName: "PATH"))
    var criSocket: String?

    func validate() throws {
        if criSocket != nil && otlp == nil { throw ValidationError("--cri-socket needs --otlp (pod names are OTLP attributes)") }
        #if Telemetry
        do {
            if let otlp { _ = try OTLPLogExporter.logsEndpoint(otlp) }
            if let metrics { _ = try MetricsServer.parse(metrics) }
        } catch {
            throw ValidationError(error.description)
        }
        #else
        // One line, not ArgumentParser's usage text: the options are right, the binary lacks them.
        if otlp != nil || metrics != nil {
            Stderr.line(Telemetry.absent(option: otlp != nil ? "--otlp" : "--metrics"))
            throw ExitCode.failure
        }
        #endif
    }

    /// nil without either option: the per-event path then only checks for nil.
    func makeTelemetry() throws(TelemetryError) -> Telemetry? {
        guard otlp != nil || metrics != nil else { return nil }
        #if Telemetry
        return try Telemetry(otlpURL: otlp, metricsAddress: metrics, criSocket: criSocket, clock: WallClock.current()) { Stderr.warning($0) }
        #else
        throw TelemetryError(Telemetry.absent(option: otlp != nil ? "--otlp" : "--metrics"))
        #endif
    }
}
