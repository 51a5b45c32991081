/// The state of one container's start while the events stream by: which phase each event
/// belongs to (rules in docs/analysis.md), the spans, the inventory. Memory is bounded per
/// container (at most `maxEvents` events kept).
///
/// Events come in stored form (`StoredEvent`, its bytes in the caller's arena `a`); a kept
/// one is copied into this start's own `arena`. The rules read its fields from the bytes:
/// no String is made per event, only for what the inventory keeps (volumes, processes).
final class StartupBuilder {
    var container: AnalysisEvent.Container
    let file: Int
    let maxEvents: Int

    private(set) var events: [StoredEvent] = []
    /// The kept events' bytes. A start keeps some 30 KB (60 events of 450 bytes, most of it
    /// the raw record): begun at 32 KB, it need not grow (begun at 16 KB, every start grew
    /// once: a copy of 16 KB each, about 3 % of the instructions of `analyze` on starts).
    /// Settable: the adapter stores the container's own events straight into it (`addStored`).
    var arena = EventArena(capacity: 32768)
    /// Set while `addStored` runs: the event's bytes are already at the end of `arena`, so
    /// `record` keeps the event as it is instead of copying it.
    private var storedInPlace = false
    private(set) var eventPhases: [StartupPhase?] = []
    /// How each kept event came in, to replay them into another builder (`merged`).
    enum Origin { case own, engine(StartupPhase), join }
    private(set) var origins: [Origin] = []
    private var origin = Origin.own
    private(set) var eventCount = 0
    private(set) var eventsDropped = 0

    struct Span {
        var start: UInt64
        var end: UInt64
        var processes: [ContainerStartup.Process] = []
        var count = 0
        var longest: (latency: UInt64, index: Int?) = (0, nil)
    }
    /// By `StartupPhase.order`: updated in place on every event (no hashing, no copy).
    private var spanSlots = [Span?](repeating: nil, count: StartupPhase.allCases.count)
    var spans: [(StartupPhase, Span)] {
        StartupPhase.allCases.compactMap { p in spanSlots[p.order].map { (p, $0) } }
    }
    /// What `StartupAnalyzer.claim` last saw of this builder (it looks again when these grow).
    var claimedPidCount = 0
    var claimedNetnsCount = 0
    var claimedByID = false
    var claimedRootfs = false

    // what the stream has shown so far
    private(set) var invokedAt: UInt64?
    private(set) var startExecAt: UInt64?
    private(set) var entryAt: UInt64?
    private var pivotAt: UInt64?
    private var namespacesAt: UInt64?
    private var firstWorkAfterInvoke: UInt64?
    private var createWorkEnd: UInt64 = 0
    /// The targets the runtime bound its own binary onto (one or two).
    private var bootstrapTargets: [[UInt8]] = []
    private(set) var initPid: UInt32?
    /// Processes doing the engine's network work inside the start: docker's setkey hook.
    private var networkPids: Set<UInt32> = []
    /// Engine processes seen in this start (dockerd, podman …), whose "exe" children are
    /// the engine re-executing itself to work in the container's netns.
    private var enginePids: Set<UInt32> = []
    /// Namespaces made for (or joined by) the container: netns inodes, for network events.
    private(set) var netns: Set<UInt32> = []
    /// Host pids of the container's runtime processes (for /proc/PID/ns/net binds).
    private(set) var pids: Set<UInt32> = []
    /// The pid last inserted into `pids`: a process makes its calls in runs, and the set's
    /// insert hashes (issue 9: once per event was a measurable share of the builder's time).
    private var lastPid: UInt32?
    /// The rootfs path the runtime bound onto itself, for matching the engine's overlay mounts.
    private(set) var rootfs: String?

