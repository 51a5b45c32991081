import FoundationEssentials

/// Where the cgroup v2 hierarchy is mounted in nstrace's mount namespace.
public struct Cgroup2Mount: Sendable, Hashable {
    /// The directory to walk: `/sys/fs/cgroup` on pure v2 hosts, `/sys/fs/cgroup/unified`
    /// on hybrid ones.
    public var mountPoint: String
    /// The cgroup that directory shows, `/` unless only a sub-tree is mounted there.
    public var root: String

    public init(mountPoint: String, root: String = "/") {
        self.mountPoint = mountPoint
        self.root = root
    }

    /// The cgroup2 mount to use from a mount table.
    ///
    /// Prefers a mount of the whole hierarchy (root `/`) at the usual places, then any
    /// whole-hierarchy mount, then a sub-tree mount. A mount over-mounted at the same
    /// place by a later line is hidden and skipped.
    public static func locate(in table: MountTable) -> Cgroup2Mount? {
        let entries = table.entries
        let visible = entries.indices.filter { index in
            entries[index].fsType == "cgroup2"
                && !entries[(index + 1)...].contains { $0.mountPoint == entries[index].mountPoint }
        }.map { entries[$0] }
        let whole = visible.filter { $0.root == "/" }
        let chosen = whole.first { $0.mountPoint == "/sys/fs/cgroup" }
            ?? whole.first { $0.mountPoint == "/sys/fs/cgroup/unified" }
            ?? whole.first
            ?? visible.first
        return chosen.map { Cgroup2Mount(mountPoint: $0.mountPoint, root: $0.root) }
    }

    /// The cgroup2 mount of this process's mount namespace, from /proc/self/mountinfo.
    public static func locate(mountInfoPath: String = "/proc/self/mountinfo") throws(CgroupResolverError) -> Cgroup2Mount {
        let text: String
        do {
            text = try HostFiles.readText(mountInfoPath)
        } catch {
            throw .cannotReadMountInfo(path: mountInfoPath, reason: error.systemMessage)
        }
        guard let mount = locate(in: MountInfo.parse(text)) else {
            throw .noCgroup2Mount(mountInfoPath: mountInfoPath)
        }
        return mount
    }
}

public enum CgroupResolverError: Error, Sendable, Hashable, CustomStringConvertible {
    case cannotReadMountInfo(path: String, reason: String)
    case noCgroup2Mount(mountInfoPath: String)

    public var description: String {
        switch self {
        case .cannotReadMountInfo(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .noCgroup2Mount(let path):
            return "no cgroup2 filesystem is mounted (looked in \(path)); container detection by cgroup needs one"
        }
    }
}

/// Maps cgroup v2 ids to cgroup paths.
///
/// A cgroup v2 id, what `bpf_get_current_cgroup_id()` returns, is the inode number of
/// the cgroup's directory in the cgroup2 filesystem (kernfs gives every node a 64-bit
/// id that is not reused), so walking that filesystem once maps all existing cgroups.
/// Cgroups made later come from `register(id:path:)` (the cgroup_mkdir tracepoint) or
/// from a rescan when an unknown id shows up.
///
/// Paths are relative to the hierarchy root, like /proc/PID/cgroup (`/docker/<id>`), which
/// is what `CgroupPathMatcher` takes.
///
/// Entries are never dropped when a cgroup goes away: events of a container that lived
/// a millisecond may be decoded after its cgroup is gone, and ids are not reused. The
/// map grows by one entry (~100 bytes) per cgroup created while nstrace runs.
///
/// Thread-safe. Lookups of known ids take a lock and a dictionary read; a miss may walk
/// the filesystem on the caller's thread, at most once per `minimumRescanInterval`
/// across all callers, so a stream of unknown ids (host processes in cgroups that exist
/// no more, garbage) cannot turn into a stream of walks. A miss while another caller's
/// walk is running returns nil at once instead of waiting for it.
public final class CgroupResolver: @unchecked Sendable {
    // @unchecked: all mutable state is guarded by `lock`.
    public let mount: Cgroup2Mount
    public let minimumRescanInterval: Duration

