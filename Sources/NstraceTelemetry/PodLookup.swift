import Dispatch
import Glibc
import NIOCore
import NstraceCore
import Synchronization

/// Pod names that no bundle was seen for, looked up off the event path on one worker queue,
/// like the docker names (MetadataWorker): once at start (containerd's running k8s.io bundles,
/// then the CRI socket), and again when the exporter meets a container with no pod names
/// (`request`). Results wait in `found` until the exporter's thread takes them (`drain`).
///
/// A CRI socket that is absent is silent (no CRI runtime on this node) unless the user named
/// it; one that is slow or answers garbage costs the worker at most `timeout` per query, is
/// counted (`failures`) and logged at most once a minute. Neither the ring-buffer loop nor the
/// exporter ever waits for it.
final class PodLookup: Sendable {
    /// Where containerd (then CRI-O) serves CRI by default.
    static let defaultSockets = ["/run/containerd/containerd.sock", "/run/crio/crio.sock"]
    /// At most one CRI query per this many seconds: a burst of new containers is one query.
    static let minInterval = 1.0
    static let pendingLimit = 1024

    private let sockets: [String]
    private let named: Bool
    private let timeout: TimeAmount
    private let report: @Sendable (String) -> Void
    private let queue = DispatchQueue(label: "nstrace.cri")
    /// Made by the first query, on the worker: its event-loop thread must start after the
    /// capabilities are dropped (they are per thread), as every thread of `start` does.
    private let grpc = Mutex<GRPCUnixClient?>(nil)
    private let found = Mutex<[String: PodNames.Pod]>([:])
    private let pending = Mutex<(ids: Set<String>, scheduled: Bool)>(([], false))
    /// When the last query ran (read by `request` to space queries) and the last failure was logged.
    private let lastQuery = Mutex<Double>(-.infinity)
    private let lastReport = Mutex<Double>(-.infinity)
    private let failureCount = Atomic<UInt64>(0)
    private let bundleRoot: String

    /// `socket`: the user's --cri-socket (must exist: checked by `checkNamedSocket`), or nil to
    /// probe the defaults.
    init(socket: String?, timeout: TimeAmount = .seconds(2), bundleRoot: String = RunningPodBundles.containerdTasks,
         report: @escaping @Sendable (String) -> Void) {
        sockets = socket.map { [$0] } ?? Self.defaultSockets
        named = socket != nil
        self.timeout = timeout
        self.bundleRoot = bundleRoot
        self.report = report
    }

    /// --cri-socket PATH that is not a socket: one line, before tracing starts.
    static func checkNamedSocket(_ path: String) throws(TelemetryError) {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw TelemetryError("--cri-socket: \(path.debugDescription): \(String(cString: strerror(errno)))")
        }
        guard st.st_mode & S_IFMT == S_IFSOCK else {
            throw TelemetryError("--cri-socket: \(path.debugDescription) is not a socket")
        }
    }

    var failures: UInt64 { failureCount.load(ordering: .relaxed) }

    /// The running bundles, then every container CRI knows.
    func start() {
        queue.async { [self] in
            let bundles = RunningPodBundles.read(root: bundleRoot)
            if !bundles.isEmpty { found.withLock { $0.merge(bundles) { old, new in old.filling(new) } } }
            query()
        }
    }

    /// The exporter's thread: a container with no pod names. Coalesced into one query at most
    /// every `minInterval` seconds.
    func request(_ id: String) {
        guard CRIMessages.isFullID(id) else { return }
        let schedule = pending.withLock { state -> Bool in
            if state.ids.count < Self.pendingLimit { state.ids.insert(id) }
            if state.scheduled { return false }
            state.scheduled = true
            return true
        }
        guard schedule else { return }
        let wait = max(0, lastQuery.withLock { $0 } + Self.minInterval - MonotonicClock.seconds())
        queue.asyncAfter(deadline: .now() + wait) { [self] in
            pending.withLock { $0 = ([], false) }
            query()
        }
    }

    /// What the worker found since the last call (the exporter's thread).
    func drain() -> [String: PodNames.Pod] {
        found.withLock { pods in
            defer { pods.removeAll() }
            return pods
        }
    }

    /// Worker queue: the first socket that exists and answers.
    private func query() {
        lastQuery.withLock { $0 = MonotonicClock.seconds() }
        let client = grpc.withLock { slot -> GRPCUnixClient in
            if let made = slot { return made }
            let made = GRPCUnixClient()
            slot = made
            return made
        }
        for path in sockets {
            if !named && access(path, F_OK) != 0 { continue }   // no CRI runtime there: silent
            do {
                let pods = try CRIClient(socketPath: path, timeout: timeout, grpc: client).pods()
                if !pods.isEmpty { found.withLock { $0.merge(pods) { old, new in new.filling(old) } } }
                return
            } catch {
                // a probed socket nobody listens on (a daemon stopped), or a containerd with its
                // CRI plugin off (docker's), is no CRI runtime either: silent
                if !named, error.isNoCRI { continue }
                failureCount.add(1, ordering: .relaxed)
                let now = MonotonicClock.seconds()
                let due = lastReport.withLock { last in
                    guard now - last >= 60 else { return false }
                    last = now
                    return true
                }
                if due { report("pod names: \(error) (logged at most once a minute)") }
            }
        }
    }
}

extension PodNames.Pod {
    /// These names, with the ones missing here taken from `other`.
    func filling(_ other: PodNames.Pod) -> PodNames.Pod {
        PodNames.Pod(name: name ?? other.name, namespace: namespace ?? other.namespace,
                     uid: uid ?? other.uid, containerName: containerName ?? other.containerName)
    }
}
