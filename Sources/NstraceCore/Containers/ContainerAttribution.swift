import NstraceABI
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where attribution looks cgroup paths up: the live cgroup tree (`CgroupResolver`), or the
/// paths a trace file recorded (`RecordedCgroupPaths`).
public protocol CgroupPathSource: AnyObject {
    func path(forID id: UInt64) -> String?
    func register(id: UInt64, path: String)
    /// Changes whenever a path may have become known; nil: a miss may turn into a path at
    /// any time (the live tree is rescanned on a miss), so a miss is never remembered.
    var pathsVersion: UInt64? { get }
}

extension CgroupPathSource {
    public var pathsVersion: UInt64? { nil }
}

extension CgroupResolver: CgroupPathSource {}

/// cgroup paths known from a trace file: its start snapshot and its cgroup_mkdir events.
public final class RecordedCgroupPaths: CgroupPathSource {
    private var paths: [UInt64: String]
    /// At most this many ids are kept (a trace file is untrusted input); later ones are
    /// dropped and counted.
    public var limit = Int.max
    public var dropped = 0
    public var count: Int { paths.count }
    /// Bumped by every path registered: a cgroup without a path stays without one until then.
    public private(set) var pathsVersion: UInt64? = 0
    public init(_ paths: [UInt64: String] = [:]) { self.paths = paths }
    public func path(forID id: UInt64) -> String? { paths[id] }
    public func register(id: UInt64, path: String) {
        if paths.count >= limit && paths[id] == nil { dropped += 1; return }
        paths[id] = path
        pathsVersion = (pathsVersion ?? 0) &+ 1
    }
}

/// One container as the event stream knows it, with its JSON object and its text column
/// encoded once, so that attributing an event costs a dictionary lookup, not a formatting.
public final class ContainerRecord {
    public private(set) var identity: ContainerIdentity
    public private(set) var image: String?
    /// `{"id":…,"runtime":…,…}` — the `container` value of the JSON output.
    public private(set) var json: [UInt8] = []
    /// The CONTAINER column of the text output: the name, else the id's first 12 characters.
    public private(set) var column: [UInt8] = []
    /// Counts the changes of `identity` and `image` (each re-encodes `json` and `column`):
    /// equal revisions of one record, equal values (so that a table holding a copy of them need
    /// not compare strings or buffers per event).
    private(set) var revision = 0

    init(_ identity: ContainerIdentity) {
        self.identity = identity
        encode()
    }

    public var id: String { identity.id }
    public var name: String? { identity.name }

    /// A more precise runtime than the cgroup layout could tell (runc vs containerd for
    /// `/<ns>/<id>`), or a name and image from the runtime's API.
    /// The runtime came from the runtime's own command line: no cgroup layout overrides it.
    private var runtimeConfirmed = false

    func refine(runtime: ContainerRuntime? = nil, confirmed: Bool = false, containerdNamespace: String? = nil,
                name: String? = nil, image: String? = nil) {
        var changed = false
        // A command line confirms runc or crun only over a cgroup layout's guess: a container
        // docker or podman made also runs runc, and the layout said so specifically.
        let generic = runtime == .runc || runtime == .crun
        if let runtime, runtime != identity.runtime, !runtimeConfirmed,
           ContainerAttribution.isGuess(identity.runtime) || (confirmed && !generic) {
            identity.runtime = runtime
            if runtime != .containerd && runtime != .docker { identity.containerdNamespace = nil }
            changed = true
        }
        if confirmed && !(generic && !ContainerAttribution.isGuess(identity.runtime)) { runtimeConfirmed = true }
        if let containerdNamespace, identity.containerdNamespace == nil {
            identity.containerdNamespace = containerdNamespace
            changed = true
        }
        if let name, !name.isEmpty, identity.name != name { identity.name = name; changed = true }
        if let image, !image.isEmpty, self.image != image { self.image = image; changed = true }
        if changed {
            revision += 1
            encode()
        }
    }

    private func encode() {
        var out = OutputBuffer(capacity: 256)
        out.append("{\"id\":")
        out.appendJSONString(identity.id)
        out.append(",\"runtime\":")
        out.appendJSONString(identity.runtime.rawValue)
        // each key written as it is: this runs once per container and per change of it
        func member(_ key: StaticString, _ value: String?) {
            out.append(key)
            if let value { out.appendJSONString(value) } else { out.append("null") }
        }
        member(",\"name\":", identity.name)
        member(",\"image\":", image)
        member(",\"pod\":", identity.podUID)
        member(",\"pod_namespace\":", nil)
        member(",\"namespace\":", identity.containerdNamespace)
        out.append(byte: 0x7D)
        json = out.bytes
        // docker-style 64-hex ids are known by their first 12; chosen ids (runc, ctr) in full
        let hexID = identity.id.utf8.count == 64 && identity.id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
        var label = identity.name ?? (hexID ? String(decoding: identity.id.utf8.prefix(12), as: UTF8.self) : identity.id)
        if label.isEmpty { label = "?" }
        var col = OutputBuffer(capacity: 64)
        col.appendTextEscaped(label)
        column = col.bytes
    }
}

