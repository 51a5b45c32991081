/// Turns a stream of events into one `ContainerStartup` per container start, in one pass.
/// Memory grows with the number of containers (each keeps at most `maxEventsPerContainer`
/// events) and a bounded buffer of recent engine events, not with the number of events.
///
/// Engine-side events (dockerd's overlay mounts, podman's netns, CNI plugins) come from host
/// processes that attribution may not tie to a container. They wait in `pending` until a
/// container claims them: by its id in a path, by its rootfs (the overlay's layer directory),
/// by a network namespace it joins, or by `/proc/PID/ns/net` of one of its processes.
public final class StartupAnalyzer {
    public static let maxEventsPerContainer = 2000
    /// Engine events waiting to be claimed (oldest dropped first), and how long they wait.
    static let pendingLimit = 1024
    static let pendingWindowNs: UInt64 = 30_000_000_000

    private var builders: [String: StartupBuilder] = [:]
    private var order: [String] = []
    private var known: [String: AnalysisEvent.Container] = [:]
    /// Engine events waiting, stored (their bytes in `pendingArena`, rewritten when they are).
    private var pending: [StoredEvent] = []
    private var pendingArena = EventArena()
    private var netnsOwner: [UInt32: StartupBuilder] = [:]
    private var pidOwner: [UInt32: StartupBuilder] = [:]
    /// The builder of the previous container event (most come in runs of one container).
    private var lastBuilder: StartupBuilder?
    /// The container record of the previous own-builder lookup, its revision (counting the
    /// changes of its identity, name or image) and its builder: a run of one
    /// container's events finds its builder by the record's identity, without making,
    /// comparing and releasing the container's value with its Strings per event (issue 9).
    private var lastRecord: ContainerRecord?
    private var lastRecordRevision = 0
    private var lastRecordBuilder: StartupBuilder?
    /// Live use: containers let go by `releaseFinished` (bounded), whose later events are not a start.
    private var released: Set<String> = []
    static let releasedLimit = 16384

    private var file = 0
    /// The latest timestamp of each file other than the current one, whose own is
    /// `currentLastTs` (kept apart: a dictionary write per event cost a hash).
    private var lastTs: [Int: UInt64] = [:]
    private var currentLastTs: UInt64 = 0
    private var lossMark: [Int: UInt64] = [:]
    private var lostTotal: [Int: UInt64] = [:]
    private var lossWindows: [Int: [(UInt64, UInt64)]] = [:]
    private var cutFiles: Set<Int> = []
    private var fileNames: [String] = []
    public private(set) var eventsRead: UInt64 = 0

    public init() {}

    /// Events that follow belong to this file (several files are read one after another).
    public func beginFile(_ name: String) {
        lastTs[file] = currentLastTs
        currentLastTs = 0
        fileNames.append(name)
        file = fileNames.count - 1
    }

    /// Events that follow belong to file `index` (a `beginFile` before): several files' events
    /// merged by time come in turns.
    public func switchTo(file index: Int) {
        guard index != file else { return }
        lastTs[file] = currentLastTs
        file = index
        currentLastTs = lastTs[index] ?? 0
    }

    /// A container the trace knows, whether or not its start is in it.
    public func noteKnown(_ c: AnalysisEvent.Container) {
        if let old = known[c.id] {
            known[c.id] = .init(id: c.id, name: c.name ?? old.name, image: c.image ?? old.image, runtime: c.runtime)
        } else {
            known[c.id] = c
        }
    }

    /// A network namespace some container start made or joined (a host process entering it is
    /// configuring that container's network).
    public func ownsNetns(_ inode: UInt32) -> Bool { inode != 0 && netnsOwner[inode] != nil }

    /// Counts an event the adapter did not need to build (host noise).
    public func skip(tsNs: UInt64) { eventsRead &+= 1 }

    /// Counts `count` such events at once.
    public func skip(count: UInt64) { eventsRead &+= count }

    /// An event made by hand (tests): stored, then consumed.
    public func consume(_ e: AnalysisEvent) {
        var arena = EventArena()
        let stored = StoredEvent(e, into: &arena)
        consume(stored, arena, container: e.container, joined: e.joined)
    }

