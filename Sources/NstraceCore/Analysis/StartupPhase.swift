/// The phases of a container start, in their usual order. docs/analysis.md defines each one
/// from the events, per runtime. A phase a runtime does not go through is absent, never zero.
public enum StartupPhase: String, CaseIterable, Sendable, Comparable {
    /// The engine's work before it calls the runtime: root filesystem (overlay) mounts, the
    /// shim's rootfs mount, the shim or conmon started.
    case enginePreparation = "engine_preparation"
    /// From the exec of `runc create|run` / `crun create|run` to the runtime's first kernel work.
    case runtimeInvoked = "runtime_invoked"
    /// The runtime's own set-up in the host mount namespace: the bind of its binary onto
    /// itself (runc 1.1, crun 1.8), `runc init`, and the re-exec from the sealed copy.
    case runtimeBootstrap = "runtime_bootstrap"
    /// unshare / clone / clone3 creating the namespaces, and the runtime's setns into the ones
    /// its engine made beforehand.
    case namespaces = "namespaces"
    /// Mounts in the new mount namespace before pivot_root: propagation, the rootfs bind,
    /// proc, dev, devpts, sys, cgroup, mqueue, shm, the volumes (and, for crun, the masked paths).
    case mountSetup = "mount_setup"
    /// pivot_root and the detach of the old root right after it.
    case pivotRoot = "pivot_root"
    /// Mounts after pivot_root: read-only and masked paths (runc).
    case finishing = "finishing"
    /// The network namespace prepared or configured by the engine and its plugins (netns
    /// creation and pinning, CNI / netavark plugins, libnetwork-setkey, dockerd's setns):
    /// it may overlap the others.
    case network = "network"
    /// From the end of the runtime's create work to the exec of `runc start` / `crun start`.
    case createStartWait = "create_start_wait"
    /// From `start` (or, for `run`, the end of the create work) to the entrypoint's exec.
    case entrypoint = "entrypoint_exec"

    public var title: String {
        switch self {
        case .enginePreparation: "engine preparation"
        case .runtimeInvoked: "runtime invoked"
        case .runtimeBootstrap: "runtime bootstrap"
        case .namespaces: "namespaces created"
        case .mountSetup: "mount namespace set up"
        case .pivotRoot: "pivot_root"
        case .finishing: "finishing"
        case .network: "network"
        case .createStartWait: "create→start wait"
        case .entrypoint: "entrypoint exec"
        }
    }

    var order: Int {
        switch self {
        case .enginePreparation: 0
        case .runtimeInvoked: 1
        case .runtimeBootstrap: 2
        case .namespaces: 3
        case .mountSetup: 4
        case .pivotRoot: 5
        case .finishing: 6
        case .network: 7
        case .createStartWait: 8
        case .entrypoint: 9
        }
    }

    public static func < (a: StartupPhase, b: StartupPhase) -> Bool { a.order < b.order }
}
