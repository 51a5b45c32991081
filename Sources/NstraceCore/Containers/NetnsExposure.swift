#if canImport(Glibc)
import Glibc
#endif

public enum NetnsExposureError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidName(String)
    /// /run/netns/NAME exists and is something else.
    case nameTaken(path: String)
    /// Nothing called NAME is exposed.
    case notExposed(path: String)
    /// It is there but is not a network namespace (nor a leftover link or empty file).
    case notANamespace(path: String)
    /// It is there and is something else (`what`: "a regular file", "a directory", …): never
    /// exposed onto, never removed.
    case occupied(path: String, what: String)
    case processExited(pid: Int32)
    case systemCall(call: String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case .invalidName(let name):
            return "invalid netns name \(name.debugDescription): it must be a file name (no '/', not '.' or '..', at most 255 bytes)"
        case .nameTaken(let path):
            return "\(path) already exists and is another network namespace; choose another NAME or run 'nstrace netns unexpose' first"
        case .notExposed(let path):
            return "\(path) does not exist"
        case .notANamespace(let path):
            return "\(path) is not a network namespace mount; left alone"
        case .occupied(let path, let what):
            return "\(path) is \(what), not a network namespace; left alone (choose another NAME)"
        case .processExited(let pid):
            return "process \(pid) exited"
        case .systemCall(let call, let path, let code):
            return "\(call) \(path) failed: \(HostFiles.describe(errno: code))"
        }
    }
}

/// Makes a network namespace usable by `ip netns exec NAME …`, the way `ip netns attach
/// NAME PID` does, and undoes it the way `ip netns delete NAME` does:
/// 1. `mkdir /run/netns` (0755); under an exclusive flock of it, make it a shared mount,
///    turning it into a mount point first (a recursive bind mount of itself) when it is
///    not one, so later umounts propagate to other mount namespaces;
/// 2. create `/run/netns/NAME` (O_EXCL, mode 0) and bind-mount the namespace onto it.
/// The namespace is bound from an open descriptor of /proc/PID/ns/net that was checked to
/// be the expected inode, so a pid reused in between cannot expose the wrong namespace.
/// Removal: `umount2(MNT_DETACH)` and unlink, which `ip netns delete` also does.
public struct NetnsExposure: Sendable {
    public var runDirectory: String

    public init(runDirectory: String = "/run/netns") {
        self.runDirectory = runDirectory
    }

