#if canImport(Glibc)
import Glibc
#endif

/// Where each container's root filesystem lies on the host, learned from its runtime's calls,
/// so that a path resolved on the host can be shown as the container sees it.
///
/// - runc binds the root filesystem onto itself (`mount(rootfs, rootfs, MS_BIND|MS_REC)`) in the
///   new mount namespace before it mounts anything into it; crun likewise.
/// - pivot_root's new root (resolved in the kernel when given as `.`) is the root filesystem;
///   after it, paths in that mount namespace are already the container's.
///
/// Not thread-safe: the event loop owns it.
public final class ContainerRootfs {
    private var rootfs: [String: [UInt8]] = [:]
    /// Mount namespaces whose runtime made pivot_root into the container's root.
    private var pivoted: Set<UInt32> = []
    /// The last container looked up by `withInside` and its root filesystem: events come in
    /// runs of one container, and hashing its id (64 bytes) cost more than the rest.
    private var cachedID: String?
    private var cachedRootfs: [UInt8]?

    public init() {}

    public func rootfs(of id: String) -> [UInt8]? { rootfs[id] }

    /// `rootfs(of:)` through the one-entry cache.
    private func cachedRootfs(of id: String) -> [UInt8]? {
        if id != cachedID {
            cachedID = id
            cachedRootfs = rootfs[id]
        }
        return cachedRootfs
    }

    private func setRootfs(_ path: [UInt8], of id: String) {
        rootfs[id] = path
        cachedID = nil
        cachedRootfs = nil
    }

    /// Whether the mount namespace `inode` is a container's, pivoted into its root.
    func isPivoted(_ inode: UInt32) -> Bool { pivoted.contains(inode) }

    /// A mount namespace created anew: whatever its inode meant before (a pivoted container's
    /// namespace, since gone) is over.
    public func created(mountNamespace inode: UInt32) {
        pivoted.remove(inode)
    }

    /// Learns from one event attributed to `container`.
    public func learn(_ ev: EventView, _ container: ContainerRecord?) {
        guard let container, !ev.failed, ev.type.hasStrings else { return }
        let mnt = ev.ns(NamespaceSlot.mnt.index)
        switch ev.type {
        case .mount:
            // the first bind of an absolute path onto itself, before the pivot (the bytes
            // compared before the set and the dictionary are hashed: most binds are not it;
            // by memcmp: `elementsEqual` went a byte at a time, most of this on every mount)
            guard ev.mount.flags & MountCall.bindFlag != 0, !ev.isTruncated(slot: 1), ev.stringLength(1) > 1,
                  ev.string(1).first == 0x2F, UTF8Search.equals(ev.string(0), ev.string(1)),
                  !pivoted.contains(mnt), rootfs[container.id] == nil else { return }
            setRootfs(Array(ev.string(1)), of: container.id)
        case .pivotRoot:
            if let arg = PathArgument.forSlot(0, of: .pivotRoot), let r = ResolvedPath.of(ev, arg), !r.truncated, !r.detached {
                setRootfs(r.path, of: container.id)
            } else if ev.string(0).first == 0x2F, !ev.isTruncated(slot: 0) {
                setRootfs(Array(ev.string(0)), of: container.id)
            }
            pivoted.insert(mnt)
        default:
            break
        }
    }

    /// The path argument `arg` of `ev` as the container sees it: nil when it is not known to be
    /// inside the container's root filesystem.
    public func inside(_ ev: EventView, _ arg: PathArgument, resolved: ResolvedPath?, container: ContainerRecord?) -> [UInt8]? {
        guard let container else { return nil }
        let path: ResolvedPath
        if let resolved {
            path = resolved
        } else if ev.string(arg.slot).first == 0x2F {
            path = ResolvedPath(path: Array(ev.string(arg.slot)), truncated: ev.isTruncated(slot: arg.slot), detached: false)
        } else {
            return nil
        }
        guard !path.truncated, !path.detached else { return nil }
        if let root = rootfs[container.id], let inside = path.inside(rootfs: root) { return inside }
        // after the pivot the task's root is the container's: what it names is inside
        if pivoted.contains(ev.ns(NamespaceSlot.mnt.index)), ev.type != .pivotRoot { return path.path }
        return nil
    }
}

