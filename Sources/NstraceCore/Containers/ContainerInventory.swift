#if canImport(Glibc)
import Glibc
#endif

/// One process as a /proc scan saw it.
public struct ProcessRecord: Sendable, Hashable {
    public var pid: Int32
    public var parentPID: Int32
    /// The command name (`comm`, at most 15 bytes), as the kernel keeps it.
    public var command: String
    /// When the process started, in clock ticks after boot (field 22 of /proc/PID/stat).
    public var startTime: UInt64
    /// The cgroup v2 path (the `0::` line of /proc/PID/cgroup), nil on a pure v1 host.
    public var cgroupPath: String?
    /// The container the process is in, nil for the host.
    public var container: ContainerIdentity?
    public var namespaces: ProcNamespaceInodes

    public init(pid: Int32, parentPID: Int32, command: String, startTime: UInt64, cgroupPath: String?,
                container: ContainerIdentity?, namespaces: ProcNamespaceInodes) {
        self.pid = pid
        self.parentPID = parentPID
        self.command = command
        self.startTime = startTime
        self.cgroupPath = cgroupPath
        self.container = container
        self.namespaces = namespaces
    }
}

/// A container that has at least one process now.
public struct RunningContainer: Sendable, Hashable {
    public var identity: ContainerIdentity
    /// The container's first process as the host sees it (its pid 1 when it has a pid
    /// namespace): the process of the group whose parent is outside the group, preferring
    /// the one that is pid 1 in its own pid namespace, then the oldest.
    public var initPID: Int32
    /// Every process of the container, ascending.
    public var pids: [Int32]
    public var cgroupPath: String?
    /// The namespaces of `initPID`.
    public var namespaces: ProcNamespaceInodes
    /// The namespace types where the container's init is in the same namespace as nstrace.
    public var sharedWithHost: Set<NamespaceType>
    /// From the runtime (docker, podman), or the id itself for runc, crun and containerd.
    public var name: String?
    public var image: String?

    public init(identity: ContainerIdentity, initPID: Int32, pids: [Int32], cgroupPath: String?,
                namespaces: ProcNamespaceInodes, sharedWithHost: Set<NamespaceType>, name: String? = nil, image: String? = nil) {
        self.identity = identity
        self.initPID = initPID
        self.pids = pids
        self.cgroupPath = cgroupPath
        self.namespaces = namespaces
        self.sharedWithHost = sharedWithHost
        self.name = name
        self.image = image
    }

    public var id: String { identity.id }
    /// The first 12 characters of a 64-hex id (as `docker ps` shows it); other ids whole.
    public var shortID: String { ContainerInventory.shortID(identity.id) }
    /// The name when known, else the short id.
    public var displayName: String { name ?? shortID }
}

/// Why a container reference did not name exactly one running container.
public enum ContainerQueryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Nothing matches; `running` lists what does run (display names), possibly empty.
    case notFound(query: String, running: [String])
    /// The prefix or name matches several containers (`candidates`: their ids and names).
    case ambiguous(query: String, candidates: [String])

    public var description: String {
        switch self {
        case .notFound(let query, let running):
            if running.isEmpty { return "no running container matches '\(query)' (no containers are running)" }
            let shown = running.prefix(8).joined(separator: ", ") + (running.count > 8 ? ", …" : "")
            return "no running container matches '\(query)'; running: \(shown)"
        case .ambiguous(let query, let candidates):
            return "'\(query)' matches \(candidates.count) containers: \(candidates.joined(separator: ", ")); give more of the id"
        }
    }
}

public enum ContainerInventoryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// nstrace could not read its own namespaces: nothing can be compared with the host.
    case cannotReadOwnNamespaces(ProcReadError)
    case cannotListProcesses(procRoot: String)

    public var description: String {
        switch self {
        case .cannotReadOwnNamespaces(let error): return "cannot read nstrace's own namespaces: \(error)"
        case .cannotListProcesses(let procRoot): return "cannot list the processes in \(procRoot)"
        }
    }
}

