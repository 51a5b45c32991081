/// The state of one container's start while the events stream by: which phase each event
/// belongs to (rules in docs/analysis.md), the spans, the inventory. Memory is bounded per
/// container (at most `maxEvents` events kept).
final class StartupBuilder {
    var container: AnalysisEvent.Container
    let file: Int
    let maxEvents: Int

    private(set) var events: [AnalysisEvent] = []
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
    private var bootstrapTargets: Set<String> = []
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
    /// The rootfs path the runtime bound onto itself, for matching the engine's overlay mounts.
    private(set) var rootfs: String?

    // inventory
    private(set) var namespaces: [ContainerStartup.Namespace] = []
    private(set) var sharedWithHost: [String] = []
    private(set) var mountsByKind: [String: Int] = [:]
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
    }

    /// A container start is in the trace when the runtime was invoked, namespaces were made,
    /// or the runtime was told to start it (a start whose create the trace does not show).
    var hasStart: Bool { invokedAt != nil || namespacesAt != nil || startExecAt != nil }
    var finished: Bool { entryAt != nil }
    var firstNs: UInt64? { spanSlots.compactMap { $0?.start }.min() }

    // MARK: routing

    /// An event attributed to the container.
    func add(_ e: AnalysisEvent) {
        origin = .own
        if let c = e.container { refresh(c) }
        noteEngine(e)
        if entryAt != nil { addLater(e); return }
        pids.insert(e.pid)
        switch e.kind {
        case .exec: addExec(e)
        case .mount, .umount, .mountAPI: addMount(e)
        case .pivotRoot:
            pivotAt = e.tsNs
            initPid = e.pid
            mountsByKind["pivot_root", default: 0] += 1
            record(e, .pivotRoot, createWork: true)
        case .unshare, .clone:
            guard !e.namespaces.isEmpty || e.namespaceFlags != 0 else { record(e, nil); return }
            for ns in e.namespaces {
                namespaces.append(.init(type: ns.type, inode: ns.inode, how: "created", pid: e.pid))
                if ns.type == "net" { netns.insert(ns.inode) }
            }
            if namespacesAt == nil { namespacesAt = e.tsNs }
            noteRuntimeWork(e.tsNs)
            record(e, .namespaces, createWork: true)
        case .setns:
            if isEngineNetworkWork(e) {
                // dockerd entering the new netns (and back out), its setkey hook configuring it:
                // the network phase, not namespaces the runtime made or joined. Nothing is added
                // to `netns`: the new one is there from its unshare, and the way back is the host's.
                record(e, .network)
                return
            }
            if invokedAt == nil {
                record(e, .enginePreparation)
                return
            }
            for ns in e.namespaces {
                namespaces.append(.init(type: ns.type, inode: ns.inode, how: "joined", pid: e.pid))
                if ns.type == "net" { netns.insert(ns.inode) }
            }
            noteRuntimeWork(e.tsNs)
            record(e, .namespaces, createWork: true)
        }
    }

    /// An engine or plugin event found to belong to this container (a host process).
    func addEngine(_ e: AnalysisEvent, _ phase: StartupPhase) {
        origin = .engine(phase)
        noteEngine(e)
        if phase == .network, let n = e.namespaces.first(where: { $0.type == "net" }) { netns.insert(n.inode) }
        // after the entrypoint's exec, the engine's work is no longer the start's (a later netns visit is a join)
        if entryAt != nil { addLater(e); return }
        if e.kind == .mount || e.kind == .umount || e.kind == .mountAPI { countMount(e) }
        record(e, phase)
    }

    /// A host process entering the container's namespaces.
    func addJoin(_ e: AnalysisEvent) {
        origin = .join
        if entryAt == nil, e.namespaces.contains(where: { $0.type == "net" }) {
            record(e, .network)
        } else {
            addLater(e)
        }
    }

    private func addLater(_ e: AnalysisEvent) {
        if e.kind == .setns { laterJoins += 1 }
        if e.kind == .exec, e.isRuntime, RuntimeInvocation.subcommand(e.argv) == "exec" { execSessions += 1 }
        eventCount += 1
    }

    func refresh(_ c: AnalysisEvent.Container) {
        if c.name != nil && container.name == nil { container.name = c.name }
        if c.image != nil && container.image == nil { container.image = c.image }
        if c.runtime != container.runtime { container.runtime = c.runtime }
    }

    private func addExec(_ e: AnalysisEvent) {
        // docker's prestart hook: dockerd re-executed to configure the network
        if e.argv.first.map({ $0.hasSuffix("libnetwork-setkey") }) == true {
            networkPids.insert(e.pid)
            record(e, .network)
            return
        }
        if e.isRuntime, let invocation = RuntimeInvocation(e) {
            switch invocation.subcommand {
            case "create", "run":
                if invokedAt == nil {
                    invokedAt = e.tsNs
                    record(e, .runtimeInvoked)
                    return
                }
            case "start":
                if startExecAt == nil { startExecAt = e.tsNs }
                record(e, .entrypoint)
                return
            case "init":
                noteRuntimeWork(e.tsNs)
                record(e, .runtimeBootstrap)
                return
            default:
                break
            }
            if invocation.isReexec {
                // the sealed copy re-executing itself: runc init, or crun's create / start
                record(e, startExecAt != nil ? .entrypoint : .runtimeBootstrap)
                return
            }
            record(e, invokedAt == nil ? .enginePreparation : nil)
            return
        }
        if e.isRuntime {
            // containerd-shim, conmon: the engine's side
            record(e, invokedAt == nil ? .enginePreparation : nil)
            return
        }
        // without the create work (cut at start), the first program the container runs after `start`
        let isInit = initPid.map { $0 == e.pid } ?? (namespacesAt != nil || startExecAt != nil)
        if isInit && (namespacesAt != nil || pivotAt != nil || startExecAt != nil) {
            entryAt = e.tsNs
            sharedWithHost = e.namespaceInodes.keys.sorted().filter { t in
                guard let mine = e.namespaceInodes[t], let host = e.hostInodes[t] else { return false }
                return mine != 0 && mine == host
            }
            record(e, .entrypoint)
            return
        }
        record(e, invokedAt == nil ? .enginePreparation : nil)
    }

    private func addMount(_ e: AnalysisEvent) {
        countMount(e)
        if isEngineNetworkWork(e) {
            record(e, .network)
            return
        }
        if e.kind == .mount, e.source == "/proc/self/exe" {
            if let t = e.target { bootstrapTargets.insert(t) }
            record(e, startExecAt != nil ? .entrypoint : .runtimeBootstrap, createWork: startExecAt == nil)
            noteRuntimeWork(e.tsNs)
            return
        }
        if let t = e.target, bootstrapTargets.contains(t) {
            record(e, startExecAt != nil ? .entrypoint : .runtimeBootstrap, createWork: startExecAt == nil)
            return
        }
        if invokedAt == nil && namespacesAt == nil {
            record(e, .enginePreparation)
            return
        }
        if pivotAt != nil {
            let tail = Self.isPivotTail(e)
            record(e, tail ? .pivotRoot : .finishing, createWork: true)
            if !tail, e.kind == .mount, e.mountFlags & MountBits.remount != 0, e.mountFlags & MountBits.readOnly != 0 {
                markReadOnly(e)
            }
            return
        }
        if namespacesAt != nil {
            if initPid == nil { initPid = e.pid }
            noteMountSetup(e)
            record(e, .mountSetup, createWork: true)
            return
        }
        noteRuntimeWork(e.tsNs)
        record(e, .runtimeBootstrap, createWork: true)
    }

    /// An engine's (or its network hook's) setns into a network namespace, or its bind of a
    /// process's `/proc/PID/ns/net` (pinning the netns to a file), once the runtime is at work.
    private func isEngineNetworkWork(_ e: AnalysisEvent) -> Bool {
        // "exe" is an engine comm only as docker's hook (known by its exec) or as a child of the
        // engine: runc's own re-executed copy is "exe" too, and its joins are the runtime's
        guard invokedAt != nil, e.isEngine, !e.isRuntime,
              e.comm != "exe" || networkPids.contains(e.pid) || enginePids.contains(e.ppid) else { return false }
        switch e.kind {
        case .setns:
            return e.namespaceFlags == NamespaceType.net.cloneFlag
        case .mount:
            guard e.mountFlags & MountBits.bind != 0, let src = e.source, src.hasPrefix("/proc/") else { return false }
            return src.hasSuffix("/ns/net")
        default:
            return false
        }
    }

    private func noteEngine(_ e: AnalysisEvent) {
        if e.isEngine, e.comm != "exe" { enginePids.insert(e.pid) }
    }

    /// After pivot_root: the old root made private or slave, then detached (`.` or `/`).
    static func isPivotTail(_ e: AnalysisEvent) -> Bool {
        guard let t = e.target, t == "." || t == "/" else { return false }
        if e.kind == .umount { return true }
        return e.kind == .mount && (e.source == nil || e.source == "") && e.mountFlags & MountBits.propagation != 0
            && e.mountFlags & (MountBits.bind | MountBits.remount) == 0
    }

    private func noteMountSetup(_ e: AnalysisEvent) {
        guard e.kind == .mount, !e.failed else { return }
        let flags = e.mountFlags
        if flags & MountBits.shared != 0 { sharedPropagation.append(index(of: e)) }
        if flags & MountBits.bind != 0, flags & MountBits.remount == 0, let src = e.source {
            if rootfs == nil, src == e.target { rootfs = src; return }
            if Self.isVolumeSource(src, containerID: container.id, rootfs: rootfs) {
                // the target as the container sees it only when the trace says so (issue 8's in_container)
                volumes.append(.init(source: src, target: e.resolvedTarget,
                                     rawTarget: e.target ?? "", propagation: "inherited",
                                     readOnly: flags & MountBits.readOnly != 0, event: index(of: e)))
            }
            return
        }
        // a propagation change right after a volume's bind is that volume's propagation
        if flags & MountBits.propagation != 0, flags & (MountBits.bind | MountBits.remount) == 0,
           let last = volumes.indices.last, Self.sameTarget(volumes[last], e), volumes[last].propagation == "inherited" {
            volumes[last].propagation = MountBits.propagationName(flags)
            if flags & MountBits.shared != 0 { sharedPropagation.append(index(of: e)) }
        }
        if flags & MountBits.remount != 0, flags & MountBits.readOnly != 0 { markReadOnly(e) }
    }

    private func markReadOnly(_ e: AnalysisEvent) {
        guard let i = volumes.lastIndex(where: { Self.sameTarget($0, e) }) else { return }
        volumes[i].readOnly = true
    }

    /// A later call on a volume's mount: the same target as named, or as resolved (runc
    /// reopens the target, under another fd number, to remount it read-only).
    static func sameTarget(_ v: ContainerStartup.Volume, _ e: AnalysisEvent) -> Bool {
        if let t = e.target, v.rawTarget == t || v.target == t { return true }
        if let r = e.resolvedTarget, v.target == r { return true }
        return false
    }

    /// A bind from the host that the user asked for: not the runtime's own (the rootfs, its
    /// fds, /dev/null for masked paths, cgroup directories) nor the engine's files for this
    /// container (resolv.conf, hosts, hostname, .containerenv, shm: their paths hold its id).
    static func isVolumeSource(_ src: String, containerID: String, rootfs: String?) -> Bool {
        guard src.hasPrefix("/") else { return false }
        if let rootfs, src.hasPrefix(rootfs), src.utf8.count == rootfs.utf8.count || src.utf8.dropFirst(rootfs.utf8.count).first == 0x2F {
            return false
        }
        if src.hasPrefix("/proc/") || src.hasPrefix("/dev/") || src.hasPrefix("/sys/") { return false }
        if StartupAnalyzer.contains(src, containerID) { return false }
        return true
    }

    private func countMount(_ e: AnalysisEvent) {
        guard !e.failed else { return }
        mountsByKind[MountBits.kind(e), default: 0] += 1
    }

    private func noteRuntimeWork(_ ts: UInt64) {
        if let invokedAt, ts >= invokedAt, firstWorkAfterInvoke == nil { firstWorkAfterInvoke = ts }
    }

    /// The index `record` is about to give the event (valid only if it is kept).
    private func index(of e: AnalysisEvent) -> Int { events.count }

    // MARK: spans

    private func record(_ e: AnalysisEvent, _ phase: StartupPhase?, createWork: Bool = false) {
        eventCount += 1
        var kept: Int?
        if events.count < maxEvents {
            kept = events.count
            events.append(e)
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
        // in place: the optional's payload is mutated without a copy of its process list
        spanSlots[slot]!.start = min(spanSlots[slot]!.start, e.tsNs)
        spanSlots[slot]!.end = max(spanSlots[slot]!.end, e.endNs)
        spanSlots[slot]!.count += 1
        if !spanSlots[slot]!.processes.contains(where: { $0.pid == e.pid && $0.comm == e.comm }) && spanSlots[slot]!.processes.count < 32 {
            spanSlots[slot]!.processes.append(ContainerStartup.Process(pid: e.pid, comm: e.comm))
        }
        if e.latencyNs >= spanSlots[slot]!.longest.latency { spanSlots[slot]!.longest = (e.latencyNs, kept) }
    }

    /// A builder for `container` with the kept events of `parts`, replayed in time order: one
    /// container seen under a cut id (a runtime's argv cut before its end) and its full id.
    static func merged(_ parts: [StartupBuilder], container: AnalysisEvent.Container, maxEvents: Int) -> StartupBuilder {
        let b = StartupBuilder(container: container, file: parts[0].file, maxEvents: maxEvents)
        var all: [(AnalysisEvent, Origin)] = []
        for p in parts { all += zip(p.events, p.origins).map { $0 } }
        all.sort { $0.0.tsNs < $1.0.tsNs }
        for (e, o) in all {
            var e = e
            if e.container != nil { e.container = container }
            switch o {
            case .own: b.add(e)
            case .engine(let phase): b.addEngine(e, phase)
            case .join: b.addJoin(e)
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
                                processes: pr.map { .init(pid: events[$0].pid, comm: events[$0].comm) },
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
            laterJoins: laterJoins, execSessions: execSessions, findings: [], events: events, eventPhases: eventPhases,
            eventCount: eventCount, eventsDropped: eventsDropped, lostEvents: lossy ? lostTotal : 0)
        result.findings = StartupFindings.find(result, sharedPropagation: sharedPropagation, lossy: lossy)
        return result
    }
}
