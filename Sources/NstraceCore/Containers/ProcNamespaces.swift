#if canImport(Glibc)
import Glibc
#endif

/// The namespace inodes of one process, as /proc/PID/ns/ showed them when read.
public struct ProcNamespaceInodes: Sendable, Hashable {
    public let pid: Int32
    /// Inodes by link; a link is absent when the running kernel lacks that namespace type
    /// (e.g. `time` before Linux 5.6).
    public private(set) var inodes: [ProcNamespaceLink: UInt64]

    public init(pid: Int32, inodes: [ProcNamespaceLink: UInt64]) {
        self.pid = pid
        self.inodes = inodes
    }

    public subscript(link: ProcNamespaceLink) -> UInt64? { inodes[link] }

    /// The same as a fixed-size set (inodes are 32-bit: the kernel's ns inum is).
    public var set: NamespaceSet {
        var set = NamespaceSet()
        for (slot, inode) in inodes { set[slot] = UInt32(truncatingIfNeeded: inode) }
        return set
    }
}

/// Reads namespace inodes from /proc/PID/ns and lists processes.
///
/// A process can exit at any moment: each read either gives what the kernel showed or a
/// `ProcReadError` naming the process and what failed (`.processExited` for one that
/// is gone), never a crash and never a half-guessed value.
public enum ProcNamespaces {
    /// All namespace inodes of `pid` (links the kernel does not have are left out).
    public static func read(pid: Int32, procRoot: String = "/proc") throws(ProcReadError) -> ProcNamespaceInodes {
        var inodes: [ProcNamespaceLink: UInt64] = [:]
        for link in ProcNamespaceLink.allCases {
            if let inode = try inode(of: link, pid: pid, procRoot: procRoot) {
                inodes[link] = inode
            }
        }
        return ProcNamespaceInodes(pid: pid, inodes: inodes)
    }

    /// The inode of one namespace of `pid`, or nil when this kernel has no such link.
    public static func inode(of link: ProcNamespaceLink, pid: Int32, procRoot: String = "/proc") throws(ProcReadError) -> UInt64? {
        let path = "\(procRoot)/\(pid)/ns/\(link.rawValue)"
        let target: String
        do {
            target = try HostFiles.readLink(path)
        } catch {
            // The ns directory exists while the process does; a missing link in it means
            // the kernel does not know this namespace type.
            if error.errno == ENOENT, HostFiles.exists("\(procRoot)/\(pid)/ns"), !HostFiles.exists(path) {
                return nil
            }
            throw ProcReadError.from(error, pid: pid, procRoot: procRoot)
        }
        guard let parsed = parseLinkTarget(target), parsed.type == link.kernelTypeName else {
            throw ProcReadError(pid: pid, path: path, reason: .malformed(target))
        }
        return parsed.inode
    }

    /// Splits a namespace link target such as `net:[4026531840]` into type and inode.
    public static func parseLinkTarget(_ target: String) -> (type: String, inode: UInt64)? {
        guard let colon = target.firstIndex(of: ":") else { return nil }
        let type = target[..<colon]
        let rest = target[target.index(after: colon)...]
        guard !type.isEmpty, rest.hasPrefix("["), rest.hasSuffix("]") else { return nil }
        let digits = rest.dropFirst().dropLast()
        guard !digits.isEmpty,
              digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let inode = UInt64(digits)
        else { return nil }
        return (String(type), inode)
    }

    /// The PIDs (thread-group ids) in /proc now, ascending. Empty when /proc cannot be read.
    ///
    /// Threads other than group leaders are not listed by /proc's top level (they are
    /// under /proc/PID/task), and share the leader's namespaces unless they unshared.
    public static func allProcesses(procRoot: String = "/proc") -> [Int32] {
        guard let entries = try? HostFiles.list(procRoot) else { return [] }
        return entries.compactMap { entry -> Int32? in
            guard let first = entry.name.utf8.first, first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9"),
                  entry.name.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
            else { return nil }
            return Int32(entry.name)
        }.sorted()
    }
}
