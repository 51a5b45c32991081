import ArgumentParser
import Foundation
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
        var byType: [String: Int] = [:]
        var byContainer: [String: Int] = [:]
        var first: UInt64 = .max, last: UInt64 = 0
        let reader = try TraceInput(options: input).forEachEvent(replay) { ev in
            let container = replay.attribution.attribute(ev)
            first = min(first, ev.tsNs)
            last = max(last, ev.tsNs)
            byType[ev.type.name, default: 0] += 1
            if !ev.type.isInternal {
                let key = container.map { c in c.name.map { "\($0) (\(c.id.prefix(12)))" } ?? c.id } ?? "host"
                byContainer[key, default: 0] += 1
            }
            return true
        }
        let header = reader.header
        let lost = reader.trailer?.lost ?? replay.lastLost.map { TraceLostCounts(ringbuf: $0.ringbuf, pending: $0.pending) }
        var info: [(String, Any)] = [
            ("file", TraceInput.name(input.file)),
            ("bytes", reader.bytesRead),
            ("host", header.hostname),
            ("kernel", header.kernelRelease),
            ("nstrace", header.nstraceVersion),
            ("abi", Int(header.abiVersion)),
            ("started", header.clock.rfc3339(bootNs: header.startBootNs)),
            ("events", Int(reader.eventsRead)),
            ("metadata_records", Int(reader.metadataRead)),
            ("blocks", reader.blocksRead),
            ("complete", reader.trailer != nil),
            ("cut_at", reader.wasCut ? (reader.cutOffset ?? reader.bytesRead) as Any : NSNull()),
            ("lost", lost.map { Int($0.total) } as Any? ?? NSNull()),
        ]
        if first != .max {
            info.append(("first_event", header.clock.rfc3339(bootNs: first)))
            info.append(("last_event", header.clock.rfc3339(bootNs: last)))
            info.append(("span_seconds", Double(last - first) / 1e9))
        }
        if output == .json {
            var object: [String: Any] = [:]
            for (k, v) in info { object[k] = v }
            object["events_by_type"] = byType
            object["events_by_container"] = byContainer
            object["containers"] = replay.attribution.containers.map { c -> [String: Any] in
                ["id": c.id, "runtime": c.identity.runtime.rawValue, "name": c.name as Any? ?? NSNull(), "image": c.image as Any? ?? NSNull()]
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        var text = ""
        for (k, v) in info {
            let value = v is NSNull ? "-" : "\(v)"
            text += k.padding(toLength: 18, withPad: " ", startingAt: 0) + Self.escaped(value) + "\n"
        }
        text += "events by type:\n"
        for (k, v) in byType.sorted(by: { $0.value > $1.value }) { text += "  " + k.padding(toLength: 16, withPad: " ", startingAt: 0) + "\(v)\n" }
        text += "events by container:\n"
        for (k, v) in byContainer.sorted(by: { $0.value > $1.value }) { text += "  " + Self.escaped(k) + "  \(v)\n" }
        print(text, terminator: "")
    }

    /// Host names and container names come from elsewhere: no control bytes to the terminal.
    static func escaped(_ s: String) -> String {
        var out = OutputBuffer(capacity: s.utf8.count + 8)
        Array(s.utf8).withUnsafeBytes { out.appendTextEscaped($0) }
        return out.string
    }
}
