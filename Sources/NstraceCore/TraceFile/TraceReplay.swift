/// Container attribution for a trace read back, from the file alone: the host's namespaces,
/// the containers and cgroups present when recording started (its host snapshot), the
/// containers and cgroups found while recording (metadata records), and the events themselves
/// (exec and cgroup_mkdir, as live). Feed it every item in file order.
public final class TraceReplay {
    public let attribution: ContainerAttribution
    /// The last lost-event counts recorded (a cut file has no trailer with the totals).
    public private(set) var lastLost: TraceMetadata.Lost?
    private let cgroups = RecordedCgroupPaths()
    /// Names and images known from anywhere in the file (a first pass over a seekable file):
    /// a trace read later knows the name of a container from its first event on.
    private var known: [String: (name: String?, image: String?)] = [:]

    public init() {
        attribution = ContainerAttribution(cgroups: cgroups, hostNamespaces: NamespaceSet())
        attribution.onNewContainer = { [unowned self] identity in
            if let primed = known[identity.id] {
                attribution.apply(id: identity.id, name: primed.name, image: primed.image)
            }
        }
    }

    /// First pass: remember every container's name and image.
    public func prime(_ meta: TraceMetadata) {
        guard meta.kind == TraceMetadata.Container.kind, let c = try? meta.decode(TraceMetadata.Container.self) else { return }
        let old = known[c.id]
        known[c.id] = (c.name ?? old?.name, c.image ?? old?.image)
    }

    public func apply(_ meta: TraceMetadata) {
        switch meta.kind {
        case TraceMetadata.HostSnapshot.kind:
            guard let snapshot = try? meta.decode(TraceMetadata.HostSnapshot.self) else { return }
            attribution.hostNamespaces = NamespaceSet(byName: snapshot.hostNamespaces)
            for container in snapshot.containers { register(container) }
        case TraceMetadata.Cgroup.kind:
            if let c = try? meta.decode(TraceMetadata.Cgroup.self) { cgroups.register(id: c.id, path: c.path) }
        case TraceMetadata.Container.kind:
            if let c = try? meta.decode(TraceMetadata.Container.self) { register(c) }
        case TraceMetadata.Lost.kind:
            if let l = try? meta.decode(TraceMetadata.Lost.self) { lastLost = l }
        default:
            break
        }
    }

    private func register(_ c: TraceMetadata.Container) {
        let runtime = c.runtime.flatMap(ContainerRuntime.init(rawValue:)) ?? .runc
        let identity = ContainerIdentity(id: c.id, runtime: runtime, containerdNamespace: c.containerdNamespace,
                                         podUID: c.podUID, name: c.name)
        if let path = c.cgroupPath { for id in c.cgroupIDs { cgroups.register(id: id, path: path) } }
        attribution.register(identity, namespaces: NamespaceSet(byName: c.namespaces), cgroupID: c.cgroupIDs.first)
        let primed = known[c.id]
        attribution.apply(id: c.id, name: c.name ?? primed?.name, image: c.image ?? primed?.image)
    }
}
