/// The one place that turns the decoder's events and the attribution's answers into stored
/// analysis events (`StoredEvent`; porting the analysis to another event type touches this
/// file only).
///
/// Untrusted strings (comm, paths, argv) are kept in nstrace's text-escaped form (bytes that
/// are not printable UTF-8 as `\xNN`): lossless, printable, and each report escapes them
/// again for its medium (JSON, HTML).
public final class AnalysisEventAdapter {
    /// Host processes whose events may belong to a container start (engines, shims, CNI and
    /// netavark plugins); events of other host processes are only counted.
    public static let engineComms: Set<String> = [
        "dockerd", "containerd", "containerd-shim", "ctr", "podman", "conmon", "crio", "pinns",
        "netavark", "aardvark-dns", "bridge", "tuning", "portmap", "firewall", "loopback",
        "host-local", "dnsname", "macvlan", "ipvlan", "exe",
    ]

    private static let engineNames = CommNames(engineComms)

    /// Twenty pairs of words compared: cheaper than hashing, on every host event.
    static func isEngine(_ comm: UnsafeRawBufferPointer) -> Bool { engineNames.contains(comm) }

    /// Each container's value, escaped once (refreshed when its name or image changes).
    private var containers: [ObjectIdentifier: (name: String?, image: String?, runtime: ContainerRuntime, value: AnalysisEvent.Container)] = [:]
    /// The last one asked for: events come in runs of one container. Three properties, not
    /// an optional tuple: reading the tuple copied all of it (six references retained and
    /// released) on every event (issue 9).
    private var lastRecord: ContainerRecord?
    private var lastRevision = 0
    private var lastValue = AnalysisEvent.Container(id: "", runtime: "")

    func container(_ r: ContainerRecord) -> AnalysisEvent.Container {
        // the same record at the same revision (its identity, name and image unchanged)
        if lastRecord === r, lastRevision == r.revision { return lastValue }
        let key = ObjectIdentifier(r)
        let value: AnalysisEvent.Container
        if let c = containers[key], c.name == r.name, c.image == r.image, c.runtime == r.identity.runtime {
            value = c.value
        } else {
            value = Self.container(r)
            containers[key] = (r.name, r.image, r.identity.runtime, value)
        }
        lastRecord = r
        lastRevision = r.revision
        lastValue = value
        return value
    }

    /// Root filesystems learnt from the stream (as `show` learns them), to name a bind's
    /// target as the container sees it (`in_container`).
    private let paths = PathKnowledge()

    public init() {}

    /// An event not of a container (engine, join) is stored here first, then copied by the
    /// builder that keeps it.
    private var scratch = EventArena(capacity: 4096)

    /// Attributes `ev` (which attribution must see, every event in order) and feeds the analyzer.
    public func feed(_ ev: EventView, attribution: ContainerAttribution, into analyzer: StartupAnalyzer) {
        let found = attribution.attribute(ev)
        feed(ev, container: found.container, target: found.target, attribution: attribution, into: analyzer)
    }

    /// The same for an event already attributed (live: the event pipeline did it): host noise
    /// only counted, a kept event stored (no String made for it) and handed over.
    public func feed(_ ev: EventView, container record: ContainerRecord?, target: ContainerRecord?,
                     attribution: ContainerAttribution, into analyzer: StartupAnalyzer) {
        // (with the analyzer given, a host join is decided here: never `.hostJoin`)
        guard case .event = route(ev, container: record, target: target, deciding: analyzer) else {
            analyzer.skip(tsNs: ev.tsNs)
            return
        }
        if let record, let b = analyzer.ownBuilder(record, values: self) {
            // the container's own event: stored where it is kept, in its start's arena
            let mark = b.arena.count
            let e = store(ev, kind: Self.kind(ev.type), record: record, attribution: attribution, into: &b.arena)
            analyzer.consumeStored(e, into: b, from: mark)
            return
        }
        scratch.removeAll()
        let e = store(ev, kind: Self.kind(ev.type), record: record, attribution: attribution, into: &scratch)
        analyzer.consume(e, scratch, container: record.map(container), joined: target.map(container))
    }

    /// What the reader of one of several merged files hands over for one event: it runs
    /// ahead of the analyzer, on its own thread (`MergedTraceAnalysis`), so a host process's
    /// join of a network namespace is decided later, by the analyzer (`hostJoin`).
    enum Taken {
        /// Host noise (or cgroup bookkeeping): only counted.
        case skipped
        case event(StoredEvent, container: SharedContainer?, joined: SharedContainer?)
        case hostJoin(StoredEvent, netns: UInt32)
    }

