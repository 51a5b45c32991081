#if !Telemetry
import NstraceCore

/// The build without the `Telemetry` trait (`make release`, `make lean`): NstraceTelemetry, and
/// with it swift-otel, NIO, BoringSSL, SwiftProtobuf and all of Foundation, are not linked.
/// `Telemetry` here has no values, so the sinks' `telemetry` is always nil and their
/// `telemetry?.…` calls are the same nil checks as in the full build without --otlp/--metrics.
enum Telemetry {
    static func absent(option: String) -> String {
        "\(option): this nstrace was built without telemetry (make lean, make release); "
            + "--otlp and --metrics need `make release TELEMETRY=1` or `swift build`"
    }

    func observe(_ ev: AttributedEvent) {}
    func observeEvery(_ ev: EventView, _ found: Attribution, attribution: ContainerAttribution) {}
    func start() throws(TelemetryError) {}
    func turn(lostEvents: UInt64, containersSeen: Int) {}
    func finish(lostEvents: UInt64, containersSeen: Int) -> String { "" }
}

/// The full build's error type, for the one place (TracingLoop) that reports it.
struct TelemetryError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
#endif
