#if canImport(Glibc)
import Glibc
#endif

/// The engines' own work for a container, tied to it by evidence, never by timing:
///
/// - paths that name the container: containerd's task directory
///   `/run/containerd/io.containerd.runtime.v2.task/<ns>/<id>/…`, docker's
///   `/var/lib/docker/containers/<id>/…` and `/var/run/docker/runtime-runc/moby/<id>/…`, podman's
///   `…/overlay-containers/<id>/…`;
/// - docker's overlay mount ids (`/var/lib/docker/overlay2/<mount-id>[-init]/merged`): from its
///   layerdb (`image/overlay2/layerdb/mounts/<id>/mount-id`, `init-id`; live only), or from the
///   runtime's bind of that root filesystem (a recording also looks back);
/// - network namespace files: `libnetwork-setkey <id> <sandbox>` names docker's
///   `/var/run/docker/netns/<sandbox[:12]>`; a bind of `/proc/<pid>/ns/net` whose pid is one of
///   the container's processes names the target;
/// - the processes of a helper whose argv names the container (docker's setkey hook);
/// - an engine thread that entered one of the container's namespaces with setns, until it
///   leaves it again.
///
/// An id must be whole: a cut path (NST_F_STRn_TRUNC) or an id of the wrong form gives nothing.
/// Missing, unreadable or hostile engine state gives nothing, without waiting (O_NONBLOCK,
/// O_NOFOLLOW, bounded reads). Tables are bounded: past `limit` entries they start afresh.
public final class EngineEvidence {
    /// What was learned, with the boot time it was first seen (a recording's look-back uses
    /// it to tell "known later").
    public struct Learned: Sendable {
        public var overlayMounts: [String: (ContainerIdentity, UInt64)] = [:]
        public var netnsFiles: [String: (ContainerIdentity, UInt64)] = [:]
        public var podmanLayers: [String: (ContainerIdentity, UInt64)] = [:]
        public init() {}
    }

    public private(set) var learned = Learned()
    /// Looked up in a recording for what only later events show (never live).
    public var hindsight: Learned?
    /// The container's processes (tgid), to read `/proc/<pid>/ns/net` sources.
    private var processes: [UInt32: ContainerIdentity] = [:]
    /// The last entry `learn` put in `processes` (only it writes there), as its record and the
    /// record's revision: a process's events come in runs, and one already remembered needs no
    /// hashing (nor a copy of its identity) again. Compared by ObjectIdentifier (no retain per
    /// event); `lastRecord` keeps that object alive, so its identifier is not reused.
    private var lastPID: UInt32 = 0
    private var lastRecordID: ObjectIdentifier?
    private var lastRevision = 0
    private var lastRecord: ContainerRecord?
    /// Helper processes whose argv named the container (their events are the engine's).
    private var helpers: [UInt32: (ContainerIdentity, UInt64)] = [:]
    /// Engine threads inside a container's namespace: the namespace (slot, inode) they entered.
    private var threadsInside: [UInt32: (ContainerIdentity, slot: Int, inode: UInt32)] = [:]
    /// Per-command engine processes (`podman run`) by the one container their paths named so
    /// far (nil: they named two, so none is theirs alone).
    private var commandOwner: [UInt32: ContainerIdentity?] = [:]
    /// Processes seen with an engine's comm (dockerd, containerd, podman): their re-executed
    /// children (`exe`) entering a container's namespace work for the engine.
    private var enginePids: Set<UInt32> = []
    /// How long a helper's pid stays its own (the hook runs for milliseconds; pids are reused).
    static let helperLifetimeNs: UInt64 = 10_000_000_000
    /// Live only: docker's layerdb, for overlay mounts made before any runtime event.
    public var dockerLayerDB: DockerLayerDB?
    static let limit = 65536

    public init() {}

    // MARK: learning