    /// The names `ip netns` accepts (iproute2's `invalid_name`).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255 && !name.contains("/") && name != "." && name != ".." && !name.utf8.contains(0)
    }

    public enum ExposeResult: Sendable, Hashable {
        case exposed(path: String)
        /// The name already shows this very namespace: nothing to do.
        case alreadyExposed(path: String)
    }

    /// Exposes the network namespace of `pid`, which must be inode `expectedInode`.
    public func expose(pid: Int32, expectedInode: UInt64, name: String) throws(NetnsExposureError) -> ExposeResult {
        guard Self.isValidName(name) else { throw .invalidName(name) }
        let path = "\(runDirectory)/\(name)"

        let source = "/proc/\(pid)/ns/net"
        let namespaceFD = open(source, O_RDONLY | O_CLOEXEC)
        if namespaceFD < 0 {
            let code = errno
            if code == ENOENT || code == ESRCH { throw .processExited(pid: pid) }
            throw .systemCall(call: "open", path: source, errno: code)
        }
        defer { _ = close(namespaceFD) }
        var info = stat()
        guard fstat(namespaceFD, &info) == 0 else { throw .systemCall(call: "fstat", path: source, errno: errno) }
        guard UInt64(info.st_ino) == expectedInode else { throw .processExited(pid: pid) }

        var existing = stat()
        if lstat(path, &existing) == 0 {
            // only a namespace is "another namespace": a file, directory or link is named as such
            guard Self.isNamespaceFile(path) else { throw .occupied(path: path, what: Self.describe(path, existing)) }
            if Self.inode(of: path) == expectedInode { return .alreadyExposed(path: path) }
            throw .nameTaken(path: path)
        }

        try prepareRunDirectory()

        let file = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0)
        if file < 0 {
            let code = errno
            if code == EEXIST { throw .nameTaken(path: path) }
            throw .systemCall(call: "create", path: path, errno: code)
        }
        _ = close(file)
        if mount("/proc/self/fd/\(namespaceFD)", path, "none", UInt(MS_BIND), nil) != 0 {
            let code = errno
            _ = unlink(path)
            throw .systemCall(call: "bind mount of \(source) on", path: path, errno: code)
        }
        return .exposed(path: path)
    }

    /// Removes what `expose` (or `ip netns add/attach`, or a symlink made by hand) put at NAME.
    public func unexpose(name: String) throws(NetnsExposureError) {
        guard Self.isValidName(name) else { throw .invalidName(name) }
        let path = "\(runDirectory)/\(name)"
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { throw .notExposed(path: path) }
            throw .systemCall(call: "lstat", path: path, errno: errno)
        }
        // Only what provably is a network namespace name is removed: a link to a namespace
        // (`ln -s /proc/PID/ns/net`), an nsfs bind mount, or the empty mode-0 file that
        // expose and `ip netns add` create before mounting (left by an interruption).
        let type = info.st_mode & S_IFMT
        if type == S_IFLNK {
            guard Self.isNamespaceFile(path) else { throw .occupied(path: path, what: Self.describe(path, info)) }
        } else if Self.isMountPoint(path) {
            guard Self.isNamespaceFile(path) else { throw .notANamespace(path: path) }
            if umount2(path, Int32(MNT_DETACH)) != 0 {
                throw .systemCall(call: "umount", path: path, errno: errno)
            }
        } else {
            guard type == S_IFREG, info.st_size == 0, info.st_mode & 0o7777 == 0 else {
                throw .occupied(path: path, what: Self.describe(path, info))
            }
        }
        if unlink(path) != 0 {
            throw .systemCall(call: "unlink", path: path, errno: errno)
        }
    }

    // MARK: - private

    private func prepareRunDirectory() throws(NetnsExposureError) {
        if mkdir(runDirectory, 0o755) != 0, errno != EEXIST {
            throw .systemCall(call: "mkdir", path: runDirectory, errno: errno)
        }
        // iproute2 locks the directory while it turns it into a shared mount point, so that
        // parallel `ip netns add` do not stack self-bind mounts (Debian bug 949235).
        let lock = open(runDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if lock >= 0 { _ = flock(lock, LOCK_EX) }
        defer {
            if lock >= 0 {
                _ = flock(lock, LOCK_UN)
                _ = close(lock)
            }
        }
        var madeMountPoint = false
        while mount("", runDirectory, "none", UInt(MS_SHARED | MS_REC), nil) != 0 {
            let code = errno
            guard code == EINVAL, !madeMountPoint else {
                throw .systemCall(call: "mount --make-shared", path: runDirectory, errno: code)
            }
            if mount(runDirectory, runDirectory, "none", UInt(MS_BIND | MS_REC), nil) != 0 {
                throw .systemCall(call: "mount --bind", path: runDirectory, errno: errno)
            }
            madeMountPoint = true
        }
    }

    /// What a path that is not a namespace is, for the error.
    private static func describe(_ path: String, _ info: stat) -> String {
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFLNK:
            guard let target = try? HostFiles.readLink(path) else { return "a symbolic link" }
            var resolved = stat()
            if stat(path, &resolved) != 0 { return "a dangling symbolic link to \(target)" }
            return "a symbolic link to \(target)"
        case S_IFREG:
            return info.st_size == 0 ? "an empty file (mode \(String(info.st_mode & 0o7777, radix: 8)), not made by expose)" : "a regular file"
        default: return "a special file"
        }
    }

    private static func inode(of path: String) -> UInt64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt64(info.st_ino)
    }

    /// Whether something is mounted on `path` in our mount namespace (mountinfo lists the
    /// resolved path: /run/netns/x also for /var/run/netns/x).
    static func isMountPoint(_ path: String) -> Bool {
        guard let text = try? HostFiles.readText("/proc/self/mountinfo") else { return false }
        var resolved = path
        if let real = realpath(path, nil) {
            resolved = String(cString: real)
            free(real)
        }
        return MountInfo.parse(text).entries.contains { $0.mountPoint == resolved || $0.mountPoint == path }
    }

    /// Whether `path` is a namespace file: on nsfs, the filesystem of /proc/self/ns/net's target.
    private static func isNamespaceFile(_ path: String) -> Bool {
        var info = stat()
        var reference = stat()
        guard stat(path, &info) == 0, stat("/proc/self/ns/net", &reference) == 0 else { return false }
        return info.st_dev == reference.st_dev
    }
}