    /// Bounds the walk against a pathological or looping tree.
    private static let maximumDepth = 128

    private let lock = PosixLock()
    private var pathsByID: [UInt64: String] = [:]
    private var lastWalkStart: ContinuousClock.Instant?

    public init(mount: Cgroup2Mount, minimumRescanInterval: Duration = .milliseconds(250)) {
        self.mount = mount
        self.minimumRescanInterval = minimumRescanInterval
    }

    /// A resolver for the cgroup2 mount found in `mountInfoPath`.
    public convenience init(
        mountInfoPath: String = "/proc/self/mountinfo",
        minimumRescanInterval: Duration = .milliseconds(250)
    ) throws(CgroupResolverError) {
        self.init(mount: try Cgroup2Mount.locate(mountInfoPath: mountInfoPath),
                  minimumRescanInterval: minimumRescanInterval)
    }

    /// The path of cgroup `id`, or nil when it is unknown even after an allowed rescan.
    /// Id 0 (no cgroup v2 information) is never looked up.
    public func path(forID id: UInt64) -> String? {
        guard id != 0 else { return nil }
        if let known = withLock({ pathsByID[id] }) { return known }
        guard claimWalk(force: false) else { return nil }
        let found = walk()
        return withLock {
            pathsByID.merge(found) { _, walked in walked }
            return pathsByID[id]
        }
    }

    /// Records a cgroup learned elsewhere, e.g. from the cgroup_mkdir tracepoint, so it
    /// resolves even if it is removed before anyone walks the filesystem.
    public func register(id: UInt64, path: String) {
        guard id != 0 else { return }
        let normalised = path.hasPrefix("/") ? path : "/" + path
        withLock { pathsByID[id] = normalised }
    }

    /// Walks the whole cgroup2 tree now, whatever the interval; returns how many cgroups
    /// exist. Call at start-up to know the cgroups of containers already running.
    @discardableResult
    public func rescan() -> Int {
        _ = claimWalk(force: true)
        let found = walk()
        withLock { pathsByID.merge(found) { _, walked in walked } }
        return found.count
    }

    /// How many cgroup ids are known (including those of removed cgroups).
    public var knownCount: Int { withLock { pathsByID.count } }

    /// Every cgroup known now (after a walk): what a trace file records at its start.
    public func allPaths() -> [UInt64: String] {
        _ = rescan()
        return withLock { pathsByID }
    }

    // MARK: - private

    /// Whether this caller may walk now; records the walk's start so others wait their turn.
    private func claimWalk(force: Bool) -> Bool {
        let now = ContinuousClock.now
        return withLock {
            if !force, let lastWalkStart, now - lastWalkStart < minimumRescanInterval { return false }
            lastWalkStart = now
            return true
        }
    }

    /// Every cgroup under the mount: directory inode → path. Runs without the lock; a
    /// cgroup removed mid-walk is skipped.
    private func walk() -> [UInt64: String] {
        var found: [UInt64: String] = [:]
        var pending: [(directory: String, cgroup: String, depth: Int)] = [(mount.mountPoint, mount.root, 0)]
        while let next = pending.popLast() {
            guard let (inode, entries) = try? HostFiles.openDirectory(next.directory) else { continue }
            found[inode] = next.cgroup
            guard next.depth < Self.maximumDepth else { continue }
            for entry in entries {
                let directory = next.directory + "/" + entry.name
                // Only sub-directories are cgroups; the control files (cgroup.procs, ...) are not.
                guard entry.isDirectory ?? HostFiles.isDirectory(directory) else { continue }
                let cgroup = next.cgroup == "/" ? "/" + entry.name : next.cgroup + "/" + entry.name
                pending.append((directory, cgroup, next.depth + 1))
            }
        }
        return found
    }

    private func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