/// Tells which container each event belongs to, combining three sources, each with holes:
///
/// 1. **cgroup**: the event's cgroup v2 id → path → `CgroupPathMatcher`. Catches every process
///    inside a container, also ones started before nstrace; misses the runtime's own work
///    before the container's process joins its cgroup.
/// 2. **runtime lineage**: the BPF side follows the process trees of runc, crun, the
///    containerd shims and conmon, and reports their execs with argv; the container id is in
///    that argv. Catches the very first namespace the runtime creates.
/// 3. **namespaces**: once a container is known, the namespaces its events show map to it, so a
///    host process entering them (nsenter, docker exec's setns) is a join *of that container*.
///    A namespace created anew takes its inode over, which guards against inode reuse.
///
/// Not thread-safe: the live loop owns it. Metadata found by other threads comes in through
/// `apply(metadata:)` between batches.
public final class ContainerAttribution {
    private let cgroups: (any CgroupPathSource)?
    /// nstrace's own namespace inodes by NST_NS_* slot (a trace file sets them from its snapshot).
    public var hostNamespaces: NamespaceSet {
        didSet { byNamespaceVersion &+= 1 } // what is a container's namespace changed
    }
    private var byID: [String: ContainerRecord] = [:]
    /// Changed only through `setCgroup`, which counts every change in `byCgroupVersion`.
    private var byCgroup: [UInt64: ContainerRecord?] = [:]
    private var byCgroupVersion: UInt64 = 0
    /// The last id `fromCgroup` found in `byCgroup`, its record, and `byCgroupVersion` then
    /// (valid while `lastCgroupHitVersion` is current): a process's events come in runs, and one
    /// hash lookup per event is most of what they cost here.
    private var lastCgroupHitID: UInt64 = 0
    private var lastCgroupHitRecord: ContainerRecord?
    private var lastCgroupHitVersion: UInt64 = .max

    private func setCgroup(_ id: UInt64, _ record: ContainerRecord??) {
        byCgroup[id] = record
        byCgroupVersion &+= 1
    }
    /// The last cgroup id found without a path, and the source's `pathsVersion` then: a miss is
    /// not kept in `byCgroup` (its path may come later), but host processes' events come in
    /// long runs from one cgroup, each asking again. Valid while the version is unchanged and
    /// `byCgroup` has no entry for the id (`register` clears it when it adds one).
    private var lastCgroupMiss: (id: UInt64, version: UInt64)?
    private var byLineage: [UInt32: ContainerRecord?] = [:]
    /// Changed only through `setOwner`, which counts every change in `byNamespaceVersion`
    /// (as does a change of `hostNamespaces`).
    private var byNamespace: [UInt32: ContainerRecord] = [:]
    private var byNamespaceVersion: UInt64 = 0
    /// The namespaces of the last event whose `learnNamespaces` walk left every one of them
    /// owned, and `byNamespaceVersion` then: a container's events come in runs with the same
    /// namespaces, and while nothing changed a second walk would find nothing to learn.
    private var namespacesAllOwned: (inodes: EventInodes, version: UInt64)?

    private func setOwner(_ inode: UInt32, _ record: ContainerRecord?) {
        byNamespace[inode] = record
        byNamespaceVersion &+= 1
    }
    /// The engines' work, tied by evidence (EngineEvidence.swift).
    public let engine = EngineEvidence()
    /// A recording's look-back (set before its second pass; never live): what the whole file
    /// shows about namespaces and engine state.
    public var hindsight: Hindsight? {
        didSet { engine.hindsight = hindsight?.evidence }
    }
    /// Each namespace inode's owners in turn, with when each was first tied (for a look-back:
    /// nsfs inodes are reused once a namespace is gone).
    private var namespaceHistory: [UInt32: [(ContainerIdentity, UInt64)]] = [:]