    /// Learns from an event whose container is known (`record`), or from evidence it carries.
    func learn(_ ev: EventView, _ record: ContainerRecord?, reason: AttributionReason?) {
        if let record, reason != .engine || ev.type == .exec {
            if lastPID != ev.pid || lastRecordID != ObjectIdentifier(record) || lastRevision != record.revision {
                remember(&processes, ev.pid, record.identity)
                (lastPID, lastRecordID, lastRevision, lastRecord) = (ev.pid, ObjectIdentifier(record), record.revision, record)
            }
        }
        switch ev.type {
        case .exec:
            learnSetkey(ev)
        case .mount where !ev.failed:
            guard let record else { return } // its identity copied only where it is kept
            // the runtime binding the root filesystem the engine mounted: overlay ids
            for slot in 0..<2 where !ev.isTruncated(slot: slot) && UTF8Search.hasPrefix(ev.string(slot), "/var/lib/") {
                let path = Array(ev.string(slot))
                if let mid = Self.component(after: Self.dockerOverlayPrefix, in: path) {
                    remember(&learned.overlayMounts, Self.mountID(mid), record.identity, ev.tsNs)
                }
                if let layer = Self.component(after: Self.podmanOverlayPrefix, in: path) {
                    remember(&learned.podmanLayers, layer, record.identity, ev.tsNs)
                }
            }
            // a network namespace bound onto a file for the container (dockerd binding the
            // container's /proc/<pid>/ns/net, podman its own thread's): that file is its netns
            if let pid = Self.procNetPID(ev, 0), let target = Self.string(ev, 1) {
                remember(&learned.netnsFiles, String(decoding: target, as: UTF8.self), processes[pid] ?? record.identity, ev.tsNs)
            }
        default:
            break
        }
    }


    /// `libnetwork-setkey [-exec-root=…] <container-id> <sandbox-id>`: dockerd's prestart hook.
    private func learnSetkey(_ ev: EventView) {
        // nearly every exec is another program: argv[0]'s bytes tell before argv is parsed
        let argv = ev.string(1)
        let first = UnsafeRawBufferPointer(rebasing: argv.prefix { $0 != 0 })
        guard UTF8Search.hasSuffix(first, "libnetwork-setkey") else { return }
        let args = ev.execArguments
        guard !args.cut, let first = args.head.first, first.hasSuffix("libnetwork-setkey") else { return }
        let positional = args.head.dropFirst().filter { !$0.hasPrefix("-") }
        guard positional.count >= 2, Self.isDockerID(positional[positional.startIndex]) else { return }
        let id = ContainerIdentity(id: positional[positional.startIndex], runtime: .docker, containerdNamespace: "moby")
        let sandbox = positional[positional.startIndex + 1]
        guard sandbox.utf8.count >= 12, sandbox.utf8.allSatisfy(Self.isHex) else { return }
        if helpers.count >= Self.limit { helpers.removeAll(keepingCapacity: true) }
        helpers[ev.pid] = (id, ev.tsNs)
        for dir in ["/var/run/docker/netns/", "/run/docker/netns/"] {
            remember(&learned.netnsFiles, dir + String(sandbox.prefix(12)), id, ev.tsNs)
        }
    }

    // MARK: attributing

    /// The container of an event nothing else tied, and whether only hindsight did.
    func attribute(_ ev: EventView, namespaceOwner: (UInt32) -> ContainerIdentity?) -> (ContainerIdentity, later: Bool)? {
        let engine = Actor.isEngine(ev)
        if engine, enginePids.count < Self.limit { enginePids.insert(ev.pid) }
        // (empty tables are not hashed into: this runs for every host event)
        if !helpers.isEmpty, let (id, since) = helpers[ev.pid], ev.tsNs >= since, ev.tsNs - since < Self.helperLifetimeNs { return (id, false) }
        if ev.type == .setns, let found = setns(ev, engine: engine, namespaceOwner: namespaceOwner) { return found }
        // a `podman run` process that named one container (its shm under overlay-containers/<id>)
        // makes that container's network namespace and mounts
        if Self.isPerCommandEngine(ev.comm), let owner = commandOwner[ev.pid] ?? nil {
            if ev.type == .unshare, ev.unshare.flags & NamespaceType.net.cloneFlag != 0, !ev.failed {
                threadsInside[ev.tid] = (owner, NamespaceSlot.net.index, ev.ns(NamespaceSlot.net.index))
            }
            return (owner, false)
        }
        // an engine thread still inside the namespace it entered
        if !threadsInside.isEmpty, let inside = threadsInside[ev.tid], ev.ns(inside.slot) == inside.inode { return (inside.0, false) }
        guard ev.type.hasStrings, ev.type != .exec, ev.type != .cgroupMkdir else { return nil }
        if let pid = Self.procNetPID(ev, 0), let owner = processes[pid] { return (owner, false) }
        // the engines' paths are under a few prefixes; another path can only be a netns file
        // learnt before: look at the bytes before making a String of every host path
        let netnsFiles = !learned.netnsFiles.isEmpty || !(hindsight?.netnsFiles.isEmpty ?? true)
        for slot in 0..<2 {
            let named = Self.underEnginePrefix(ev.string(slot))
            guard named || netnsFiles, let path = Self.string(ev, slot) else { continue }
            if let found = fromPath(path, ts: ev.tsNs, underEnginePrefix: named) {
                if Self.isPerCommandEngine(ev.comm), !found.later { noteCommandOwner(ev.pid, found.0) }
                return found
            }
        }
        return nil
    }

