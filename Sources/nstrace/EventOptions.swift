import ArgumentParser
import NstraceCore

/// Output format names, as in kubectl's `-o`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

enum ColorMode: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never
}

/// How `live` and `show` print events.
struct PrintOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Output format: text or json (JSON Lines).")
    var output: OutputFormat = .text

    @Option(name: .long, help: "Color the text output: auto (on a terminal), always, never.")
    var color: ColorMode = .auto

    @Flag(name: .long, help: "Omit the header line of the text output.")
    var noHeader = false

    @Flag(name: .long, help: "Text: say after each attributed event how it was tied to its container and who acted, e.g. [lineage runtime].")
    var why = false
}

/// How the host-side views (containers, ns, mounts) print their tables.
struct ViewOutputOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Output format: text or json.")
    var output: OutputFormat = .text

    @Flag(name: .long, help: "Omit the header line of the text output.")
    var noHeader = false
}

/// The event filters every command that shows events takes.
struct FilterOptions: ParsableArguments {
    // unconditional: `--pid -5` reaches validation (an invalid pid), not "missing value"
    @Option(name: .long, parsing: .unconditionalSingleValue,
            help: ArgumentHelp("Only events of this process or thread id (repeatable).", valueName: "PID"))
    var pid: [String] = []

    @Option(name: .long, help: ArgumentHelp("Only events of processes with this command name (repeatable).", valueName: "COMM"))
    var comm: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Only these events, comma-separated: \(EventType.allCases.map(\.name).joined(separator: ",")).",
        valueName: "LIST"))
    var event: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Only events touching these namespace types, comma-separated: \(NamespaceType.allCases.map(\.name).joined(separator: ",")).",
        valueName: "LIST"))
    var ns: [String] = []

    @Flag(name: .long, help: "Only failed calls.")
    var failed = false

    @Option(name: .long, help: ArgumentHelp("Only events of (or joining) this container: full id, id prefix or name (repeatable).", valueName: "ID"))
    var container: [String] = []

    @Flag(name: .long, help: "Only events attributed to a container.")
    var containersOnly = false

    @Flag(name: .long, help: "Only events of the host (no container).")
    var hostOnly = false

    func validate() throws {
        _ = try makeFilter()
        if containersOnly && hostOnly {
            throw ValidationError("--containers-only and --host-only exclude each other")
        }
        if hostOnly && !container.isEmpty {
            throw ValidationError("--host-only and --container exclude each other")
        }
    }

    var containerFilter: ContainerFilter {
        ContainerFilter(selectors: container, containersOnly: containersOnly, hostOnly: hostOnly)
    }

    func makeFilter() throws -> EventFilter {
        var pids = Set<UInt32>()
        for text in pid {
            guard let value = UInt32(text), value > 0, value <= Int32.max else {
                throw ValidationError("invalid --pid \(text.debugDescription): a process id is a whole number from 1 up")
            }
            pids.insert(value)
        }
        var events = Set<EventType>()
        for name in Self.split(event) {
            guard let type = EventType(name: name) else {
                throw ValidationError("unknown event '\(Escape.text(name))'; known: \(EventType.allCases.map(\.name).joined(separator: ", "))")
            }
            events.insert(type)
        }
        var nsTypes = Set<NamespaceType>()
        for name in Self.split(ns) {
            guard let type = NamespaceType(name: name) else {
                throw ValidationError("unknown namespace type '\(Escape.text(name))'; known: \(NamespaceType.allCases.map(\.name).joined(separator: ", "))")
            }
            nsTypes.insert(type)
        }
        for name in comm where name.utf8.count > 15 {
            throw ValidationError("--comm '\(Escape.text(name))' is longer than the kernel's 15-byte command name")
        }
        return EventFilter(pids: pids, comms: comm, events: events, nsTypes: nsTypes, failedOnly: failed)
    }

    private static func split(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }.map { String($0).lowercased() }.filter { !$0.isEmpty }
    }
}

/// `8M`, `512K`, `1G` or plain bytes.
struct ByteSize: ExpressibleByArgument {
    let bytes: UInt64

    init?(argument: String) {
        let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        var text = argument.uppercased()
        if text.hasSuffix("B") { text.removeLast() }
        var multiplier: UInt64 = 1
        if let last = text.last, let unit = units[last] {
            multiplier = unit
            text.removeLast()
        }
        guard let value = UInt64(text), value > 0 else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { return nil }
        self.bytes = bytes
    }
}
