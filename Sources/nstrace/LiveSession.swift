import NstraceBPF
import NstraceCore

/// The per-event path of `nstrace live`: decode, filter, format into one reused buffer.
/// Nothing here allocates per event; output is written in batches by `flush`.
final class LiveSession {
    private let format: OutputFormat
    private let text: TextFormatter
    private let json: JSONFormatter
    private let filter: EventFilter
    private let header: Bool
    private var buffer = OutputBuffer(capacity: 1 << 17)
    private(set) var seen: UInt64 = 0
    private(set) var shown: UInt64 = 0
    private(set) var malformed: UInt64 = 0
    private(set) var outputClosed = false
    private var firstMalformed: EventDecodeError?

    init(format: OutputFormat, color: Bool, filter: EventFilter, header: Bool) {
        let clock = WallClock.current()
        self.format = format
        self.text = TextFormatter(color: color, clock: clock)
        self.json = JSONFormatter(clock: clock)
        self.filter = filter
        self.header = header
    }

    func start() throws(OutputError) {
        if format == .text && header {
            text.appendHeader(into: &buffer)
            try flush()
        }
    }

    func handle(_ bytes: UnsafeRawBufferPointer) {
        seen &+= 1
        let view: EventView
        do {
            view = try EventView(bytes: bytes)
        } catch {
            malformed &+= 1
            if firstMalformed == nil { firstMalformed = error }
            return
        }
        guard filter.matches(view) else { return }
        shown &+= 1
        switch format {
        case .text: text.append(view, into: &buffer)
        case .json: json.append(view, into: &buffer)
        }
        if buffer.count >= 1 << 16 {
            try? flush()
        }
    }

    /// Writes what is buffered. A closed reader (EPIPE) ends the session quietly.
    func flush() throws(OutputError) {
        guard !outputClosed else { buffer.removeAll(); return }
        do {
            try buffer.flush(fd: 1)
        } catch .brokenPipe {
            outputClosed = true
        }
    }

    func summary(stats: TracerStats) -> String {
        var line = "\(seen) events"
        if shown != seen { line += ", \(shown) shown" }
        line += ", \(stats.lost) lost"
        if stats.lost > 0 {
            line += " (ring buffer full: \(stats.lostRingBuffer), enter record not kept: \(stats.lostPending); try a larger --ring-size)"
        }
        if malformed > 0, let firstMalformed {
            line += ", \(malformed) malformed (first: \(firstMalformed))"
        }
        return line
    }
}