    // inventory
    private(set) var namespaces: [ContainerStartup.Namespace] = []
    private(set) var sharedWithHost: [String] = []
    private var mountKinds = MountKindCounts()
    var mountsByKind: [String: Int] { mountKinds.byKind }
    private(set) var volumes: [ContainerStartup.Volume] = []
    private(set) var failedCalls: [Int] = []
    private(set) var failedCallCount = 0
    private(set) var sharedPropagation: [Int] = []
    private(set) var laterJoins = 0
    private(set) var execSessions = 0

    init(container: AnalysisEvent.Container, file: Int, maxEvents: Int) {
        self.container = container
        self.file = file
        self.maxEvents = maxEvents
        // a start keeps some 60 events: room for them at once, not seven regrowths of each list
        let room = min(maxEvents, 64)
        events.reserveCapacity(room)
        eventPhases.reserveCapacity(room)
        origins.reserveCapacity(room)
    }

    /// A container start is in the trace when the runtime was invoked, namespaces were made,
    /// or the runtime was told to start it (a start whose create the trace does not show).
    var hasStart: Bool { invokedAt != nil || namespacesAt != nil || startExecAt != nil }
    var finished: Bool { entryAt != nil }
    var firstNs: UInt64? { spanSlots.compactMap { $0?.start }.min() }

    // MARK: routing

    /// An event attributed to the container `c`.
    func add(_ e: StoredEvent, _ a: EventArena, container c: AnalysisEvent.Container) {
        refresh(c)
        addOwn(e, a)
    }

    /// An event of this container stored straight into `arena` from byte `mark` on (the
    /// container's value refreshed before, once per run of its events): kept without a copy,
    /// or its bytes dropped (issue 9: copying each kept event from a scratch arena into this
    /// one cost about a sixth of the analysis).
    func addStored(_ e: StoredEvent, from mark: Int) {
        let before = events.count
        storedInPlace = true
        addOwn(e, arena)
        storedInPlace = false
        if events.count == before { arena.truncate(to: mark) }
    }

    private func addOwn(_ e: StoredEvent, _ a: EventArena) {
        origin = .own
        noteEngine(e, a)
        if entryAt != nil { addLater(e, a); return }
        if e.pid != lastPid {
            pids.insert(e.pid)
            lastPid = e.pid
        }
        switch e.kind {
        case .exec: addExec(e, a)
        case .mount, .umount, .mountAPI: addMount(e, a)
        case .pivotRoot:
            pivotAt = e.tsNs
            initPid = e.pid
            mountKinds.add("pivot_root")
            record(e, a, .pivotRoot, createWork: true)
        case .unshare, .clone:
            guard e.namespaces.count > 0 || e.namespaceFlags != 0 else { record(e, a, nil); return }
            a.forEachNamespace(e) { type, inode in
                namespaces.append(.init(type: StoredEvent.namespaceName(type), inode: inode, how: "created", pid: e.pid))
                if type == .net { netns.insert(inode) }
            }
            if namespacesAt == nil { namespacesAt = e.tsNs }
            noteRuntimeWork(e.tsNs)
            record(e, a, .namespaces, createWork: true)
        case .setns:
            if isEngineNetworkWork(e, a) {
                // dockerd entering the new netns (and back out), its setkey hook configuring it:
                // the network phase, not namespaces the runtime made or joined. Nothing is added
                // to `netns`: the new one is there from its unshare, and the way back is the host's.
                record(e, a, .network)
                return
            }
            if invokedAt == nil {
                record(e, a, .enginePreparation)
                return
            }
            a.forEachNamespace(e) { type, inode in
                namespaces.append(.init(type: StoredEvent.namespaceName(type), inode: inode, how: "joined", pid: e.pid))
                if type == .net { netns.insert(inode) }
            }
            noteRuntimeWork(e.tsNs)
            record(e, a, .namespaces, createWork: true)
        }
    }