/// The containers running now, found from /proc alone.
///
/// For every process: its cgroup (`CgroupPathMatcher`; the v2 line decides, v1 lines on
/// pure-v1 hosts), refined by the runtimes' state directories (`RuntimeStateDirectories`),
/// then processes grouped by container. The host's namespaces are nstrace's own
/// (/proc/self/ns): /proc/1/ns is not readable in every sandbox, and nstrace runs on
/// the host side. Processes that exit mid-scan are skipped quietly; processes that
/// cannot be read (not root) are counted in `unreadableProcesses`.
public struct ContainerInventory: Sendable {
    public struct Options: Sendable {
        public var procRoot: String = "/proc"
        /// Whose namespaces are "the host's": nstrace's own by default.
        public var hostPID: Int32 = getpid()
        public var stateDirectories = RuntimeStateDirectories()
        public init() {}
    }

    /// Every container with a process, ordered by init pid.
    public var containers: [RunningContainer]
    /// Every process that could be read, ascending by pid.
    public var processes: [ProcessRecord]
    /// The host's namespaces (nstrace's own).
    public var hostNamespaces: ProcNamespaceInodes
    /// Processes skipped because their files could not be read (other than by exiting).
    public var unreadableProcesses: Int

    public init(containers: [RunningContainer], processes: [ProcessRecord], hostNamespaces: ProcNamespaceInodes, unreadableProcesses: Int = 0) {
        self.containers = containers
        self.processes = processes
        self.hostNamespaces = hostNamespaces
        self.unreadableProcesses = unreadableProcesses
    }

    /// Scans /proc now. `metadata`, when given, is asked for each container's name and image.
    public static func scan(options: Options = Options(), metadata: (any ContainerMetadataLookup)? = nil) throws(ContainerInventoryError) -> ContainerInventory {
        let host: ProcNamespaceInodes
        do {
            host = try ProcNamespaces.read(pid: options.hostPID, procRoot: options.procRoot)
        } catch {
            throw .cannotReadOwnNamespaces(error)
        }
        let pids = ProcNamespaces.allProcesses(procRoot: options.procRoot)
        if pids.isEmpty { throw .cannotListProcesses(procRoot: options.procRoot) }

        var processes: [ProcessRecord] = []
        var unreadable = 0
        var refined: [ContainerIdentity: ContainerIdentity] = [:]
        for pid in pids {
            do {
                guard var record = try readProcess(pid: pid, procRoot: options.procRoot) else { continue }
                if let identity = record.container {
                    if let known = refined[identity] {
                        record.container = known
                    } else {
                        let better = options.stateDirectories.refine(identity)
                        refined[identity] = better
                        record.container = better
                    }
                }
                processes.append(record)
            } catch {
                if error.reason != .processExited { unreadable += 1 }
            }
        }

        var inventory = ContainerInventory(
            containers: group(processes, host: host, procRoot: options.procRoot),
            processes: processes, hostNamespaces: host, unreadableProcesses: unreadable)
        if let metadata {
            for index in inventory.containers.indices {
                let identity = inventory.containers[index].identity
                if let found = metadata.lookup(identity) {
                    inventory.containers[index].name = found.name ?? identity.name
                    inventory.containers[index].image = found.image
                } else {
                    inventory.containers[index].name = identity.name
                }
            }
        } else {
            for index in inventory.containers.indices {
                inventory.containers[index].name = inventory.containers[index].identity.name
            }
        }
        return inventory
    }

    // MARK: - queries

    /// The running container a reference names: its full id, its name, or a prefix of its
    /// id that no other container shares (tried in that order).
    public func find(_ query: String) throws(ContainerQueryError) -> RunningContainer {
        guard !query.isEmpty else { throw .notFound(query: query, running: containers.map(\.displayName)) }
        if let exact = containers.first(where: { $0.id == query }) { return exact }
        let named = containers.filter { $0.name == query }
        if named.count == 1 { return named[0] }
        if named.count > 1 { throw .ambiguous(query: query, candidates: named.map(Self.describeCandidate)) }
        let prefixed = containers.filter { $0.id.hasPrefix(query) }
        switch prefixed.count {
        case 0: throw .notFound(query: query, running: containers.map(\.displayName))
        case 1: return prefixed[0]
        default: throw .ambiguous(query: query, candidates: prefixed.map(Self.describeCandidate))
        }
    }