    /// The last container value `shared` made, and the record and revision it is of.
    private var lastShared: SharedContainer?
    private var lastSharedRecord: ContainerRecord?
    private var lastSharedRevision = 0

    /// Record `r`'s value as a `SharedContainer`, one object per run of its events (a new one
    /// whenever the record changes).
    func shared(_ r: ContainerRecord) -> SharedContainer {
        if let s = lastShared, lastSharedRecord === r, lastSharedRevision == r.revision { return s }
        let s = SharedContainer(container(r))
        lastShared = s
        lastSharedRecord = r
        lastSharedRevision = r.revision
        return s
    }

    /// Attributes `ev` and stores it, if kept, into `arena` (the batch it travels in): the
    /// same stored event as `feed` makes, straight from the decoded record.
    func take(_ ev: EventView, attribution: ContainerAttribution, into arena: inout EventArena) -> Taken {
        let found = attribution.attribute(ev)
        let route = route(ev, container: found.container, target: found.target, deciding: nil)
        if case .skipped = route { return .skipped }
        let e = store(ev, kind: Self.kind(ev.type), record: found.container, attribution: attribution, into: &arena)
        if case .hostJoin(let netns) = route { return .hostJoin(e, netns: netns) }
        return .event(e, container: found.container.map(shared), joined: found.target.map(shared))
    }

    /// What becomes of one event, decided before anything is stored (host noise, most of a
    /// trace, costs no copy).
    enum Route {
        case skipped
        case event
        case hostJoin(netns: UInt32)
    }

    /// Learns from the attributed event (every event, in order) and tells whether it is kept;
    /// `analyzer` (nil: decided later) decides a host process's join by the netns it owns (an
    /// object, not a closure of its method: that closure cost a retain and a release per event).
    func route(_ ev: EventView, container record: ContainerRecord?, target: ContainerRecord?,
                      deciding analyzer: StartupAnalyzer?) -> Route {
        paths.learn(ev, record)
        if ev.type == .cgroupMkdir { return .skipped }
        if record == nil && target == nil && !Self.isEngine(ev.comm) {
            // host noise stays cheap: only engine processes' calls, and joins of a network
            // namespace a container start uses, are kept
            guard ev.type == .setns else { return .skipped }
            let netns = ev.setns.targetInode
            guard let analyzer else { return .hostJoin(netns: netns) }
            return analyzer.ownsNetns(netns) ? .event : .skipped
        }
        return .event
    }

    /// The analysis kind of an event type (cgroup_mkdir is never made one).
    static func kind(_ type: EventType) -> AnalysisEvent.Kind {
        switch type {
        case .unshare: return .unshare
        case .setns: return .setns
        case .clone, .clone3: return .clone
        case .mount: return .mount
        case .umount: return .umount
        case .pivotRoot: return .pivotRoot
        case .exec: return .exec
        default: return .mountAPI
        }
    }