    /// The builder of container `r`'s start, for its event to be stored straight into the
    /// builder's arena (`consumeStored`); `values` makes the container's value, only when `r`
    /// is not the previous call's record. Nil in live use once a container was released (its
    /// later events may be dropped: `consume` decides).
    func ownBuilder(_ r: ContainerRecord, values: AnalysisEventAdapter) -> StartupBuilder? {
        guard released.isEmpty else { return nil }
        if let b = lastRecordBuilder, lastRecord === r, lastRecordRevision == r.revision { return b }
        // what `consume` does for a container's value: the value refreshed in the builder and known
        let c = values.container(r)
        let b = builder(for: c)
        if b.container != c { noteKnown(c) }
        b.refresh(c)
        lastRecord = r
        lastRecordRevision = r.revision
        lastRecordBuilder = b
        return b
    }

    /// An event of `b`'s container (`ownBuilder`), stored into `b.arena` from byte `mark` on.
    func consumeStored(_ e: StoredEvent, into b: StartupBuilder, from mark: Int) {
        eventsRead &+= 1
        if e.tsNs > currentLastTs { currentLastTs = e.tsNs }
        b.addStored(e, from: mark)
        claim(for: b)
    }

    /// One event in stored form, its bytes in `a` (the caller's: what is kept is copied),
    /// attributed to `container` (nil: not to one); `joined`: the container a setns entered.
    func consume(_ e: StoredEvent, _ a: EventArena, container: AnalysisEvent.Container?, joined: AnalysisEvent.Container?) {
        eventsRead &+= 1
        if e.tsNs > currentLastTs { currentLastTs = e.tsNs }
        if !released.isEmpty, let c = container, released.contains(c.id) {
            // a process of a released container exec'ing is no new start; its runtime invoked anew is
            guard e.kind == .exec, e.isRuntime, let s = RuntimeInvocation(argv: a.arguments(e), filename: a.string(e.filename))?.subcommand,
                  s == "create" || s == "run" else { return }
            released.remove(c.id)
        }
        if let c = container {
            let b = builder(for: c)
            if b.container != c { noteKnown(c) }
            b.add(e, a, container: c)
            claim(for: b)
            return
        }
        if let j = joined, let b = builders[j.id] {
            b.addJoin(e, a)
            return
        }
        if e.kind == .setns, let n = a.namespace(e, .net), let b = netnsOwner[n] {
            b.addJoin(e, a)
            return
        }
        if e.kind == .mount, let src = a.string(e.source), let pid = Self.netnsPid(src), let b = pidOwner[pid] {
            b.addEngine(e, a, .network)
            claim(for: b)
            return
        }
        pending.append(e.copied(from: a, into: &pendingArena))
        if pending.count > Self.pendingLimit * 2 || (pending.first.map { e.tsNs > $0.tsNs + Self.pendingWindowNs } ?? false) {
            let cutoff = e.tsNs > Self.pendingWindowNs ? e.tsNs - Self.pendingWindowNs : 0
            var rest = pending.filter { $0.tsNs >= cutoff }
            if rest.count > Self.pendingLimit { rest.removeFirst(rest.count - Self.pendingLimit) }
            keepPending(rest)
        }
    }

    /// Makes `rest` (events of `pending`) the pending events, their bytes copied into a new
    /// arena: the bytes of those dropped or claimed go with the old one.
    private func keepPending(_ rest: [StoredEvent]) {
        var arena = EventArena(capacity: pendingArena.count)
        pending = rest.map { $0.copied(from: pendingArena, into: &arena) }
        pendingArena = arena
    }

    /// By name (else id), then id: one container known by a cut id and by its full id has
    /// the same name twice, and a tie left to the dictionary's order changed from run to run.
    /// Compared as `StringSortKeys` (each container's key and id at 2i and 2i + 1): by their
    /// bytes, not as Strings retained and released in each comparison.
    static func sortedKnown(_ known: some Sequence<AnalysisEvent.Container>) -> [AnalysisEvent.Container] {
        let all = Array(known)
        var strings: [String] = []
        strings.reserveCapacity(2 * all.count)
        for c in all {
            strings.append(c.name ?? c.id)
            strings.append(c.id)
        }
        var order = Array(all.indices)
        StringSortKeys(strings).withComparison { compare in
            order.sort { a, b in
                let byKey = compare(2 * a, 2 * b)
                return byKey != 0 ? byKey < 0 : compare(2 * a + 1, 2 * b + 1) < 0
            }
        }
        return order.map { all[$0] }
    }