    private func noteCommandOwner(_ pid: UInt32, _ identity: ContainerIdentity) {
        if let known = commandOwner[pid] {
            if known != identity { commandOwner[pid] = .some(nil) }
            return
        }
        if commandOwner.count >= Self.limit { commandOwner.removeAll(keepingCapacity: true) }
        commandOwner[pid] = identity
    }

    private static let podman: [UInt8] = Array("podman".utf8)
    static func isPerCommandEngine(_ comm: UnsafeRawBufferPointer) -> Bool { comm.elementsEqual(podman) }

    /// An engine thread's setns into a container's namespace, and its return from it.
    /// `engine`: the caller's comm is an engine's (its pid is in `enginePids` already).
    private func setns(_ ev: EventView, engine: Bool, namespaceOwner: (UInt32) -> ContainerIdentity?) -> (ContainerIdentity, later: Bool)? {
        guard !ev.failed, engine || enginePids.contains(ev.ppid) else { return nil }
        let call = ev.setns
        let inode = call.targetInode
        if !call.viaPidfd, let owner = namespaceOwner(inode), let slot = NamespaceType(cloneFlag: call.targetType)?.slots.first {
            if threadsInside.count >= Self.limit { threadsInside.removeAll(keepingCapacity: true) }
            threadsInside[ev.tid] = (owner, slot, inode)
            // a network plugin (or an engine's re-executed helper) runs for one container:
            // its other threads' calls are that container's too
            if Actor.isPlugin(comm: ev.comm) || !engine {
                if helpers.count >= Self.limit { helpers.removeAll(keepingCapacity: true) }
                helpers[ev.pid] = (owner, ev.tsNs)
            }
            return (owner, false)
        }
        // the same thread leaving it: the namespace it was in before is the one it entered
        if let inside = threadsInside[ev.tid], ev.hasNsBefore, ev.nsBefore(inside.slot) == inside.inode {
            threadsInside.removeValue(forKey: ev.tid)
            return (inside.0, false)
        }
        return nil
    }

    /// What a path under one of `enginePaths` names, and how `fromPath` reads it.
    enum EnginePathKind: CaseIterable {
        /// `<prefix><namespace>/<id>/…`: containerd's task directory (namespace `moby` is docker's)
        case containerdTask
        /// `<prefix><64-hex id>/…`: docker's container and runtime state directories
        case dockerContainer
        /// `<prefix><64-hex id>/…`: podman's container directory
        case podmanContainer
        /// `<prefix><mount-id>[-init]/…`: docker's overlay layer, known once learnt
        case dockerOverlay
        /// `<prefix><layer>/…`: podman's overlay layer, known once learnt
        case podmanOverlay
    }

    static let dockerOverlayPrefix = "/var/lib/docker/overlay2/"
    static let podmanOverlayPrefix = "/var/lib/containers/storage/overlay/"