    private func noteOwner(_ inode: UInt32, _ record: ContainerRecord, _ ts: UInt64) {
        if namespaceHistory[inode]?.last?.0.id == record.id { return }
        if namespaceHistory.count >= 65536 { namespaceHistory.removeAll(keepingCapacity: true) }
        namespaceHistory[inode, default: []].append((record.identity, ts))
    }
    /// Called once per container when it is first seen (e.g. to look its name up elsewhere).
    public var onNewContainer: ((ContainerIdentity) -> Void)?
    /// Live only: a second look at a runtime the cgroup layout guessed (runc's and crun's state
    /// directories tell them from containerd); not for a trace read elsewhere.
    public var refineGuess: ((ContainerIdentity) -> ContainerIdentity)?

    /// - Parameter hostNamespaces: nstrace's own namespace inodes, by NST_NS_* slot: what
    ///   "the host" is (reading /proc/1/ns needs more than root in some sandboxes).
    public init(cgroups: (any CgroupPathSource)?, hostNamespaces: NamespaceSet) {
        self.cgroups = cgroups
        self.hostNamespaces = hostNamespaces
    }

    public var containers: [ContainerRecord] { Array(byID.values) }

    /// Where cgroup paths come from (the live tree, or a trace file's records).
    public var cgroupPaths: (any CgroupPathSource)? { cgroups }

    public func record(id: String) -> ContainerRecord? { byID[id] }

    /// A container found before tracing (by scanning /proc): its namespaces and cgroup are known.
    @discardableResult
    public func register(_ identity: ContainerIdentity, namespaces: NamespaceSet = NamespaceSet(), cgroupID: UInt64? = nil) -> ContainerRecord {
        let record = recordFor(identity)
        for slot in 0..<NamespaceSlot.count where isContainerNamespace(slot: slot, inode: namespaces[slot]) {
            setOwner(namespaces[slot], record)
        }
        if let cgroupID {
            setCgroup(cgroupID, .some(record))
            if lastCgroupMiss?.id == cgroupID { lastCgroupMiss = nil }
        }
        return record
    }

    /// Name and image from a runtime's API, applied on the live thread.
    public func apply(id: String, name: String?, image: String?) {
        byID[id]?.refine(name: name, image: image)
    }

    /// Learns from one event and tells its container (nil: the host, or unknown) and, for a
    /// setns, the container whose namespace it entered.
    public func attribute(_ ev: EventView) -> Attribution {
        switch ev.type {
        case .cgroupMkdir:
            if let cgroups, !ev.isTruncated(slot: 0) {
                cgroups.register(id: ev.cgroupMkdir.id, path: String(decoding: ev.string(0), as: UTF8.self))
            }
            setCgroup(ev.cgroupMkdir.id, nil) // resolve afresh: an id can be reused
            return Attribution(container: nil)
        case .exec:
            var record = learnExec(ev)
            var reason: AttributionReason? = record == nil ? nil
                : (!ev.exec.isRuntime && (byCgroup[ev.cgroupId] ?? nil) != nil ? .cgroup : .lineage)
            engine.learn(ev, record, reason: reason)
            // a helper whose argv names the container (docker's libnetwork-setkey hook)
            if record == nil, let (identity, _) = engine.attribute(ev, namespaceOwner: { _ in nil }) {
                (record, reason) = (recordFor(identity), .engine)
            }
            return Attribution(container: record, reason: reason, actor: record.map { _ in actor(ev, reason) })
        default:
            break
        }
        var reason: AttributionReason?
        var record: ContainerRecord?
        var byEngine = false
        if let r = fromCgroup(ev.cgroupId) {
            (record, reason) = (r, .cgroup)
        } else if let r = fromLineage(ev.lineage) {
            (record, reason) = (r, .lineage)
        } else if let r = fromNamespaces(ev) {
            (record, reason) = (r, .namespace)
        } else if let (identity, later) = engine.attribute(ev, namespaceOwner: { byNamespace[$0]?.identity }) {
            (record, reason) = (recordFor(identity), later ? .later : (ev.type == .setns ? .namespace : .engine))
            byEngine = true
        } else if let identity = hindsight?.owner(of: ev, hostNamespaces: hostNamespaces) {
            (record, reason) = (recordFor(identity), .later)
        }
        learnNamespaces(ev, record)
        engine.learn(ev, record, reason: reason)
        // only a container's own process (not an engine tied by evidence) makes a namespace it joins its own
        let own = reason == .cgroup || reason == .lineage || reason == .namespace ? record : nil
        return Attribution(container: record, target: ev.type == .setns ? target(ev, caller: own) : nil,
                           reason: reason, actor: record.map { _ in actor(ev, reason, byEngine: byEngine) })
    }

