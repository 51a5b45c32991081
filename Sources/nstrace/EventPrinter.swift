import NstraceBPF
import NstraceCore

/// The per-event path of `nstrace live` and `nstrace show`: attribute, filter, format into one reused
/// buffer. Nothing here allocates per event; output is written in batches by `flush`.
final class EventPrinter: EventSink {
    /// The container of the event being formatted, read by the formatters' column hooks.
    private final class Current {
        var container: ContainerRecord?
        var target: ContainerRecord?
    }

    private let format: OutputFormat
    private var text: TextFormatter
    private var json: JSONFormatter
    private let filter: EventFilter
    private let containerFilter: ContainerFilter
    private let attribution: ContainerAttribution
    private let current = Current()
    private let header: Bool
    private let fd: Int32
    private var buffer = OutputBuffer(capacity: 1 << 17)
    private(set) var seen: UInt64 = 0
    private(set) var shown: UInt64 = 0
    private(set) var malformed: UInt64 = 0
    private(set) var outputClosed = false
    private var firstMalformed: EventDecodeError?

    init(format: OutputFormat, color: Bool, filter: EventFilter, containerFilter: ContainerFilter,
         attribution: ContainerAttribution, clock: WallClock, header: Bool, fd: Int32 = 1) {
        self.fd = fd
        self.format = format
        self.text = TextFormatter(color: color, clock: clock)
        self.json = JSONFormatter(clock: clock)
        self.filter = filter
        self.containerFilter = containerFilter
        self.attribution = attribution
        self.header = header
        let current = self.current
        text.containerColumn = { _, out in
            if let c = current.container { out.append(c.column) }
        }
        json.appendExtraFields = { ev, out in
            out.append(",\"container\":")
            if let c = current.container { out.append(c.json) } else { out.append("null") }
            if ev.type == .setns {
                out.append(",\"target_container\":")
                if let t = current.target { out.append(t.json) } else { out.append("null") }
            }
        }
    }

    func start() throws(OutputError) {
        if format == .text && header {
            text.appendHeader(into: &buffer)
            try flush()
        }
    }

    func handle(_ bytes: UnsafeRawBufferPointer) {
        let view: EventView
        do {
            view = try EventView(bytes: bytes)
        } catch {
            malformed &+= 1
            if firstMalformed == nil { firstMalformed = error }
            return
        }
        handle(view)
    }

    /// One decoded event (from the ring buffer, or from a trace file).
    func handle(_ view: EventView) {
        seen &+= 1
        let container = attribution.attribute(view)
        // exec and cgroup_mkdir feed attribution; they are shown only when asked for by name
        if view.type.isInternal && !filter.events.contains(view.type) { return }
        guard filter.matches(view) else { return }
        let target = view.type == .setns ? attribution.target(view) : nil
        guard containerFilter.isEmpty || containerFilter.matches(container: container, target: target) else { return }
        shown &+= 1
        current.container = container
        current.target = target
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
        var line = "\(seen) events"
        if shown != seen { line += ", \(shown) shown" }
        line += ", \(stats.lost) lost"
        if stats.lost > 0 {
            line += " (ring buffer full: \(stats.lostRingBuffer), enter record not kept: \(stats.lostPending); try a larger --ring-size)"
        }
        if malformed > 0, let firstMalformed {
            line += ", \(malformed) malformed (first: \(firstMalformed))"
        }
        let containers = attribution.containers.count
        if containers > 0 { line += ", \(containers) container\(containers == 1 ? "" : "s")" }
        return line
    }
}
