/// Which events to show. Categories are and-ed; within a category any element matches; an
/// empty category matches everything. `matches` does not allocate.
public struct EventFilter: Sendable {
    /// Match the event's pid (tgid) or tid.
    public var pids: Set<UInt32>
    /// Exact comm match. Names longer than 15 bytes are compared by their first 15 bytes,
    /// as the kernel keeps only those (TASK_COMM_LEN 16, NUL included).
    public var comms: [[UInt8]] {
        didSet { normalizedComms = Self.normalize(comms) }
    }
    public var events: Set<EventType> {
        didSet { eventMask = Self.mask(events) }
    }
    /// Events that touch a namespace of one of these types: unshare/clone/clone3 whose
    /// CLONE_* flags include it, setns whose nstype or target namespace is of that type, any
    /// event whose ns_before differs from ns in a slot of that type, and every mount-family
    /// event for `mnt`.
    public var nsTypes: Set<NamespaceType> {
        didSet { (nsCloneFlags, nsSlotMask, nsMnt) = Self.nsMasks(nsTypes) }
    }
    /// Only events whose syscall failed.
    public var failedOnly: Bool

    private var normalizedComms: [[UInt8]]
    private var eventMask: UInt32
    private var nsCloneFlags: UInt64
    private var nsSlotMask: UInt16
    private var nsMnt: Bool

    public init(pids: Set<UInt32> = [], comms: [[UInt8]] = [], events: Set<EventType> = [],
                nsTypes: Set<NamespaceType> = [], failedOnly: Bool = false) {
        self.pids = pids
        self.comms = comms
        self.events = events
        self.nsTypes = nsTypes
        self.failedOnly = failedOnly
        self.normalizedComms = Self.normalize(comms)
        self.eventMask = Self.mask(events)
        (nsCloneFlags, nsSlotMask, nsMnt) = Self.nsMasks(nsTypes)
    }

    /// Convenience: comm names as Strings.
    public init(pids: Set<UInt32> = [], comms: [String], events: Set<EventType> = [],
                nsTypes: Set<NamespaceType> = [], failedOnly: Bool = false) {
        self.init(pids: pids, comms: comms.map { Array($0.utf8) }, events: events,
                  nsTypes: nsTypes, failedOnly: failedOnly)
    }

    /// True when no category restricts anything.
    public var isEmpty: Bool {
        pids.isEmpty && comms.isEmpty && events.isEmpty && nsTypes.isEmpty && !failedOnly
    }

    public func matches(_ ev: EventView) -> Bool {
        if failedOnly && !ev.failed { return false }
        if eventMask != 0 && eventMask & (UInt32(1) << UInt32(ev.type.rawValue)) == 0 { return false }
        if !pids.isEmpty && !pids.contains(ev.pid) && !pids.contains(ev.tid) { return false }
        if !normalizedComms.isEmpty && !commMatches(ev.comm) { return false }
        if !nsTypes.isEmpty && !touchesNamespaces(ev) { return false }
        return true
    }

    private func commMatches(_ comm: UnsafeRawBufferPointer) -> Bool {
        for c in normalizedComms where c.count == comm.count {
            var equal = true
            for i in 0..<c.count where c[i] != comm[i] { equal = false; break }
            if equal { return true }
        }
        return false
    }

    private func touchesNamespaces(_ ev: EventView) -> Bool {
        if nsMnt && ev.type.isMountEvent { return true }
        if ev.changedSlots & nsSlotMask != 0 { return true }
        switch ev.type {
        case .unshare, .clone, .clone3:
            return ev.cloneFlags & nsCloneFlags != 0
        case .setns:
            // nstype names the type, or the namespace the fd refers to does (a pidfd's nstype)
            let call = ev.setns
            return (call.nstype | call.targetType) & nsCloneFlags != 0
        default:
            return false
        }
    }

    private static func normalize(_ comms: [[UInt8]]) -> [[UInt8]] {
        comms.map { c in
            var c = c
            if let nul = c.firstIndex(of: 0) { c = Array(c[..<nul]) }
            return c.count > EventLayout.commSize - 1 ? Array(c.prefix(EventLayout.commSize - 1)) : c
        }
    }

    private static func mask(_ events: Set<EventType>) -> UInt32 {
        events.reduce(0) { $0 | UInt32(1) << UInt32($1.rawValue) }
    }

    private static func nsMasks(_ types: Set<NamespaceType>) -> (UInt64, UInt16, Bool) {
        var flags: UInt64 = 0
        var slots: UInt16 = 0
        for t in types {
            flags |= t.cloneFlag
            slots |= t.slotMask
        }
        return (flags, slots, types.contains(.mnt))
    }
}