    /// Who made a call tied by `reason`: an engine by its comm or by engine evidence, a
    /// runtime by its lineage, else the container.
    private func actor(_ ev: EventView, _ reason: AttributionReason?, byEngine: Bool = false) -> Actor {
        if Actor.isEngine(ev) { return .engine }
        if ev.lineage != 0 || (ev.type == .exec && ev.exec.isRuntime) { return .runtime }
        if byEngine || reason == .engine || reason == .later { return .engine }
        return .container
    }

    /// What this attribution knows, for a second pass over the same recording.
    public func hindsightSnapshot() -> Hindsight {
        Hindsight(namespaces: namespaceHistory, evidence: engine.learned)
    }

    /// setns: the container whose namespace the call entered (nil: the host's, or unknown);
    /// `caller` is the container of the process that called it.
    private func target(_ ev: EventView, caller: ContainerRecord?) -> ContainerRecord? {
        let call = ev.setns
        if call.targetInode != 0, let r = byNamespace[call.targetInode] {
            return r
        }
        // A container's own process joining a namespace nobody is known to own: the runtime
        // setting the container up in a namespace its engine made beforehand (podman, dockerd).
        if call.targetInode != 0, !ev.failed, let own = caller,
           isContainerNamespace(slot: slotOf(cloneFlag: call.targetType), inode: call.targetInode) {
            setOwner(call.targetInode, own)
            noteOwner(call.targetInode, own, ev.tsNs)
            return own
        }
        // a pidfd, or an fd we could not read: the namespaces the caller has afterwards
        for slot in 0..<Int(NST_NS_SLOTS) where ev.ns(slot) != ev.nsBefore(slot) || call.viaPidfd {
            if isContainerNamespace(slot: slot, inode: ev.ns(slot)), let r = byNamespace[ev.ns(slot)] { return r }
        }
        return nil
    }

    // MARK: sources

    private func fromCgroup(_ id: UInt64) -> ContainerRecord? {
        if let miss = lastCgroupMiss, miss.id == id, cgroups?.pathsVersion == miss.version { return nil }
        if lastCgroupHitID == id, lastCgroupHitVersion == byCgroupVersion { return lastCgroupHitRecord }
        if let known = byCgroup[id] {
            (lastCgroupHitID, lastCgroupHitRecord, lastCgroupHitVersion) = (id, known, byCgroupVersion)
            return known
        }
        guard let cgroups else { return nil }
        guard let path = cgroups.path(forID: id) else {
            // unknown yet: asked again once a path may have become known
            lastCgroupMiss = cgroups.pathsVersion.map { (id, $0) }
            return nil
        }
        var identity = CgroupPathMatcher.identify(cgroupPath: path)
        if let guess = identity, Self.isGuess(guess.runtime), byID[guess.id] == nil, let refineGuess {
            identity = refineGuess(guess)
        }
        let record = identity.map(recordFor)
        setCgroup(id, .some(record))
        return record
    }

    private func fromLineage(_ root: UInt32) -> ContainerRecord? {
        guard root != 0, let known = byLineage[root] else { return nil }
        return known
    }

    /// A process inside a container's mount or pid namespace is in the container (docker exec,
    /// nsenter -a); sharing only its network (`nsenter -n`, dockerd configuring it) is not.
    /// unshare, setns and clone count where the caller was *before* the call: entering is a
    /// join, not membership, and what a call creates is not yet anybody's.
    private func fromNamespaces(_ ev: EventView) -> ContainerRecord? {
        // two calls, not a loop over an array literal: this runs for every event
        if let r = inContainerNamespace(ev, slot: Int(NST_NS_MNT)) { return r }
        return inContainerNamespace(ev, slot: Int(NST_NS_PID))
    }

    private func inContainerNamespace(_ ev: EventView, slot: Int) -> ContainerRecord? {
        let inode = ev.hasNsBefore ? ev.nsBefore(slot) : ev.ns(slot)
        guard isContainerNamespace(slot: slot, inode: inode) else { return nil }
        return byNamespace[inode]
    }