    /// An engine or plugin event found to belong to this container (a host process).
    func addEngine(_ e: StoredEvent, _ a: EventArena, _ phase: StartupPhase) {
        origin = .engine(phase)
        noteEngine(e, a)
        if phase == .network, let n = a.namespace(e, .net) { netns.insert(n) }
        // after the entrypoint's exec, the engine's work is no longer the start's (a later netns visit is a join)
        if entryAt != nil { addLater(e, a); return }
        if e.kind == .mount || e.kind == .umount || e.kind == .mountAPI { countMount(e, a) }
        record(e, a, phase)
    }

    /// A host process entering the container's namespaces.
    func addJoin(_ e: StoredEvent, _ a: EventArena) {
        origin = .join
        if entryAt == nil, a.namespace(e, .net) != nil {
            record(e, a, .network)
        } else {
            addLater(e, a)
        }
    }

    private func addLater(_ e: StoredEvent, _ a: EventArena) {
        if e.kind == .setns { laterJoins += 1 }
        if e.kind == .exec, e.isRuntime, RuntimeInvocation.subcommand(a.arguments(e)) == "exec" { execSessions += 1 }
        eventCount += 1
    }

    func refresh(_ c: AnalysisEvent.Container) {
        if c.name != nil && container.name == nil { container.name = c.name }
        if c.image != nil && container.image == nil { container.image = c.image }
        if c.runtime != container.runtime { container.runtime = c.runtime }
    }

    private func addExec(_ e: StoredEvent, _ a: EventArena) {
        // (an exec's argv as Strings: a few per start)
        let argv = a.arguments(e)
        // docker's prestart hook: dockerd re-executed to configure the network
        if argv.first.map({ $0.hasSuffix("libnetwork-setkey") }) == true {
            networkPids.insert(e.pid)
            record(e, a, .network)
            return
        }
        if e.isRuntime, let invocation = RuntimeInvocation(argv: argv, filename: a.string(e.filename)) {
            switch invocation.subcommand {
            case "create", "run":
                if invokedAt == nil {
                    invokedAt = e.tsNs
                    record(e, a, .runtimeInvoked)
                    return
                }
            case "start":
                if startExecAt == nil { startExecAt = e.tsNs }
                record(e, a, .entrypoint)
                return
            case "init":
                noteRuntimeWork(e.tsNs)
                record(e, a, .runtimeBootstrap)
                return
            default:
                break
            }
            if invocation.isReexec {
                // the sealed copy re-executing itself: runc init, or crun's create / start
                record(e, a, startExecAt != nil ? .entrypoint : .runtimeBootstrap)
                return
            }
            record(e, a, invokedAt == nil ? .enginePreparation : nil)
            return
        }
        if e.isRuntime {
            // containerd-shim, conmon: the engine's side
            record(e, a, invokedAt == nil ? .enginePreparation : nil)
            return
        }
        // without the create work (cut at start), the first program the container runs after `start`
        let isInit = initPid.map { $0 == e.pid } ?? (namespacesAt != nil || startExecAt != nil)
        if isInit && (namespacesAt != nil || pivotAt != nil || startExecAt != nil) {
            entryAt = e.tsNs
            sharedWithHost = StoredEvent.sharedNames(e.sharedWithHost)
            record(e, a, .entrypoint)
            return
        }
        record(e, a, invokedAt == nil ? .enginePreparation : nil)
    }