    /// The container a process is in, nil for a host process or one not seen by the scan.
    public func container(ofPID pid: Int32) -> RunningContainer? {
        guard let identity = processes.first(where: { $0.pid == pid })?.container else { return nil }
        return containers.first { $0.identity == identity }
    }

    public func process(_ pid: Int32) -> ProcessRecord? {
        processes.first { $0.pid == pid }
    }

    /// `20530def80a2 (rtdemo-docker, docker)`.
    static func describeCandidate(_ container: RunningContainer) -> String {
        var text = container.shortID
        var details: [String] = []
        if let name = container.name, name != container.id { details.append(name) }
        details.append(container.identity.runtime.rawValue)
        text += " (" + details.joined(separator: ", ") + ")"
        return text
    }

    /// The first 12 characters of a 64-hex id, other ids unchanged.
    public static func shortID(_ id: String) -> String {
        CgroupPathMatcher.isFullHexID(id[...]) ? String(id.prefix(12)) : id
    }

    // MARK: - reading /proc

    /// One process's record, nil for a process whose namespaces the kernel does not show
    /// (a zombie). Throws `ProcReadError` (`.processExited` for one that is gone).
    static func readProcess(pid: Int32, procRoot: String) throws(ProcReadError) -> ProcessRecord? {
        let stat = try readFile(pid: pid, name: "stat", procRoot: procRoot)
        guard let parsed = parseStat(stat) else {
            throw ProcReadError(pid: pid, path: "\(procRoot)/\(pid)/stat", reason: .malformed(String(stat.prefix(200))))
        }
        // A zombie keeps its /proc entry but has released its namespaces and cgroup.
        if parsed.state == "Z" { return nil }
        let cgroup = try readFile(pid: pid, name: "cgroup", procRoot: procRoot)
        let namespaces = try ProcNamespaces.read(pid: pid, procRoot: procRoot)
        return ProcessRecord(
            pid: pid, parentPID: parsed.parentPID, command: parsed.command, startTime: parsed.startTime,
            cgroupPath: unifiedCgroupPath(cgroup), container: CgroupPathMatcher.identify(procCgroupContents: cgroup),
            namespaces: namespaces)
    }

    private static func readFile(pid: Int32, name: String, procRoot: String) throws(ProcReadError) -> String {
        do {
            return try HostFiles.readText("\(procRoot)/\(pid)/\(name)")
        } catch {
            throw ProcReadError.from(error, pid: pid, procRoot: procRoot)
        }
    }

    /// The `0::` path of a /proc/PID/cgroup text.
    public static func unifiedCgroupPath(_ text: String) -> String? {
        for line in CgroupPathMatcher.lines(text) where line.hasPrefix("0::") {
            return String(line.dropFirst(3))
        }
        return nil
    }