    /// The stored form of one event (`record`: its container), its variable bytes appended to
    /// `arena`: integers and spans, no String (the detail line is formatted later, from the
    /// raw record kept with it). Untrusted strings are stored text-escaped.
    func store(_ ev: EventView, kind: AnalysisEvent.Kind, record: ContainerRecord?, attribution: ContainerAttribution,
               into arena: inout EventArena) -> StoredEvent {
        // ts_ns is taken at the syscall's exit: the analysis times calls from their entry
        let entry = ev.tsNs >= ev.latencyNs ? ev.tsNs - ev.latencyNs : 0
        // the raw record first: a string that text-escaping leaves as it is (the common case)
        // is then a span into the record's copy of it, not a second copy (issue 9)
        let rawRecord = StoredEventDetail.store(ev, into: &arena)
        let comm = ev.comm
        let commSpan = isPlainText(comm)
            ? ByteSpan(offset: rawRecord.offset + UInt32(EventLayout.comm), count: UInt32(comm.count)) : arena.appendText(comm)
        var e = StoredEvent(tsNs: entry, latencyNs: ev.latencyNs, pid: ev.pid, tid: ev.tid, kind: kind,
                            name: arena.append(ev.type.staticName), comm: commSpan)
        e.errno = ev.errno
        e.attributed = record != nil
        e.netns = ev.ns(NamespaceSlot.net.index)
        e.isEngine = Self.isEngine(comm)
        e.ppid = ev.ppid
        func string(_ slot: Int) -> ByteSpan {
            if ev.stringIsNull(slot: slot) { return .absent }
            let raw = ev.string(slot)
            guard ev.type.hasStrings, isPlainText(raw) else { return arena.appendText(raw) }
            return ByteSpan(offset: rawRecord.offset + UInt32(StoredEventDetail.stringOffset(ev, slot: slot)), count: UInt32(raw.count))
        }
        switch ev.type {
        case .unshare, .clone, .clone3:
            e.namespaceFlags = ev.cloneFlags & NamespaceType.allCloneFlags
            if ev.hasNsBefore && !ev.failed {
                // one entry per type, in slot order (pid_for_children's change is pid's)
                let start = arena.count
                var seen: UInt8 = 0
                for slot in 0..<NamespaceSlot.count where ev.ns(slot) != ev.nsBefore(slot) && ev.ns(slot) != 0 {
                    let type = NamespaceSlot.type(slot), bit = UInt8(1) << UInt8(type.rawValue)
                    if seen & bit == 0 { seen |= bit; arena.appendNamespace(type, ev.ns(slot)) }
                }
                e.namespaces = ByteSpan(offset: UInt32(start), count: UInt32(arena.count - start))
            }
        case .setns:
            let call = ev.setns
            e.namespaceFlags = call.targetType
            if !call.viaPidfd, let t = NamespaceType(cloneFlag: call.targetType) {
                let start = arena.count
                arena.appendNamespace(t, call.targetInode)
                e.namespaces = ByteSpan(offset: UInt32(start), count: UInt32(arena.count - start))
            }
        case .mount:
            e.source = string(0)
            e.target = string(1)
            e.fstype = string(2)
            e.mountFlags = ev.mount.flags
            // binds (volumes), and whatever the recorder resolved (a /proc/self/fd/N target)
            if !ev.failed, e.mountFlags & MountBits.bind != 0 || ev.resolvedBase(1) != nil,
               let arg = PathArgument.forSlot(1, of: ev.type),
               let inside = paths.rootfs.withInside(ev, arg, container: record, { arena.appendText($0) }) {
                // the target as the container sees it (the recorder's resolution of a
                // /proc/self/fd/N, joined under the container's root filesystem)
                e.resolvedTarget = inside
            }
        case .umount:
            e.target = string(0)
            e.mountFlags = ev.umount.flags
        case .pivotRoot:
            e.target = string(0)
            e.source = string(1)
        case .moveMount:
            e.source = string(0)
            e.target = string(1)
            e.mountFlags = ev.moveMount.flags
        case .openTree, .mountSetattr, .fsopen:
            e.target = string(0)
        case .exec:
            e.filename = string(0)
            let start = arena.count
            ev.forEachArgument { a in
                _ = arena.appendText(a)
                arena.append(byte: 0)
            }
            e.argv = ByteSpan(offset: UInt32(start), count: UInt32(arena.count - start))
            e.isRuntime = ev.exec.isRuntime
            // what the entrypoint shares with the host: only a container's own program can be it
            if !e.isRuntime && record != nil {
                for slot in 0..<min(8, NamespaceSlot.count) where ev.ns(slot) != 0 && ev.ns(slot) == attribution.hostNamespaces[slot] {
                    e.sharedWithHost |= UInt8(1) << UInt8(NamespaceSlot.type(slot).rawValue)
                }
            }
        default:
            break
        }
        e.record = rawRecord
        return e
    }

    /// Names and images come from runtimes' APIs and the trace file: escaped like paths.
    static func container(_ r: ContainerRecord) -> AnalysisEvent.Container {
        .init(id: escaped(r.id), name: r.name.map(escaped), image: r.image.map(escaped), runtime: r.identity.runtime.rawValue)
    }

    static func escaped(_ s: String) -> String {
        var s = s
        return s.withUTF8 { text(UnsafeRawBufferPointer($0)) }
    }

    /// Untrusted bytes in the text-escaped form stored events keep (container names, tests).
    static func text(_ bytes: UnsafeRawBufferPointer) -> String {
        var arena = EventArena()
        let span = arena.appendText(bytes)
        return arena.string(span) ?? ""
    }
}

/// A container's value as one file's reader made it, handed to the thread that merges the
/// files: immutable, so sharing it is safe (its `ContainerRecord` is not: attribution refines
/// the record on the reader's thread). A merged item carries this one reference instead of
/// the value's four Strings, each retained and released with every copy of the item.
final class SharedContainer: Sendable {
    let value: AnalysisEvent.Container
    init(_ value: AnalysisEvent.Container) { self.value = value }
}