    private func addMount(_ e: StoredEvent, _ a: EventArena) {
        countMount(e, a)
        if isEngineNetworkWork(e, a) {
            record(e, a, .network)
            return
        }
        if e.kind == .mount, a.equals(e.source, "/proc/self/exe") {
            if !e.target.isAbsent { bootstrapTargets.append(a.withBytes(e.target) { Array($0) }) }
            record(e, a, startExecAt != nil ? .entrypoint : .runtimeBootstrap, createWork: startExecAt == nil)
            noteRuntimeWork(e.tsNs)
            return
        }
        if !e.target.isAbsent, a.withBytes(e.target, { t in bootstrapTargets.contains { $0.elementsEqual(t) } }) {
            record(e, a, startExecAt != nil ? .entrypoint : .runtimeBootstrap, createWork: startExecAt == nil)
            return
        }
        if invokedAt == nil && namespacesAt == nil {
            record(e, a, .enginePreparation)
            return
        }
        if pivotAt != nil {
            let tail = Self.isPivotTail(e, a)
            record(e, a, tail ? .pivotRoot : .finishing, createWork: true)
            if !tail, e.kind == .mount, e.mountFlags & MountBits.remount != 0, e.mountFlags & MountBits.readOnly != 0 {
                markReadOnly(e, a)
            }
            return
        }
        if namespacesAt != nil {
            if initPid == nil { initPid = e.pid }
            noteMountSetup(e, a)
            record(e, a, .mountSetup, createWork: true)
            return
        }
        noteRuntimeWork(e.tsNs)
        record(e, a, .runtimeBootstrap, createWork: true)
    }

    /// An engine's (or its network hook's) setns into a network namespace, or its bind of a
    /// process's `/proc/PID/ns/net` (pinning the netns to a file), once the runtime is at work.
    private func isEngineNetworkWork(_ e: StoredEvent, _ a: EventArena) -> Bool {
        // "exe" is an engine comm only as docker's hook (known by its exec) or as a child of the
        // engine: runc's own re-executed copy is "exe" too, and its joins are the runtime's
        guard invokedAt != nil, e.isEngine, !e.isRuntime,
              !a.equals(e.comm, "exe") || networkPids.contains(e.pid) || enginePids.contains(e.ppid) else { return false }
        switch e.kind {
        case .setns:
            return e.namespaceFlags == NamespaceType.net.cloneFlag
        case .mount:
            return e.mountFlags & MountBits.bind != 0 && a.hasPrefix(e.source, "/proc/") && a.hasSuffix(e.source, "/ns/net")
        default:
            return false
        }
    }

    private func noteEngine(_ e: StoredEvent, _ a: EventArena) {
        if e.isEngine, !a.equals(e.comm, "exe") { enginePids.insert(e.pid) }
    }

    /// After pivot_root: the old root made private or slave, then detached (`.` or `/`).
    static func isPivotTail(_ e: StoredEvent, _ a: EventArena) -> Bool {
        guard a.equals(e.target, ".") || a.equals(e.target, "/") else { return false }
        if e.kind == .umount { return true }
        return e.kind == .mount && e.source.count == 0 && e.mountFlags & MountBits.propagation != 0
            && e.mountFlags & (MountBits.bind | MountBits.remount) == 0
    }

    private func noteMountSetup(_ e: StoredEvent, _ a: EventArena) {
        guard e.kind == .mount, !e.failed else { return }
        let flags = e.mountFlags
        if flags & MountBits.shared != 0 { sharedPropagation.append(index(of: e)) }
        if flags & MountBits.bind != 0, flags & MountBits.remount == 0, !e.source.isAbsent {
            if rootfs == nil, a.equals(e.source, e.target) { rootfs = a.string(e.source); return }
            if a.withBytes(e.source, { Self.isVolumeSource($0, containerID: container.id, rootfs: rootfs) }) {
                // the target as the container sees it only when the trace says so (issue 8's in_container)
                volumes.append(.init(source: a.string(e.source) ?? "", target: a.string(e.resolvedTarget),
                                     rawTarget: a.string(e.target) ?? "", propagation: "inherited",
                                     readOnly: flags & MountBits.readOnly != 0, event: index(of: e)))
            }
            return
        }
        // a propagation change right after a volume's bind is that volume's propagation
        if flags & MountBits.propagation != 0, flags & (MountBits.bind | MountBits.remount) == 0,
           let last = volumes.indices.last, Self.sameTarget(volumes[last], e, a), volumes[last].propagation == "inherited" {
            volumes[last].propagation = MountBits.propagationName(flags)
            if flags & MountBits.shared != 0 { sharedPropagation.append(index(of: e)) }
        }
        if flags & MountBits.remount != 0, flags & MountBits.readOnly != 0 { markReadOnly(e, a) }
    }