    /// The file's lost-event count so far (a `lost` metadata record), read after the events
    /// before it: the losses happened since the previous record, up to about a second later.
    public func noteLost(total: UInt64) {
        let previous = lostTotal[file] ?? 0
        let now = currentLastTs
        if total > previous {
            lossWindows[file, default: []].append((lossMark[file] ?? 0, now &+ 1_000_000_000))
            lostTotal[file] = total
        }
        lossMark[file] = now
    }

    /// The end of the current file: its trailer's lost total when it has one, or cut.
    public func endFile(trailerLost: UInt64?, cut: Bool) {
        if let trailerLost { noteLostAtEnd(trailerLost) }
        if cut { cutFiles.insert(file) }
    }

    private func noteLostAtEnd(_ total: UInt64) {
        if total > (lostTotal[file] ?? 0) {
            lossWindows[file, default: []].append((lossMark[file] ?? 0, .max))
            lostTotal[file] = total
        }
    }

    public func finish() -> StartupAnalysis {
        lastBuilder = nil
        lastRecordBuilder = nil
        mergeCutIDs()
        var startups: [ContainerStartup] = []
        for id in order {
            guard let b = builders[id], b.hasStart else { continue }
            // a name or image the file told after the container's first events (read in one pass)
            if let k = known[id] { b.refresh(.init(id: k.id, name: k.name, image: k.image, runtime: b.container.runtime)) }
            startups.append(b.finish(lossWindows: lossWindows[b.file] ?? [], lostTotal: lostTotal[b.file] ?? 0,
                                     traceCut: cutFiles.contains(b.file)))
        }
        startups.sort { $0.startNs < $1.startNs }
        let lost = lostTotal.values.reduce(0, &+)
        return StartupAnalysis(files: fileNames, startups: startups,
                               knownContainers: Self.sortedKnown(known.values),
                               eventsRead: eventsRead, lostEvents: lost,
                               cutFiles: cutFiles.sorted().map { fileNames[$0] })
    }

    /// Live use (`nstrace live --metrics`, a long-running agent): the starts whose entrypoint
    /// has run, finished and forgotten, and the containers whose first event is older than
    /// `staleBeforeNs` without a finished start (running before, or cut) forgotten unreported,
    /// so memory stays bounded by the starts in progress. The ids let go are remembered (up to
    /// `releasedLimit`): their later events are ignored until their runtime's next create/run.
    public func releaseFinished(staleBeforeNs: UInt64) -> [ContainerStartup] {
        var done: [ContainerStartup] = []
        var gone: Set<ObjectIdentifier> = []
        for id in order {
            guard let b = builders[id] else { continue }
            guard b.finished || (b.events.first?.tsNs ?? 0) < staleBeforeNs else { continue }
            if b.finished && b.hasStart {
                done.append(b.finish(lossWindows: lossWindows[b.file] ?? [], lostTotal: lostTotal[b.file] ?? 0, traceCut: false))
            }
            builders[id] = nil
            known[id] = nil
            gone.insert(ObjectIdentifier(b))
            if released.count >= Self.releasedLimit { released.removeAll(keepingCapacity: true) }
            released.insert(id)
        }
        guard !gone.isEmpty else { return done }
        order.removeAll { builders[$0] == nil }
        netnsOwner = netnsOwner.filter { !gone.contains(ObjectIdentifier($0.value)) }
        pidOwner = pidOwner.filter { !gone.contains(ObjectIdentifier($0.value)) }
        if let last = lastBuilder, gone.contains(ObjectIdentifier(last)) { lastBuilder = nil }
        lastRecordBuilder = nil
        // losses older than every start still in progress can no longer touch one
        let oldest = order.compactMap { builders[$0]?.events.first?.tsNs }.min() ?? .max
        for (f, windows) in lossWindows { lossWindows[f] = windows.filter { $0.1 >= oldest } }
        return done
    }

