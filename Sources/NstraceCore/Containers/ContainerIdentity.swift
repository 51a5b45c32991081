/// The software that made a container, as far as nstrace can tell.
///
/// The raw values are the `runtime` strings of the JSON output.
public enum ContainerRuntime: String, Sendable, Hashable, CaseIterable, Codable {
    case docker
    case containerd
    case crio = "cri-o"
    case podman
    case runc
    case crun
    case lxc
    case nspawn
    /// A container of a Kubernetes pod, whatever CRI runtime (containerd, CRI-O, docker) runs it.
    case kubernetes
}

/// Who a container is: what nstrace can learn about it from where it lives (its cgroup,
/// the runtime's process tree), before any runtime API has been asked.
///
/// Names and images come later from the runtimes' APIs and are attached separately;
/// `name` is set here only where the location already is the name (LXC, systemd-nspawn).
public struct ContainerIdentity: Sendable, Hashable {
    /// The full id, never shortened (docker's 64 hex digits, ctr's chosen id, LXC's name).
    public var id: String
    public var runtime: ContainerRuntime
    /// The containerd namespace (`default`, `k8s.io`, `moby`, ...) when the layout shows it.
    public var containerdNamespace: String?
    /// The Kubernetes pod UID in its usual dashed form (`0c8f0b1c-5d2e-4f7a-9b1e-3a2c4d5e6f70`).
    public var podUID: String?
    /// The container's name when known (LXC and nspawn containers are known by name only).
    public var name: String?

    public init(
        id: String,
        runtime: ContainerRuntime,
        containerdNamespace: String? = nil,
        podUID: String? = nil,
        name: String? = nil
    ) {
        self.id = id
        self.runtime = runtime
        self.containerdNamespace = containerdNamespace
        self.podUID = podUID
        self.name = name
    }
}