    private func markReadOnly(_ e: StoredEvent, _ a: EventArena) {
        guard let i = volumes.lastIndex(where: { Self.sameTarget($0, e, a) }) else { return }
        volumes[i].readOnly = true
    }

    /// A later call on a volume's mount: the same target as named, or as resolved (runc
    /// reopens the target, under another fd number, to remount it read-only).
    static func sameTarget(_ v: ContainerStartup.Volume, _ e: StoredEvent, _ a: EventArena) -> Bool {
        if a.equals(e.target, v.rawTarget) { return true }
        guard let vt = v.target else { return false }
        return a.equals(e.target, vt) || a.equals(e.resolvedTarget, vt)
    }

    /// A bind from the host that the user asked for: not the runtime's own (the rootfs, its
    /// fds, /dev/null for masked paths, cgroup directories) nor the engine's files for this
    /// container (resolv.conf, hosts, hostname, .containerenv, shm: their paths hold its id).
    static func isVolumeSource(_ src: UnsafeRawBufferPointer, containerID: String, rootfs: String?) -> Bool {
        guard src.first == 0x2F else { return false }
        if let rootfs, UTF8Search.hasPrefix(src, string: rootfs), src.count == rootfs.utf8.count || src[rootfs.utf8.count] == 0x2F {
            return false
        }
        if UTF8Search.hasPrefix(src, "/proc/") || UTF8Search.hasPrefix(src, "/dev/") || UTF8Search.hasPrefix(src, "/sys/") { return false }
        if UTF8Search.contains(src, containerID) { return false }
        return true
    }

    private func countMount(_ e: StoredEvent, _ a: EventArena) {
        guard !e.failed else { return }
        MountBits.withKind(e, a) { mountKinds.add($0) }
    }

    private func noteRuntimeWork(_ ts: UInt64) {
        if let invokedAt, ts >= invokedAt, firstWorkAfterInvoke == nil { firstWorkAfterInvoke = ts }
    }

    /// The index `record` is about to give the event (valid only if it is kept).
    private func index(of e: StoredEvent) -> Int { events.count }

    // MARK: spans

    private func record(_ e: StoredEvent, _ a: EventArena, _ phase: StartupPhase?, createWork: Bool = false) {
        eventCount += 1
        var kept: Int?
        if events.count < maxEvents {
            kept = events.count
            events.append(storedInPlace ? e : e.copied(from: a, into: &arena))
            eventPhases.append(phase)
            origins.append(origin)
        } else {
            eventsDropped += 1
        }
        if e.failed {
            failedCallCount += 1
            if let kept, failedCalls.count < 64 { failedCalls.append(kept) }
        }
        if createWork && startExecAt == nil { createWorkEnd = max(createWorkEnd, e.endNs) }
        guard let phase else { return }
        let slot = phase.order
        if spanSlots[slot] == nil { spanSlots[slot] = Span(start: e.tsNs, end: e.endNs) }
        // in place: the optional's payload is mutated without a copy of its process list, in
        // one access (an access per field checked the list's uniqueness each time)
        Self.extend(&spanSlots[slot]!, with: e, a, kept: kept)
    }

    private static func extend(_ span: inout Span, with e: StoredEvent, _ a: EventArena, kept: Int?) {
        span.start = min(span.start, e.tsNs)
        span.end = max(span.end, e.endNs)
        span.count += 1
        if span.processes.count < 32 && !span.processes.contains(where: { $0.pid == e.pid && a.equals(e.comm, $0.comm) }) {
            span.processes.append(ContainerStartup.Process(pid: e.pid, comm: a.string(e.comm) ?? ""))
        }
        if e.latencyNs >= span.longest.latency { span.longest = (e.latencyNs, kept) }
    }

