import FoundationEssentials
import Glibc
import NstraceCore
import Synchronization

/// Pod names for `--otlp`: the pod's name, namespace and UID (and the container's name in the
/// pod) that the CRI runtimes write into the OCI bundle's config.json as annotations, read
/// when the OCI runtime is invoked on that bundle:
///
/// - containerd's CRI plugin: `io.kubernetes.cri.sandbox-name`, `…sandbox-namespace`,
///   `…sandbox-uid`, `io.kubernetes.cri.container-name`;
/// - CRI-O: `io.kubernetes.pod.name`, `…pod.namespace`, `…pod.uid`, `io.kubernetes.container.name`.
///
/// Containers whose bundle was not seen being created (running before nstrace started, or
/// labelled only through the CRI API) get their names from `lookup` (PodLookup: the CRI socket
/// and containerd's running bundles), asked on a miss. The runtime's exec event (runc or
/// crun `create`/`run` with an absolute `--bundle`) only queues the bundle path (the ring-buffer
/// loop's thread: a comm compare per exec, an argv parse per runtime exec); the exporter's thread
/// reads the file before it turns the next events into records. The read is safe against a
/// hostile bundle path (the argv is the caller's): every path component opened with
/// O_NOFOLLOW (a symlink anywhere, even a legitimate one, gives nothing), the file must be a
/// regular file owned by root (what containerd and CRI-O write; no user can plant names),
/// at most 4 MiB, opened O_NONBLOCK. Values that are not Kubernetes-sized names are ignored.
final class PodNames: @unchecked Sendable {
    struct Pod: Sendable, Equatable {
        var name: String?
        var namespace: String?
        var uid: String?
        var containerName: String?
        var isEmpty: Bool { name == nil && namespace == nil && uid == nil && containerName == nil }
    }

    static let maxFileBytes = 4 << 20
    /// O_PATH (glibc defines it only under _GNU_SOURCE, which Swift's Glibc module lacks).
    private static let oPath: Int32 = 0o10000000
    static let queueLimit = 256
    static let tableLimit = 16384

    private let requests = Mutex<[(id: String, bundle: String)]>([])
    /// Only the exporter's thread touches the table.
    private var table: [String: Pod] = [:]

    private static let runtimeComms: [[UInt8]] = [Array("runc".utf8), Array("crun".utf8)]

    /// The ring-buffer loop's side: a runtime's exec on a bundle queues the bundle.
    func noteExec(_ ev: EventView, container: ContainerRecord?) {
        guard ev.type == .exec, !ev.failed, Self.runtimeComms.contains(where: { ev.comm.elementsEqual($0) }) else { return }
        let args = ev.execArguments
        guard args.head.contains(where: { $0 == "create" || $0 == "run" }),
              let bundle = args.value(of: ["--bundle", "-b"]), bundle.hasPrefix("/"),
              let id = container?.id ?? RuntimeCommandLine.identify(filename: "", arguments: args)?.id else { return }
        requests.withLock { queue in
            if queue.count < Self.queueLimit { queue.append((id, bundle)) }
        }
    }

    /// The exporter's thread, before each batch: reads the bundles queued since.
    func resolvePending() {
        let pending = requests.withLock { queue in
            let taken = queue
            queue.removeAll()
            return taken
        }
        for (id, bundle) in pending {
            guard let pod = Self.read(bundle: bundle), !pod.isEmpty else { continue }
            if table.count >= Self.tableLimit { table.removeAll(keepingCapacity: true) }
            table[id] = pod
        }
        // what the CRI socket or a running bundle said: fills in, never replaces, a bundle's names
        for (id, pod) in lookup?.drain() ?? [:] {
            if table.count >= Self.tableLimit { table.removeAll(keepingCapacity: true) }
            table[id] = table[id]?.filling(pod) ?? pod
        }
    }

    /// The CRI socket and containerd's running bundles (--otlp only; nil in unit tests).
    var lookup: PodLookup?
    /// Exporter's thread only: ids asked of `lookup` and when they may be asked again, so a
    /// container CRI does not know (docker's, the host's runc) costs one query a minute.
    private var asked: [String: Double] = [:]
    static let askAgainAfter = 60.0

    /// The names of a container's pod; on a miss, the lookup is asked (off this thread).
    func pod(for id: String) -> Pod? {
        if let pod = table[id] { return pod }
        if let lookup {
            let now = MonotonicClock.seconds()
            if (asked[id] ?? 0) <= now {
                if asked.count >= Self.tableLimit { asked.removeAll(keepingCapacity: true) }
                asked[id] = now + Self.askAgainAfter
                lookup.request(id)
            }
        }
        return nil
    }

    // MARK: reading a bundle

    private struct OCIConfig: Decodable {
        var annotations: [String: String]?
    }

    /// The pod named by `<bundle>/config.json`'s annotations; nil when unreadable or unsafe.
    static func read(bundle: String) -> Pod? {
        guard let bytes = readConfig(bundle: bundle),
              let config = try? JSONDecoder().decode(OCIConfig.self, from: Data(bytes)),
              let a = config.annotations else { return nil }
        return pod(annotations: a)
    }

    static func pod(annotations a: [String: String]) -> Pod {
        func name(_ keys: String...) -> String? {
            for key in keys { if let v = a[key], isName(v) { return v } }
            return nil
        }
        return Pod(name: name("io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name"),
                   namespace: name("io.kubernetes.cri.sandbox-namespace", "io.kubernetes.pod.namespace"),
                   uid: name("io.kubernetes.cri.sandbox-uid", "io.kubernetes.pod.uid"),
                   containerName: name("io.kubernetes.cri.container-name", "io.kubernetes.container.name"))
    }

    /// A Kubernetes object name or UID: 1–253 bytes of lower-case letters, digits, '-' and '.'
    /// (RFC 1123 subdomains; UIDs are dashed hex). Anything else is not presented as one.
    static func isName(_ value: String) -> Bool {
        let u = value.utf8
        return !u.isEmpty && u.count <= 253 && u.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x2E
        }
    }

    /// `<bundle>/config.json`, each component opened without following a symlink.
    static func readConfig(bundle: String) -> [UInt8]? {
        let parts = bundle.split(separator: "/")
        guard !parts.contains(where: { $0 == ".." || $0 == "." }) else { return nil }
        var dir = open("/", Self.oPath | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { return nil }
        for part in parts {
            let next = openat(dir, String(part), Self.oPath | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(dir)
            guard next >= 0 else { return nil }
            dir = next
        }
        let fd = openat(dir, "config.json", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        close(dir)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_uid == 0,
              st.st_size <= maxFileBytes else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size) + 1)
        var got = 0
        while got < bytes.count {
            let n = bytes[got...].withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            got += n
        }
        // grew while read (a file being rewritten): not trusted
        guard got <= Int(st.st_size) else { return nil }
        return Array(bytes[..<got])
    }
}
