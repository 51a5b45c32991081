import ArgumentParser
import NstraceCore

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Summarise a trace file: header, time span, events by type and container, lost events, whether it was cut."
    )

    @OptionGroup var input: TraceInputOptions

    @Option(name: [.short, .long], help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() throws {
        let replay = TraceReplay()
        var summary = TraceSummary()
        let pipeline = EventPipeline(attribution: replay.attribution)
        let reader = try TraceInput(options: input).forEachEvent(replay) { ev in
            summary.add(ev, pipeline.process(ev))
            return true
        }
        let header = reader.header
        // counts from the file are UInt64, shown as they are (a crafted 2^63 neither traps nor clamps)
        let lost = TraceSummary.lost(trailer: reader.trailer, lastLost: replay.lastLost)
        var info: [(String, JSONValue)] = [
            ("file", .string(TraceInput.name(input.file))),
            ("bytes", .number(reader.bytesRead)),
            ("host", .string(header.hostname)),
            ("kernel", .string(header.kernelRelease)),
            ("nstrace", .string(header.nstraceVersion)),
            ("abi", .number(header.abiVersion)),
            ("started", .string(header.clock.rfc3339(bootNs: header.startBootNs))),
            ("events", .number(reader.eventsRead)),
            ("metadata_records", .number(reader.metadataRead)),
            ("blocks", .number(reader.blocksRead)),
            ("complete", .bool(reader.trailer != nil)),
            ("cut_at", reader.wasCut ? .number(reader.cutOffset ?? reader.bytesRead) : .null),
            ("lost", lost.map { .number($0) } ?? .null),
        ]
        if let span = summary.spanSeconds {
            info.append(("first_event", .string(header.clock.rfc3339(bootNs: summary.firstTsNs))))
            info.append(("last_event", .string(header.clock.rfc3339(bootNs: summary.lastTsNs))))
            info.append(("span_seconds", .double(span)))
        }
        if output == .json {
            info.append(("events_by_type", .object(summary.byType.sorted { $0.key < $1.key }.map { ($0.key, .number($0.value)) })))
            info.append(("events_by_container", .object(summary.byContainer.sorted { $0.key < $1.key }.map { ($0.key, .number($0.value)) })))
            info.append(("containers", .array(replay.attribution.containers.sorted { $0.id < $1.id }.map { c in
                .object([("id", .string(c.id)), ("runtime", .string(c.identity.runtime.rawValue)),
                         ("name", .optional(c.name)), ("image", .optional(c.image))])
            })))
            try Views.write(JSONValue.object(info).render())
            return
        }
        // Host, file and container names come from elsewhere: every value is escaped.
        var text = ""
        for (k, v) in info {
            text += Self.padded(k, 18) + Escape.text(Self.plain(v)) + "\n"
        }
        text += "events by type:\n"
        for (k, v) in summary.byType.sorted(by: { $0.value > $1.value }) { text += "  " + Self.padded(k, 16) + "\(v)\n" }
        text += "events by container:\n"
        for (k, v) in summary.byContainer.sorted(by: { $0.value > $1.value }) { text += "  " + Escape.text(k) + "  \(v)\n" }
        try Views.write(text)
    }

    /// `s` and spaces up to `width` (Foundation's padding(toLength:) is not in FoundationEssentials).
    private static func padded(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }

    /// A scalar as the text output shows it (`-` for null).
    private static func plain(_ value: JSONValue) -> String {
        switch value {
        case .null: return "-"
        case .bool(let b): return String(b)
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .double(let d): return String(d)
        case .string(let s): return s
        case .array, .object: return value.render()
        }
    }
}