    /// state, ppid, comm and start time of a /proc/PID/stat line. The comm sits in
    /// parentheses and may itself contain ')' and spaces, so fields are counted from the
    /// last ')'.
    static func parseStat(_ text: String) -> (state: Character, parentPID: Int32, command: String, startTime: UInt64)? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"), open < close else { return nil }
        let command = String(text[text.index(after: open)..<close])
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state), fields[1] field 4 (ppid), fields[19] field 22 (starttime).
        guard fields.count > 19, let state = fields[0].first, let parentPID = Int32(fields[1]),
              let startTime = UInt64(fields[19])
        else { return nil }
        return (state, parentPID, command, startTime)
    }

    /// The pid a process has in its innermost pid namespace (last field of `NSpid:`).
    static func innermostPID(pid: Int32, procRoot: String) -> Int32? {
        guard let status = try? HostFiles.readText("\(procRoot)/\(pid)/status") else { return nil }
        for line in status.split(whereSeparator: \.isNewline) where line.hasPrefix("NSpid:") {
            return line.dropFirst("NSpid:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).last.flatMap { Int32($0) }
        }
        return nil
    }

    // MARK: - grouping

    static func group(_ processes: [ProcessRecord], host: ProcNamespaceInodes, procRoot: String) -> [RunningContainer] {
        var members: [ContainerIdentity: [ProcessRecord]] = [:]
        for process in processes {
            if let identity = process.container { members[identity, default: []].append(process) }
        }
        var containers: [RunningContainer] = []
        for (identity, group) in members {
            let pids = Set(group.map(\.pid))
            let roots = group.filter { !pids.contains($0.parentPID) }
            let candidates = roots.isEmpty ? group : roots
            let initProcess = (candidates.count > 1 ? candidates.first { innermostPID(pid: $0.pid, procRoot: procRoot) == 1 } : nil)
                ?? candidates.min { ($0.startTime, $0.pid) < ($1.startTime, $1.pid) }
            guard let initProcess else { continue }
            var shared = Set<NamespaceType>()
            for type in NamespaceType.allCases {
                guard let link = ProcNamespaceLink(rawValue: type.name),
                      let inode = initProcess.namespaces[link], inode == host[link]
                else { continue }
                shared.insert(type)
            }
            containers.append(RunningContainer(
                identity: identity, initPID: initProcess.pid, pids: group.map(\.pid).sorted(),
                cgroupPath: initProcess.cgroupPath, namespaces: initProcess.namespaces, sharedWithHost: shared))
        }
        return containers.sorted { ($0.initPID, $0.id) < ($1.initPID, $1.id) }
    }
}

/// Tells runc, crun and containerd apart for the cgroup layouts that do not say who made
/// the container (`/<id>` and `/<namespace>/<id>`, see `CgroupPathMatcher`), from the
/// state directories each runtime keeps while a container exists:
/// - containerd (runc shim v2): `/run/containerd/runc/<namespace>/<id>` and
///   `/run/containerd/io.containerd.runtime.v2.task/<namespace>/<id>`
/// - runc: `/run/runc/<id>`;  crun: `/run/crun/<id>`
/// A runc or crun container whose `cgroupsPath` is `/<a>/<b>` looks like containerd
/// namespace `a` by its path alone; the state directory corrects that.
public struct RuntimeStateDirectories: Sendable, Hashable {
    public var runRoot: String

    public init(runRoot: String = "/run") {
        self.runRoot = runRoot
    }

    /// The identity with its runtime corrected where a state directory says otherwise.
    /// Identities from distinctive layouts (docker, podman, CRI-O, ...) come back unchanged.
    public func refine(_ identity: ContainerIdentity) -> ContainerIdentity {
        guard identity.runtime == .runc || (identity.runtime == .containerd && identity.containerdNamespace != nil),
              Self.isSafeComponent(identity.id)
        else { return identity }
        if let namespace = identity.containerdNamespace, Self.isSafeComponent(namespace) {
            for directory in ["containerd/runc", "containerd/io.containerd.runtime.v2.task", "containerd/io.containerd.runtime.v1.linux"]
            where HostFiles.exists("\(runRoot)/\(directory)/\(namespace)/\(identity.id)") {
                return ContainerIdentity(id: identity.id, runtime: .containerd, containerdNamespace: namespace, podUID: identity.podUID)
            }
        }
        if HostFiles.exists("\(runRoot)/runc/\(identity.id)") {
            return ContainerIdentity(id: identity.id, runtime: .runc, podUID: identity.podUID)
        }
        if HostFiles.exists("\(runRoot)/crun/\(identity.id)") {
            return ContainerIdentity(id: identity.id, runtime: .crun, podUID: identity.podUID)
        }
        return identity
    }

    private static func isSafeComponent(_ text: String) -> Bool {
        !text.isEmpty && text != "." && text != ".." && !text.contains("/") && !text.utf8.contains(0)
    }
}
