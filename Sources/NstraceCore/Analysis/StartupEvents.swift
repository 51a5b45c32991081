/// The kept events of one container start, stored compactly (issue 9): one `EventArena` and
/// an array of `StoredEvent`s, two allocations for the whole timeline. The reports read them
/// through `StartupEvent`, which makes a String only for the field a report asks for.
public struct StartupEvents: RandomAccessCollection, Sendable {
    var arena: EventArena
    var stored: [StoredEvent]

    init(arena: EventArena = EventArena(), stored: [StoredEvent] = []) {
        self.arena = arena
        self.stored = stored
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { stored.count }
    public subscript(i: Int) -> StartupEvent { StartupEvent(stored: stored[i], arena: arena) }

    /// Appends event `i`'s detail line (a report that shows every event's: no String each),
    /// its record laid out in `scratch` (the report's).
    func appendDetail(_ i: Int, into out: inout OutputBuffer, scratch: StoredEventDetail.Scratch) {
        let e = stored[i]
        if e.record.isAbsent {
            arena.withBytes(e.detailText) { out.append(bytes: $0) }
        } else {
            StoredEventDetail.append(e.record, in: arena, into: &out, scratch: scratch)
        }
    }
}

/// One kept event as a report reads it: numbers as stored, Strings made when asked for.
public struct StartupEvent: Sendable {
    let stored: StoredEvent
    let arena: EventArena

    public var kind: AnalysisEvent.Kind { stored.kind }
    public var tsNs: UInt64 { stored.tsNs }
    public var latencyNs: UInt64 { stored.latencyNs }
    public var endNs: UInt64 { stored.endNs }
    public var pid: UInt32 { stored.pid }
    public var tid: UInt32 { stored.tid }
    public var errno: Int32 { stored.errno }
    public var failed: Bool { stored.failed }
    public var isRuntime: Bool { stored.isRuntime }
    public var namespaceFlags: UInt64 { stored.namespaceFlags }
    public var mountFlags: UInt64 { stored.mountFlags }

    /// The syscall's name, the caller's comm (text-escaped).
    public var name: String { arena.string(stored.name) ?? "" }
    public var comm: String { arena.string(stored.comm) ?? "" }
    public var source: String? { arena.string(stored.source) }
    public var target: String? { arena.string(stored.target) }
    public var fstype: String? { arena.string(stored.fstype) }
    public var filename: String? { arena.string(stored.filename) }
    public var argv: [String] { arena.arguments(stored) }

    /// One line describing the call, as `show` prints it (formatted now, from the stored record).
    public var detail: String { StoredEventDetail.string(stored, in: arena) }
}
