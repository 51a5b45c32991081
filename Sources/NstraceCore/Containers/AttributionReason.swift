/// How an event was tied to its container (`attributed_by` in JSON, `--why` in text).
public enum AttributionReason: String, Sendable, CaseIterable {
    /// The process's cgroup v2 path names the container.
    case cgroup
    /// The process is in the tree of a runtime process whose command line names the
    /// container (runc/crun `<id>`, the shim's `-id`, conmon's `-c`, ctr's `run … <id>`).
    case lineage
    /// The process is inside the container's mount or pid namespace, or (an engine thread)
    /// entered or left one of its namespaces with setns.
    case namespace
    /// The engine's own work for the container: a path that names it (the containerd task
    /// directory, /var/lib/docker/containers/<id>), a layer or mount id the engine's state maps
    /// to it (docker's layerdb), its network namespace file, or a helper whose argv names it.
    case engine
    /// Only what a recording shows later ties it (read from a file, never live): e.g. the
    /// network namespace an engine created that the container's runtime then joined.
    case later

    /// The name without allocating (the per-event path).
    public var staticName: StaticString {
        switch self {
        case .cgroup: "cgroup"
        case .lineage: "lineage"
        case .namespace: "namespace"
        case .engine: "engine"
        case .later: "later"
        }
    }
}

/// Who made the call, as far as attribution tells.
public enum Actor: String, Sendable, CaseIterable {
    /// dockerd, containerd, podman, ctr, CNI/netavark plugins, docker's setkey hook.
    case engine
    /// runc, crun, a containerd shim or conmon, before the container's program runs.
    case runtime
    /// The container's own processes (and what was exec'd into it).
    case container

    public var staticName: StaticString {
        switch self {
        case .engine: "engine"
        case .runtime: "runtime"
        case .container: "container"
        }
    }

    /// The engine processes, by comm (15 bytes at most).
    static let engineComms: Set<String> = [
        "dockerd", "containerd", "ctr", "podman", "netavark", "aardvark-dns", "libnetwork-set",
        "bridge", "tuning", "portmap", "firewall", "host-local", "loopback", "dhcp", "macvlan", "ipvlan",
        "vlan", "ptp", "bandwidth", "sbr", "static", "vrf", "docker-proxy",
    ]

    /// Network plugins: each process runs for one container.
    static let pluginComms: Set<String> = [
        "netavark", "bridge", "tuning", "portmap", "firewall", "host-local", "loopback", "dhcp", "macvlan",
        "ipvlan", "vlan", "ptp", "bandwidth", "sbr", "static", "vrf",
    ]
    private static let pluginNames = CommNames(pluginComms)

    static func isPlugin(comm: UnsafeRawBufferPointer) -> Bool { pluginNames.contains(comm) }

    private static let engineNames = CommNames(engineComms)

    /// Without allocating or hashing: it runs for every host event too.
    static func isEngine(comm: UnsafeRawBufferPointer) -> Bool { engineNames.contains(comm) }

    /// The same for an event's comm, read from the record as two words.
    static func isEngine(_ ev: EventView) -> Bool { engineNames.contains(CommKey(event: ev)) }
}

/// The `attributed_by` and `actor` JSON members and the `--why` text suffix.
public enum AttributionOutput {
    /// `,"attributed_by":"lineage","actor":"runtime"` (null for an event of no container).
    public static func appendJSON(reason: AttributionReason?, actor: Actor?, into out: inout OutputBuffer) {
        out.append(",\"attributed_by\":")
        if let reason { out.appendQuoted(reason.staticName) } else { out.append("null") }
        out.append(",\"actor\":")
        if let actor { out.appendQuoted(actor.staticName) } else { out.append("null") }
    }

    /// ` [lineage runtime]`; nothing for an event of no container.
    public static func appendText(reason: AttributionReason?, actor: Actor?, into out: inout OutputBuffer) {
        guard let reason else { return }
        out.append(" [")
        out.append(reason.staticName)
        if let actor {
            out.append(byte: 0x20)
            out.append(actor.staticName)
        }
        out.append(byte: 0x5D)
    }
}