extension ContainerRootfs {
    /// `inside` without allocating when the path needs no joining (an absolute argument, or
    /// a descriptor the recorder resolved): the bytes are given to `body`, nil when the path
    /// is not known to be inside the container (issue 9: the startup analysis asks this for
    /// every bind, and the arrays `inside` makes were most of its cost).
    func withInside<R>(_ ev: EventView, _ arg: PathArgument, container: ContainerRecord?,
                       _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        guard let container else { return nil }
        let raw = ev.string(arg.slot)
        let path: UnsafeRawBufferPointer
        if let base = ev.resolvedBase(arg.index) {
            // relative to a resolved directory: joined, as `inside` does (rare)
            guard raw.first == 0x2F else {
                return inside(ev, arg, resolved: ResolvedPath.of(ev, arg), container: container).map { $0.withUnsafeBytes(body) }
            }
            let flags = ev.pathFlags(arg.index)
            guard flags & (PathLayout.truncated | PathLayout.detached) == 0, !ev.isTruncated(slot: arg.slot) else { return nil }
            path = base
        } else {
            guard raw.first == 0x2F, !ev.isTruncated(slot: arg.slot) else { return nil }
            path = raw
        }
        // `ResolvedPath.inside(rootfs:)` on the bytes
        if let root = cachedRootfs(of: container.id), !root.isEmpty {
            let found: R?? = root.withUnsafeBytes { r in
                let root = r.last == 0x2F ? UnsafeRawBufferPointer(rebasing: r.dropLast()) : r
                if UTF8Search.equals(path, root) { return Optional(Self.slash(body)) }
                guard path.count > root.count, UTF8Search.hasPrefix(path, bytes: root), path[root.count] == 0x2F else { return nil }
                return Optional(body(UnsafeRawBufferPointer(rebasing: path[root.count...])))
            }
            if let found { return found }
        }
        // after the pivot the task's root is the container's: what it names is inside
        if isPivoted(ev.ns(NamespaceSlot.mnt.index)), ev.type != .pivotRoot { return body(path) }
        return nil
    }

    private static func slash<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        ("/" as StaticString).withUTF8Buffer { body(UnsafeRawBufferPointer($0)) }
    }
}

/// The `paths` JSON member and the text form of path arguments (docs/events.md).
public enum PathOutput {
    /// `,"paths":{"target":{"resolved":…,"in_container":…,"truncated":…,"detached":…,"failed":…}}`
    /// for a mount-family event; nothing for other events or records without nst_paths.
    public static func appendJSON(_ ev: EventView, rootfs: ContainerRootfs, container: ContainerRecord?,
                                  into out: inout OutputBuffer) {
        guard ev.type.hasPaths else { return }
        out.append(",\"paths\":{")
        var first = true
        for arg in PathArgument.of(ev.type) where !ev.stringIsNull(slot: arg.slot) && !ev.stringFault(slot: arg.slot) {
            let resolved = ResolvedPath.of(ev, arg)
            let absolute = ev.string(arg.slot).first == 0x2F && !isProcFD(ev.string(arg.slot))
            // a mount source that is no path (a device or fs name) is not resolved and says nothing
            if arg.slot == 0 && ev.type == .mount && resolved == nil && !absolute { continue }
            if !first { out.append(byte: 0x2C) }
            first = false
            out.append(byte: 0x22)
            out.append(arg.name)
            out.append("\":{\"resolved\":")
            if let resolved {
                out.appendJSONString(resolved.path)
            } else if absolute {
                out.appendJSONString(ev.string(arg.slot))
            } else {
                out.append("null")
            }
            out.append(",\"in_container\":")
            if let inside = rootfs.inside(ev, arg, resolved: resolved, container: container) {
                out.appendJSONString(inside)
            } else {
                out.append("null")
            }
            out.append(",\"truncated\":")
            out.append((resolved?.truncated ?? (absolute && ev.isTruncated(slot: arg.slot))) ? "true" : "false")
            out.append(",\"detached\":")
            out.append(resolved?.detached == true ? "true" : "false")
            out.append(",\"failed\":")
            out.append(ResolvedPath.failed(ev, arg) ? "true" : "false")
            out.append(byte: 0x7D)
        }
        out.append(byte: 0x7D)
    }

    /// Text: the path the container sees, else the resolved host path, in place of the raw
    /// argument; false (nothing appended) when the raw argument says as much.
    public static func appendText(_ ev: EventView, slot: Int, rootfs: ContainerRootfs, container: ContainerRecord?,
                                  into out: inout OutputBuffer) -> Bool {
        guard ev.type.hasPaths, let arg = PathArgument.forSlot(slot, of: ev.type),
              !ev.stringIsNull(slot: slot), !ev.stringFault(slot: slot) else { return false }
        let resolved = ResolvedPath.of(ev, arg)
        // a mount's source is the host's (a bind of /home): only its descriptor is resolved
        let source = ev.type == .mount && slot == 0
        if !source, let inside = rootfs.inside(ev, arg, resolved: resolved, container: container) {
            inside.withUnsafeBytes { out.appendTextEscaped($0) }
            return true
        }
        guard let resolved else { return false }
        if resolved.truncated { out.append("…") }
        if resolved.detached { out.append("<detached>") }
        resolved.path.withUnsafeBytes { out.appendTextEscaped($0) }
        return true
    }

    static func isProcFD(_ s: UnsafeRawBufferPointer) -> Bool {
        s.starts(with: "/proc/self/fd/".utf8) || s.starts(with: "/proc/thread-self/fd/".utf8)
    }
}
