/// One mount of a process's table with where its files come from on the host.
public struct DecodedMount: Sendable, Hashable {
    public var entry: MountInfoEntry
    /// The directory on the host (in nstrace's mount namespace) that shows the same files:
    /// for docker's `-v /home:/outside-home`, `/home`. nil when the filesystem is not
    /// mounted on the host (the container's own proc, sysfs, tmpfs, devpts, mqueue, ...).
    public var hostPath: String?
    /// The host mount `hostPath` was found through (its mount point and fstype).
    public var hostMountPoint: String?

    public init(entry: MountInfoEntry, hostPath: String?, hostMountPoint: String?) {
        self.entry = entry
        self.hostPath = hostPath
        self.hostMountPoint = hostMountPoint
    }

    /// `major:minor` of the filesystem.
    public var device: String { "\(entry.deviceMajor):\(entry.deviceMinor)" }
    /// The mount shows a sub-directory of its filesystem: a bind mount (or a subvolume).
    public var isBindMount: Bool { entry.isPartialFilesystem }
}

public enum ContainerMounts {
    /// Decodes `table` (a container's /proc/PID/mountinfo) against `hostTable` (nstrace's
    /// own): device numbers are global, so a mount of the same filesystem on the host, whose
    /// root is a prefix of the container mount's root, shows where its files are.
    /// Among several, the host mount showing the most of the filesystem (shortest root,
    /// then shortest mount point) wins: `/` of /dev/vda rather than a bind of /dev/vda's /srv.
    public static func decode(_ table: MountTable, hostTable: MountTable) -> [DecodedMount] {
        var hostByDevice: [UInt64: [MountInfoEntry]] = [:]
        for entry in hostTable.entries {
            hostByDevice[deviceKey(entry), default: []].append(entry)
        }
        for key in hostByDevice.keys {
            hostByDevice[key]?.sort { ($0.root.utf8.count, $0.mountPoint.utf8.count, $0.mountID) < ($1.root.utf8.count, $1.mountPoint.utf8.count, $1.mountID) }
        }
        return table.entries.map { entry in
            guard let candidates = hostByDevice[deviceKey(entry)] else {
                return DecodedMount(entry: entry, hostPath: nil, hostMountPoint: nil)
            }
            for host in candidates {
                guard let rest = relativePath(entry.root, under: host.root) else { continue }
                return DecodedMount(entry: entry, hostPath: join(host.mountPoint, rest), hostMountPoint: host.mountPoint)
            }
            return DecodedMount(entry: entry, hostPath: nil, hostMountPoint: nil)
        }
    }

    /// `path` relative to `base` ("" for the same path), nil when not below it.
    static func relativePath(_ path: String, under base: String) -> String? {
        if base == "/" { return String(path.drop { $0 == "/" }) }
        if path == base { return "" }
        guard path.hasPrefix(base), path.dropFirst(base.count).first == "/" else { return nil }
        return String(path.dropFirst(base.count + 1))
    }

    static func join(_ directory: String, _ relative: String) -> String {
        if relative.isEmpty { return directory }
        return directory == "/" ? "/" + relative : directory + "/" + relative
    }

    private static func deviceKey(_ entry: MountInfoEntry) -> UInt64 {
        UInt64(entry.deviceMajor) << 32 | UInt64(entry.deviceMinor)
    }
}
