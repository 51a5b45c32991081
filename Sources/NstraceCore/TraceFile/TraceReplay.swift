/// Container attribution for a trace read back, from the file alone: the host's namespaces,
/// the containers and cgroups present when recording started (its host snapshot), the
/// containers and cgroups found while recording (metadata records), and the events themselves
/// (exec and cgroup_mkdir, as live). Feed it every item in file order.
public final class TraceReplay {
    public let attribution: ContainerAttribution
    /// The last lost-event counts recorded (a cut file has no trailer with the totals).
    public var lastLost: TraceMetadata.Lost? { try? lastLostRecord?.decode(TraceMetadata.Lost.self) }
    private var lastLostRecord: TraceMetadata?
    private let cgroups = RecordedCgroupPaths()
    /// Names and images known from anywhere in the file (a first pass over a seekable file):
    /// a trace read later knows the name of a container from its first event on.
    private var known: [String: (name: String?, image: String?)] = [:]

    /// What the replay keeps from a file's metadata is capped: a file is untrusted input, and
    /// every command reads it in bounded memory (docs/format.md, "Reading in bounded memory").
    public struct Limits: Sendable {
        /// JSON bytes of one metadata record decoded (a host snapshot may hold every mount table).
        public var snapshotJSONBytes = 8 << 20
        public var recordJSONBytes = 1 << 20
        /// Containers registered (from snapshots and records) and names remembered.
        public var containers = 10_000
        /// cgroup id → path entries (records, snapshots and cgroup_mkdir events).
        public var cgroups = 65_536
        /// cgroup ids kept per container.
        public var cgroupIDsPerContainer = 64
        public init() {}
    }
    public let limits: Limits
    /// One line per cap that was hit ("…: the cap on containers (10000) was reached …").
    public var capWarnings: [String] {
        if cgroups.dropped > 0 { capHit("cgroups", limits.cgroups) }
        return capsHitInOrder
    }
    private var capsHitInOrder: [String] = []
    private var capsHit = Set<String>()
    private var registered = Set<String>()

    public init(limits: Limits = Limits()) {
        self.limits = limits
        cgroups.limit = limits.cgroups
        attribution = ContainerAttribution(cgroups: cgroups, hostNamespaces: NamespaceSet())
        attribution.onNewContainer = { [unowned self] identity in
            if let primed = known[identity.id] {
                attribution.apply(id: identity.id, name: primed.name, image: primed.image)
            }
        }
    }

    /// First pass: remember every container's name and image.
    public func prime(_ meta: TraceMetadata) {
        guard meta.kind == TraceMetadata.Container.kind, known.count < limits.containers, withinLimit(meta),
              let c = try? meta.decode(TraceMetadata.Container.self) else { return }
        guard known[c.id] != nil || known.count < limits.containers else {
            return capHit("containers", limits.containers)
        }
        let old = known[c.id]
        known[c.id] = (c.name ?? old?.name, c.image ?? old?.image)
    }

    public func apply(_ meta: TraceMetadata) {
        guard withinLimit(meta) else { return }
        switch meta.kind {
        case TraceMetadata.HostSnapshot.kind:
            guard let snapshot = try? meta.decode(TraceMetadata.HostSnapshot.self) else { return }
            attribution.hostNamespaces = NamespaceSet(byName: snapshot.hostNamespaces)
            for container in snapshot.containers { register(container) }
        case TraceMetadata.Cgroup.kind:
            // past the cap nothing new is kept: not even decoded (a bomb costs no time either)
            if cgroups.count >= limits.cgroups { cgroups.dropped += 1; return }
            if let c = try? meta.decode(TraceMetadata.Cgroup.self) { cgroups.register(id: c.id, path: c.path) }
        case TraceMetadata.Container.kind:
            if registered.count >= limits.containers { return capHit("containers", limits.containers) }
            if let c = try? meta.decode(TraceMetadata.Container.self) { register(c) }
        case TraceMetadata.Lost.kind:
            lastLostRecord = meta   // only the last one counts: decoded when asked
        default:
            break
        }
    }

    private func register(_ c: TraceMetadata.Container) {
        var c = c
        guard registered.contains(c.id) || registered.count < limits.containers else {
            return capHit("containers", limits.containers)
        }
        registered.insert(c.id)
        if c.cgroupIDs.count > limits.cgroupIDsPerContainer {
            c.cgroupIDs.removeLast(c.cgroupIDs.count - limits.cgroupIDsPerContainer)
            capHit("cgroup ids per container", limits.cgroupIDsPerContainer)
        }
        let runtime = c.runtime.flatMap(ContainerRuntime.init(rawValue:)) ?? .runc
        let identity = ContainerIdentity(id: c.id, runtime: runtime, containerdNamespace: c.containerdNamespace,
                                         podUID: c.podUID, name: c.name)
        if let path = c.cgroupPath { for id in c.cgroupIDs { cgroups.register(id: id, path: path) } }
        attribution.register(identity, namespaces: NamespaceSet(byName: c.namespaces), cgroupID: c.cgroupIDs.first)
        let primed = known[c.id]
        attribution.apply(id: c.id, name: c.name ?? primed?.name, image: c.image ?? primed?.image)
    }

    /// Whether a record's JSON is small enough to decode (decoding costs many times its size).
    private func withinLimit(_ meta: TraceMetadata) -> Bool {
        let limit = meta.kind == TraceMetadata.HostSnapshot.kind ? limits.snapshotJSONBytes : limits.recordJSONBytes
        if meta.json.count <= limit { return true }
        capHit("JSON bytes per \(meta.kind == TraceMetadata.HostSnapshot.kind ? "host snapshot" : "metadata record")", limit)
        return false
    }

    private func capHit(_ what: String, _ limit: Int) {
        guard capsHit.insert(what).inserted else { return }
        capsHitInOrder.append("the cap on \(what) (\(limit)) was reached: the rest is not kept, so some events may show no container")
    }
}
