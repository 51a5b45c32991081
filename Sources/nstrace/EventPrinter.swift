import NstraceBPF
import NstraceCore
#if Telemetry
import NstraceTelemetry
#endif

/// `nstrace live`, `show` and `export -o jsonl`: the pipeline's events, formatted into one
/// reused buffer. Nothing here allocates per event; output is written in batches by `flush`.
final class EventPrinter: EventSink {
    let pipeline: EventPipeline
    private let format: OutputFormat
    private let text: TextFormatter
    private let json: JSONFormatter
    private let header: Bool
    private let fd: Int32
    private var buffer = OutputBuffer(capacity: 1 << 17)
    private(set) var outputClosed = false
    var telemetry: Telemetry?

    init(format: OutputFormat, color: Bool, pipeline: EventPipeline, clock: WallClock, header: Bool, why: Bool = false,
         fd: Int32 = 1) {
        self.fd = fd
        self.format = format
        var text = TextFormatter(color: color, clock: clock, showsContainer: true)
        text.showsWhy = why
        self.text = text
        self.json = JSONFormatter(clock: clock, includesContainer: true)
        self.pipeline = pipeline
        self.header = header
    }

    func start() throws(OutputError) {
        if format == .text && header {
            text.appendHeader(into: &buffer)
            try flush()
        }
    }

    /// One ring-buffer record.
    func handle(_ bytes: UnsafeRawBufferPointer) {
        if case .passed(let ev) = pipeline.process(record: bytes) { print(ev) }
    }

    /// One event of a trace file.
    func handle(_ view: EventView) {
        if case .passed(let ev) = pipeline.process(view) { print(ev) }
    }

    private func print(_ ev: AttributedEvent) {
        telemetry?.observe(ev)
        switch format {
        case .text: text.append(ev, into: &buffer)
        case .json: json.append(ev, into: &buffer)
        }
        if buffer.count >= 1 << 16 {
            try? flush()
        }
    }

    /// Writes what is buffered. A closed reader (EPIPE) ends the session quietly.
    func flush() throws(OutputError) {
        guard !outputClosed else { buffer.removeAll(); return }
        do {
            try buffer.flush(fd: fd)
        } catch .brokenPipe {
            outputClosed = true
        }
    }

    func turn(stats: () -> TracerStats?) throws -> Bool {
        try flush()
        return !outputClosed
    }

    func finish(stats: TracerStats) throws -> String {
        try flush()
        return summary(stats: stats)
    }

    func summary(stats: TracerStats) -> String {
        var line = "\(pipeline.seen) events"
        if pipeline.passed != pipeline.seen { line += ", \(pipeline.passed) shown" }
        line += ", \(stats.lost) lost"
        if stats.lost > 0 {
            line += " (ring buffer full: \(stats.lostRingBuffer), enter record not kept: \(stats.lostPending); try a larger --ring-size)"
        }
        if pipeline.malformed > 0, let firstMalformed = pipeline.firstMalformed {
            line += ", \(pipeline.malformed) malformed (first: \(firstMalformed))"
        }
        let containers = pipeline.attribution.containers.count
        if containers > 0 { line += ", \(containers) container\(containers == 1 ? "" : "s")" }
        return line
    }
}