    /// A runtime whose argv was cut at 511 bytes names the container by a cut id; its cgroup
    /// then names it in full. A cut id that is the prefix of exactly one full (64-hex) id is
    /// that container: its events are replayed into one builder. Others stay as they are.
    private func mergeCutIDs() {
        let full = order.filter { $0.utf8.count == 64 }
        for id in order where id.utf8.count < 64 && id.utf8.count >= 12 {
            let owners = full.filter { $0.hasPrefix(id) }
            guard owners.count == 1, let whole = builders[owners[0]], let cut = builders[id] else { continue }
            builders[owners[0]] = StartupBuilder.merged([whole, cut], container: whole.container, maxEvents: Self.maxEventsPerContainer)
            builders[id] = nil
            known[id] = nil
        }
        order.removeAll { builders[$0] == nil }
    }

    // MARK: claiming engine events

    private func builder(for c: AnalysisEvent.Container) -> StartupBuilder {
        // (a builder's id never changes; builders are replaced only by `finish`)
        if let b = lastBuilder, b.container.id == c.id { return b }
        if let b = builders[c.id] { lastBuilder = b; return b }
        let b = StartupBuilder(container: c, file: file, maxEvents: Self.maxEventsPerContainer)
        builders[c.id] = b
        noteKnown(c)
        order.append(c.id)
        lastBuilder = b
        return b
    }

    private func claim(for b: StartupBuilder) {
        if b.pids.count != b.claimedPidCount {
            b.claimedPidCount = b.pids.count
            for pid in b.pids where pidOwner[pid] !== b { pidOwner[pid] = b }
        }
        if b.netns.count != b.claimedNetnsCount {
            b.claimedNetnsCount = b.netns.count
            for n in b.netns { netnsOwner[n] = b }
            claimPending(for: b, as: .network) { e, a in
                var mine = false
                a.forEachNamespace(e) { type, inode in if type == .net && b.netns.contains(inode) { mine = true } }
                return mine
            }
            // the engine pinning that netns: a bind of /proc/PID[/task/TID]/ns/net by the same process
            let pinners = Set(b.events.filter { !$0.attributed && $0.kind == .unshare }.map(\.pid))
            if !pinners.isEmpty {
                claimPending(for: b, as: .network) { e, a in
                    e.kind == .mount && pinners.contains(e.pid) && a.hasSuffix(e.source, "/ns/net")
                }
            }
        }
        if !b.claimedByID, b.invokedAt != nil {
            b.claimedByID = true
            let id = b.container.id
            claimPending(for: b, as: .enginePreparation) { e, a in
                a.withBytes(e.target) { UTF8Search.contains($0, id) && !e.target.isAbsent }
                    || a.withBytes(e.source) { UTF8Search.contains($0, id) && !e.source.isAbsent }
            }
        }
        if !b.claimedRootfs, let rootfs = b.rootfs {
            b.claimedRootfs = true
            var layer = rootfs
            if layer.hasSuffix("/merged") { layer.removeLast("/merged".count) }
            guard layer.count > 1 else { return }
            claimPending(for: b, as: .enginePreparation) { e, a in
                for p in [a.string(e.target), a.string(e.source)] {
                    guard let p else { continue }
                    if p == rootfs || p.hasPrefix(layer + "/") || p.hasPrefix(layer + "-init/") { return true }
                }
                return false
            }
        }
    }

    private func claimPending(for b: StartupBuilder, as phase: StartupPhase, where match: (StoredEvent, EventArena) -> Bool) {
        guard !pending.isEmpty else { return }
        var rest: [StoredEvent] = []
        var claimed: [StoredEvent] = []
        for e in pending {
            if match(e, pendingArena) { claimed.append(e) } else { rest.append(e) }
        }
        guard !claimed.isEmpty else { return }
        let arena = pendingArena
        keepPending(rest)
        for e in claimed { b.addEngine(e, arena, phase) }
        claim(for: b)
    }

    /// Substring search on the UTF-8 bytes: no Foundation, no Character work.
    static func contains(_ haystack: String, _ needle: String) -> Bool { haystack.utf8Contains(needle) }

    /// `/proc/PID/ns/net` or `/proc/PID/task/TID/ns/net` → PID.
    static func netnsPid(_ path: String) -> UInt32? {
        guard path.hasPrefix("/proc/"), path.hasSuffix("/ns/net") else { return nil }
        let rest = path.dropFirst(6)
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        return UInt32(rest[..<slash])
    }
}