    /// The one table of the paths `fromPath` finds a container in (besides netns files): the
    /// cheap byte test `underEnginePrefix` and `fromPath` both read it, so a prefix is never
    /// known to one and not the other. Each starts with "/run/" or "/var/" (what
    /// `underEnginePrefix` tests first); EngineEvidenceTests checks every entry end to end.
    static let enginePaths: [(prefix: String, kind: EnginePathKind)] = [
        ("/run/containerd/io.containerd.runtime.v2.task/", .containerdTask),
        ("/var/lib/docker/containers/", .dockerContainer),
        ("/var/run/docker/runtime-runc/moby/", .dockerContainer),
        ("/run/docker/runtime-runc/moby/", .dockerContainer),
        ("/var/lib/containers/storage/overlay-containers/", .podmanContainer),
        (dockerOverlayPrefix, .dockerOverlay),
        (podmanOverlayPrefix, .podmanOverlay),
    ]
    private static let enginePrefixes: [[UInt8]] = enginePaths.map { Array($0.prefix.utf8) }

    static func underEnginePrefix(_ raw: UnsafeRawBufferPointer) -> Bool {
        guard raw.count > 5, raw[0] == 0x2F, raw[4] == 0x2F else { return false } // "/run/", "/var/"
        return enginePrefixes.contains { UTF8Search.hasPrefix(raw, $0) }
    }

    /// `underEnginePrefix`: whether the path is under one of `enginePrefixes` (else only a
    /// netns file can match, and the other tests are skipped).
    private func fromPath(_ path: [UInt8], ts: UInt64, underEnginePrefix: Bool) -> (ContainerIdentity, later: Bool)? {
        let text = String(decoding: path, as: UTF8.self)
        if underEnginePrefix {
            for (prefix, kind) in Self.enginePaths {
                guard let rest = Self.after(prefix, text) else { continue }
                if let found = fromPath(kind, rest, ts: ts) { return found }
            }
        }
        if let (id, _) = learned.netnsFiles[text] { return (id, false) }
        if let (id, _) = hindsight?.netnsFiles[text] { return (id, true) }
        return nil
    }

    /// The container that `rest`, the path after a prefix of `kind`, names.
    private func fromPath(_ kind: EnginePathKind, _ rest: Substring, ts: UInt64) -> (ContainerIdentity, later: Bool)? {
        let first = String(rest.prefix { $0 != "/" })
        switch kind {
        case .containerdTask:
            let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count >= 2, RuntimeCommandLine.isPlausibleID(String(parts[0])),
                  RuntimeCommandLine.isPlausibleID(String(parts[1])) else { return nil }
            let ns = String(parts[0])
            return (ContainerIdentity(id: String(parts[1]), runtime: ns == "moby" ? .docker : .containerd, containerdNamespace: ns), false)
        case .dockerContainer:
            guard Self.isDockerID(first) else { return nil }
            return (ContainerIdentity(id: first, runtime: .docker, containerdNamespace: "moby"), false)
        case .podmanContainer:
            guard Self.isDockerID(first) else { return nil }
            return (ContainerIdentity(id: first, runtime: .podman), false)
        case .dockerOverlay:
            guard !first.isEmpty else { return nil }
            let mid = Self.mountID(first)
            if let (id, _) = learned.overlayMounts[mid] { return (id, false) }
            if let id = dockerLayerDB?.containerID(mountID: mid) {
                let identity = ContainerIdentity(id: id, runtime: .docker, containerdNamespace: "moby")
                remember(&learned.overlayMounts, mid, identity, ts)
                return (identity, false)
            }
            if let (id, _) = hindsight?.overlayMounts[mid] { return (id, true) }
            return nil
        case .podmanOverlay:
            guard !first.isEmpty else { return nil }
            if let (id, _) = learned.podmanLayers[first] { return (id, false) }
            if let (id, _) = hindsight?.podmanLayers[first] { return (id, true) }
            return nil
        }
    }

    // MARK: helpers

    private func remember<K: Hashable>(_ table: inout [K: ContainerIdentity], _ key: K, _ value: ContainerIdentity) {
        if table.count >= Self.limit { table.removeAll(keepingCapacity: true) }
        table[key] = value
    }

    private func remember(_ table: inout [String: (ContainerIdentity, UInt64)], _ key: String, _ value: ContainerIdentity, _ ts: UInt64) {
        if table[key]?.0 == value { return }
        if table.count >= Self.limit { table.removeAll(keepingCapacity: true) }
        table[key] = (value, ts)
    }