    /// Namespaces a container event shows belong to that container; a namespace created by
    /// this very event is new, whatever its inode meant before.
    private func learnNamespaces(_ ev: EventView, _ record: ContainerRecord?) {
        guard ev.type != .setns else { return } // what a join entered is the target's, not the caller's
        let creates = ev.type == .unshare || ev.type == .clone || ev.type == .clone3
        // an event of no container forgets only what it created (host noise stops here)
        guard record != nil || creates else { return }
        // the same namespaces as the last walk, all owned then, and nothing changed since
        let inodes = EventInodes(ev)
        if !creates, let known = namespacesAllOwned, known.version == byNamespaceVersion, known.inodes == inodes { return }
        for slot in 0..<Int(NST_NS_SLOTS) {
            let inode = ev.ns(slot)
            guard isContainerNamespace(slot: slot, inode: inode) else { continue }
            let created = creates && ev.hasNsBefore && ev.nsBefore(slot) != inode
            if let record {
                if created || byNamespace[inode] == nil {
                    setOwner(inode, record)
                    noteOwner(inode, record, ev.tsNs)
                }
            } else if created {
                setOwner(inode, nil)
            }
        }
        // every container namespace of the event has an owner now (an event of no container
        // that created one left it without)
        namespacesAllOwned = record != nil ? (inodes, byNamespaceVersion) : nil
    }

    private func learnExec(_ ev: EventView) -> ContainerRecord? {
        let tgid = ev.pid
        let before = ev.exec.lineageBefore
        let inherited = before != 0 ? (byLineage[before] ?? nil) : nil
        guard ev.exec.isRuntime else {
            // the container's own program: attributed to the lineage that started it
            return fromCgroup(ev.cgroupId) ?? inherited
        }
        // a cut argv names no container (never a prefix of its id): the lineage that started
        // this runtime (the shim's `-id`) does (read from the record's bytes: no String is
        // made of an argument the id is not)
        let parsed = RuntimeCommandLine.identify(exec: ev)
        let record = parsed.map { recordFor($0, confirmed: true) } ?? inherited
        byLineage[tgid] = .some(record)
        return record
    }

    private func recordFor(_ identity: ContainerIdentity) -> ContainerRecord {
        recordFor(identity, confirmed: false)
    }

    private func recordFor(_ identity: ContainerIdentity, confirmed: Bool) -> ContainerRecord {
        if let existing = byID[identity.id] {
            existing.refine(runtime: identity.runtime, confirmed: confirmed,
                            containerdNamespace: identity.containerdNamespace, name: identity.name)
            return existing
        }
        let record = ContainerRecord(identity)
        if confirmed { record.refine(confirmed: true) }
        byID[identity.id] = record
        onNewContainer?(identity)
        return record
    }

    private func slotOf(cloneFlag: UInt64) -> Int {
        NamespaceType(cloneFlag: cloneFlag).map { $0.slots[0] } ?? -1
    }

    private func isContainerNamespace(slot: Int, inode: UInt32) -> Bool {
        guard slot >= 0 else { return false }
        // an unknown host slot (0) makes no namespace a container's: "the host" is unknown
        guard inode != 0 else { return false }
        let host = hostNamespaces[slot]
        return host != 0 && host != inode
    }

    /// Runtimes the cgroup layout only guesses (`/<id>` is runc or crun, `/<ns>/<id>` containerd or
    /// a runc with that cgroupsPath): the runtime's own command line knows better.
    static func isGuess(_ runtime: ContainerRuntime) -> Bool {
        runtime == .runc || runtime == .containerd
    }
}

/// An event's namespace inodes after the call, copied from the record in one go and compared
/// as words (`NamespaceSet`'s == goes lane by lane through SIMD's generic code).
struct EventInodes: Equatable {
    private var words = SIMD16<UInt32>()

    init(_ ev: EventView) {
        let size = 4 * NamespaceSlot.count
        withUnsafeMutableBytes(of: &words) {
            $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: ev.bytes[EventLayout.ns ..< EventLayout.ns + size]))
        }
    }

    static func == (a: EventInodes, b: EventInodes) -> Bool {
        withUnsafeBytes(of: a.words) { x in withUnsafeBytes(of: b.words) { y in memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 } }
    }
}

/// What attribution tells of one event.
public struct Attribution {
    /// The container the event belongs to; nil: the host, or unknown.
    public var container: ContainerRecord?
    /// setns only: the container whose namespace the call entered; nil: the host's, or unknown.
    public var target: ContainerRecord?
    /// How the event was tied to `container` (nil when it is nil).
    public var reason: AttributionReason?
    /// Who made the call (nil when `container` is nil).
    public var actor: Actor?

    public init(container: ContainerRecord?, target: ContainerRecord? = nil, reason: AttributionReason? = nil, actor: Actor? = nil) {
        self.container = container
        self.target = target
        self.reason = reason
        self.actor = actor
    }
}

extension EventView {
    /// The tgid of the container-runtime process whose tree the task was in (0: none).
    /// (One field read from the record, not a copy of the whole header: it is read per event.)
    @inlinable public var lineage: UInt32 { field(EventLayout.lineage) }
}