    /// A builder for `container` with the kept events of `parts`, replayed in time order: one
    /// container seen under a cut id (a runtime's argv cut before its end) and its full id.
    static func merged(_ parts: [StartupBuilder], container: AnalysisEvent.Container, maxEvents: Int) -> StartupBuilder {
        let b = StartupBuilder(container: container, file: parts[0].file, maxEvents: maxEvents)
        var all: [(event: StoredEvent, part: Int, origin: Origin)] = []
        for (k, p) in parts.enumerated() { all += zip(p.events, p.origins).map { ($0, k, $1) } }
        all.sort { $0.event.tsNs < $1.event.tsNs }
        for (e, k, o) in all {
            let a = parts[k].arena
            switch o {
            case .own: b.add(e, a, container: container)
            case .engine(let phase): b.addEngine(e, a, phase)
            case .join: b.addJoin(e, a)
            }
        }
        b.laterJoins = parts.map(\.laterJoins).reduce(0, +)
        b.execSessions = parts.map(\.execSessions).reduce(0, +)
        return b
    }

    // MARK: result

    func finish(lossWindows: [(UInt64, UInt64)], lostTotal: UInt64, traceCut: Bool) -> ContainerStartup {
        var phases: [ContainerStartup.Phase] = []
        for (phase, span) in spans {
            var s = span
            switch phase {
            case .runtimeInvoked:
                // the runtime's own start-up: until its first kernel work
                guard let w = firstWorkAfterInvoke else { continue }
                s.end = max(s.start, w)
            case .entrypoint:
                guard let entryAt else { continue }
                s.start = startExecAt ?? (createWorkEnd > 0 ? min(createWorkEnd, entryAt) : span.start)
                s.end = entryAt
            default:
                break
            }
            phases.append(.init(phase: phase, startNs: s.start, endNs: s.end, processes: s.processes,
                                eventCount: s.count, longestEvent: s.longest.index))
        }
        if let startExecAt, createWorkEnd > 0, createWorkEnd <= startExecAt {
            let pr = events.indices.filter { eventPhases[$0] == .entrypoint && events[$0].tsNs == startExecAt }
            phases.append(.init(phase: .createStartWait, startNs: createWorkEnd, endNs: startExecAt,
                                processes: pr.map { .init(pid: events[$0].pid, comm: arena.string(events[$0].comm) ?? "") },
                                eventCount: 0, longestEvent: nil))
        }
        phases.sort { $0.startNs != $1.startNs ? $0.startNs < $1.startNs : $0.phase < $1.phase }
        let start = phases.map(\.startNs).min() ?? firstNs ?? 0

        var reasons: [String] = []
        if invokedAt == nil { reasons.append("cut at start: the trace does not show the runtime being invoked") }
        if entryAt == nil {
            // a runtime started before the recording is not followed: its child's exec is not in the trace
            reasons.append(invokedAt == nil && startExecAt != nil
                ? "no entrypoint exec: the process that runs it was made before the recording began"
                : "cut at end: the trace ends before the entrypoint's exec")
        }
        let end = entryAt ?? events.last?.endNs ?? start
        let lossy = lossWindows.contains { $0.0 <= end && $0.1 >= start }
        if lossy { reasons.append("events lost during the start") }
        _ = traceCut

        var result = ContainerStartup(
            container: container, file: file, startNs: start, endNs: entryAt, complete: reasons.isEmpty,
            incompleteReasons: reasons, phases: phases, namespaces: namespaces, sharedWithHost: sharedWithHost,
            mountsByKind: mountsByKind, volumes: volumes, failedCalls: failedCalls, failedCallCount: failedCallCount,
            laterJoins: laterJoins, execSessions: execSessions, findings: [],
            events: StartupEvents(arena: arena, stored: events), eventPhases: eventPhases,
            eventCount: eventCount, eventsDropped: eventsDropped, lostEvents: lossy ? lostTotal : 0)
        result.findings = StartupFindings.find(result, sharedPropagation: sharedPropagation, lossy: lossy)
        return result
    }
}