    /// String slot `slot` of a mount-family event, if whole and readable.
    static func string(_ ev: EventView, _ slot: Int) -> [UInt8]? {
        guard ev.type.hasStrings, !ev.isTruncated(slot: slot), !ev.stringFault(slot: slot), ev.stringLength(slot) > 0 else { return nil }
        return Array(ev.string(slot))
    }

    /// `/proc/<pid>/ns/net` or `/proc/<pid>/task/<tid>/ns/net` in slot `slot`: the pid.
    static func procNetPID(_ ev: EventView, _ slot: Int) -> UInt32? {
        guard ev.type == .mount else { return nil }
        // most mounts name no netns file: look at the bytes before making anything of them
        let raw = ev.string(slot)
        guard raw.count > 13, UTF8Search.hasPrefix(raw, "/proc/"), UTF8Search.hasSuffix(raw, "/ns/net"),
              let s = string(ev, slot) else { return nil }
        let parts = s.split(separator: 0x2F).map { String(decoding: $0, as: UTF8.self) }
        guard parts.count >= 4, parts[0] == "proc", parts.last == "net", parts[parts.count - 2] == "ns",
              parts.count == 4 || (parts.count == 6 && parts[2] == "task") else { return nil }
        return UInt32(parts[1])
    }

    /// The path component right after `prefix`.
    static func component(after prefix: String, in path: [UInt8]) -> String? {
        let p = Array(prefix.utf8)
        guard path.count > p.count, path.starts(with: p) else { return nil }
        let rest = path[p.count...].prefix { $0 != 0x2F }
        guard !rest.isEmpty else { return nil }
        return String(decoding: rest, as: UTF8.self)
    }

    /// docker's `<mount-id>-init` is the init layer of mount `<mount-id>`.
    static func mountID(_ component: String) -> String {
        component.hasSuffix("-init") ? String(component.dropLast(5)) : component
    }

    static func after(_ prefix: String, _ text: String) -> Substring? {
        text.hasPrefix(prefix) ? text.dropFirst(prefix.count) : nil
    }

    static func isHex(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) }

    static func isDockerID(_ s: some StringProtocol) -> Bool { s.utf8.count == 64 && s.utf8.allSatisfy(isHex) }
}

/// docker's layerdb: which container an overlay mount id belongs to
/// (`<root>/image/overlay2/layerdb/mounts/<container-id>/mount-id` holds it, written at create).
/// Read live only, on a miss, at most once per `rescanNs`; every file is opened O_NONBLOCK and
/// O_NOFOLLOW and read up to 128 bytes, so a hostile or half-written state costs nothing.
public final class DockerLayerDB {
    let mounts: String
    private var byMountID: [String: String] = [:]
    private var lastScan: UInt64 = 0
    let rescanNs: UInt64 = 5_000_000

    public init(dockerRoot: String = "/var/lib/docker") {
        mounts = dockerRoot + "/image/overlay2/layerdb/mounts"
    }

    public func containerID(mountID: String) -> String? {
        if let id = byMountID[mountID] { return id }
        let now = Self.monotonicNs()
        guard now &- lastScan >= rescanNs || lastScan == 0 else { return nil }
        lastScan = now
        scan()
        return byMountID[mountID]
    }

    func scan() {
        guard let entries = try? HostFiles.list(mounts) else { return }
        var found: [String: String] = [:]
        for entry in entries.prefix(EngineEvidence.limit) where EngineEvidence.isDockerID(entry.name) {
            for file in ["mount-id", "init-id"] {
                guard let value = Self.readSmall(mounts + "/" + entry.name + "/" + file) else { continue }
                let mid = EngineEvidence.mountID(value)
                guard !mid.isEmpty, mid.utf8.count <= 128, mid.utf8.allSatisfy(EngineEvidence.isHex) else { continue }
                found[mid] = entry.name
            }
        }
        byMountID = found
    }

    /// A small regular file's text, without following links or blocking; nil otherwise.
    static func readSmall(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { _ = close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        var buf = [UInt8](repeating: 0, count: 128)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n], as: UTF8.self).trimmingWhitespace
    }

    static func monotonicNs() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }
}

private extension String {
    var trimmingWhitespace: String {
        String(self.drop { $0 == " " || $0 == "\n" || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\n" || $0 == "\t" }.reversed())
    }
}
