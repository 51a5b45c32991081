/// What the startup analysis needs to know of one event, as an owned value with Strings:
/// the form of events made by hand (tests), which the analyzer stores (`StartupAnalyzer.consume`).
/// What a container start keeps is the compact `StoredEvent` (issue 9), which
/// `AnalysisEventAdapter` (the only file that knows the decoder and the attribution) makes
/// straight from a decoded event, for one file, several merged, and the live analysis.
public struct AnalysisEvent: Sendable {
    public enum Kind: Sendable, Equatable {
        case unshare, setns, clone, mount, umount, pivotRoot
        /// fsopen, fsconfig, fsmount, move_mount, open_tree, mount_setattr
        case mountAPI
        case exec
    }

    /// The container an event belongs to, as attribution knows it.
    public struct Container: Sendable, Equatable {
        public var id: String
        public var name: String?
        public var image: String?
        /// `runc`, `crun`, `containerd`, `docker`, `podman`, … (the JSON output's values).
        public var runtime: String

        public init(id: String, name: String? = nil, image: String? = nil, runtime: String) {
            self.id = id
            self.name = name
            self.image = image
            self.runtime = runtime
        }
    }

    public var kind: Kind
    /// The syscall's name (`unshare`, `mount`, `pivot_root`, `exec`, …).
    public var name: String
    /// CLOCK_BOOTTIME at the call's entry (exec: when it happened), and the call's latency.
    public var tsNs: UInt64
    public var latencyNs: UInt64
    public var pid: UInt32
    public var tid: UInt32
    public var comm: String
    /// errno of a failed call, 0 on success.
    public var errno: Int32
    /// The container the event is attributed to (nil: the host, or not known).
    public var container: Container?
    /// setns: the container whose namespace was entered, when known.
    public var joined: Container?

    /// unshare/clone/clone3: the CLONE_NEW* flags; setns: the entered namespace's type (CLONE_NEW*).
    public var namespaceFlags: UInt64 = 0
    /// Namespaces the call created: (type name, inode). setns: the one entered.
    public var namespaces: [(type: String, inode: UInt32)] = []
    /// The caller's network namespace after the call (0 unknown).
    public var netns: UInt32 = 0
    /// exec of a container's own program: the namespace types (names, sorted) whose inode is
    /// the host's, i.e. what the entrypoint shares with the host.
    public var sharedWithHost: [String] = []

    /// mount: source, target, fstype; umount / pivot_root / new API: the path argument in `target`.
    public var source: String?
    public var target: String?
    public var fstype: String?
    /// A mount target given as `/proc/self/fd/N`, resolved to the path inside the container
    /// (from engine-side path resolution when the trace has it; nil otherwise).
    public var resolvedTarget: String?
    /// mount flags (MS_*), umount flags (MNT_*), open_tree / move_mount flags.
    public var mountFlags: UInt64 = 0

    /// exec: the program and its arguments; `isRuntime`: the new program is a container
    /// runtime (runc, crun, shims, conmon), as the BPF side's lineage tracking tells.
    public var filename: String?
    public var argv: [String] = []
    public var isRuntime = false
    /// The calling process is a container engine or network plugin (dockerd, containerd,
    /// podman, CNI plugins …), by its comm: its calls inside a container's start are the
    /// engine's work (network set-up), not the runtime's.
    public var isEngine = false
    /// The calling process's parent (an engine's re-executed helper is its child).
    public var ppid: UInt32 = 0

    /// One line describing the call, as `show` prints it (already escaped for a terminal).
    public var detail: String

    public init(kind: Kind, name: String, tsNs: UInt64, latencyNs: UInt64 = 0, pid: UInt32, tid: UInt32? = nil,
                comm: String, errno: Int32 = 0, container: Container? = nil, detail: String = "") {
        self.kind = kind
        self.name = name
        self.tsNs = tsNs
        self.latencyNs = latencyNs
        self.pid = pid
        self.tid = tid ?? pid
        self.comm = comm
        self.errno = errno
        self.container = container
        self.detail = detail
    }

    public var endNs: UInt64 { tsNs &+ latencyNs }
    public var failed: Bool { errno != 0 }
}
