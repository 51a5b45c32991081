import NstraceABI

/// Paths a mount-family call named through a descriptor, as the kernel resolved them at
/// syscall entry (struct nst_paths, ABI 3; see nstrace_abi.h).
///
/// Two resolved paths per record, `nst_paths.path[0]` and `[1]`. Each belongs to one string
/// argument (`PathArgument`): the raw argument stays in `args`, the resolved form is the
/// descriptor's path joined with the argument's relative part.
public struct PathArgument: Sendable, Equatable {
    /// 0 or 1: the index into nst_paths.
    public let index: Int
    /// The string slot of the raw argument.
    public let slot: Int
    /// Its JSON name (the `args` key).
    public let name: StaticString

    public static func == (a: PathArgument, b: PathArgument) -> Bool { a.index == b.index && a.slot == b.slot }

    /// The arguments of an event type that BPF resolves (see nstrace_abi.h).
    public static func of(_ type: EventType) -> [PathArgument] {
        switch type {
        case .mount: [PathArgument(index: 0, slot: 0, name: "source"), PathArgument(index: 1, slot: 1, name: "target")]
        case .umount: [PathArgument(index: 1, slot: 0, name: "target")]
        case .pivotRoot: [PathArgument(index: 0, slot: 0, name: "new_root"), PathArgument(index: 1, slot: 1, name: "put_old")]
        case .moveMount: [PathArgument(index: 0, slot: 0, name: "from_path"), PathArgument(index: 1, slot: 1, name: "to_path")]
        case .openTree: [PathArgument(index: 0, slot: 0, name: "filename")]
        case .mountSetattr: [PathArgument(index: 1, slot: 0, name: "path")]
        default: []
        }
    }

    /// The argument whose raw string is in `slot`, if the type resolves it.
    public static func forSlot(_ slot: Int, of type: EventType) -> PathArgument? {
        of(type).first { $0.slot == slot }
    }
}

public enum PathLayout {
    public static let offset = EventLayout.recordSizeWithStrings
    public static let len = offset          // 2 × u16
    public static let flags = offset + 4    // u16
    public static let paths = offset + 8    // 2 × NST_PATH_LEN
    public static let pathSize = Int(NST_PATH_LEN)
    public static let recordSize = offset + 8 + 2 * Int(NST_PATH_LEN)
    public static let resolved = UInt16(NST_P_RESOLVED)
    public static let truncated = UInt16(NST_P_TRUNC)
    public static let failed = UInt16(NST_P_FAIL)
    public static let detached = UInt16(NST_P_DETACHED)
}

extension EventType {
    /// Records of this type end in struct nst_paths (ABI 3).
    @inlinable public var hasPaths: Bool { nst_event_has_paths(rawValue) != 0 }
}

extension EventView {
    /// The record carries struct nst_paths (a mount-family record of ABI 3).
    @inlinable public var hasPaths: Bool { type.hasPaths && bytes.count >= PathLayout.recordSize }

    /// NST_P_* bits of resolved path `index` (0 without paths).
    @inlinable
    public func pathFlags(_ index: Int) -> UInt16 {
        guard hasPaths else { return 0 }
        let all = bytes.loadUnaligned(fromByteOffset: PathLayout.flags, as: UInt16.self)
        return (all >> UInt16(4 * index)) & 0xF
    }

    /// The path the kernel resolved for `index` (the descriptor's, or the cwd's), or nil.
    @inlinable
    public func resolvedBase(_ index: Int) -> UnsafeRawBufferPointer? {
        guard pathFlags(index) & PathLayout.resolved != 0 else { return nil }
        let n = min(Int(bytes.loadUnaligned(fromByteOffset: PathLayout.len + 2 * index, as: UInt16.self)), PathLayout.pathSize - 1)
        let start = PathLayout.paths + index * PathLayout.pathSize
        return UnsafeRawBufferPointer(rebasing: bytes[start ..< start + n])
    }
}

/// The resolved form of one path argument: the descriptor's path, and the argument's own
/// relative part joined to it (`.` and empty parts dropped, `..` taken lexically).
public struct ResolvedPath: Equatable, Sendable {
    public var path: [UInt8]
    /// The walk was cut (too deep, or too long): `path` holds its last components only.
    public var truncated: Bool
    /// The walk ended at the root of a mount tree that is not the task's: a detached mount
    /// (fsmount, open_tree) or a place outside the task's root.
    public var detached: Bool

    /// nil when nothing was resolved for `arg` (an absolute path names itself).
    public static func of(_ ev: EventView, _ arg: PathArgument) -> ResolvedPath? {
        guard let base = ev.resolvedBase(arg.index) else { return nil }
        let flags = ev.pathFlags(arg.index)
        var path = Array(base)
        let raw = ev.string(arg.slot)
        if raw.first != 0x2F { // relative: joined to the directory that was resolved
            path = join(path, Array(raw))
        }
        return ResolvedPath(path: path, truncated: flags & PathLayout.truncated != 0 || ev.isTruncated(slot: arg.slot),
                            detached: flags & PathLayout.detached != 0)
    }

    /// Whether resolving the descriptor `arg` names failed (bad fd).
    public static func failed(_ ev: EventView, _ arg: PathArgument) -> Bool {
        ev.pathFlags(arg.index) & PathLayout.failed != 0
    }

    static func join(_ base: [UInt8], _ rel: [UInt8]) -> [UInt8] {
        var parts = base.split(separator: 0x2F, omittingEmptySubsequences: true).map(Array.init)
        for part in rel.split(separator: 0x2F, omittingEmptySubsequences: true) {
            if part.elementsEqual([0x2E]) { continue }
            if part.elementsEqual([0x2E, 0x2E]) { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(Array(part))
        }
        var out: [UInt8] = []
        for p in parts { out.append(0x2F); out += p }
        return out.isEmpty ? [0x2F] : out
    }

    /// The path as the container sees it, given its root filesystem's host path; nil when the
    /// path is not inside it.
    public func inside(rootfs: [UInt8]) -> [UInt8]? {
        guard !truncated, !detached, !rootfs.isEmpty else { return nil }
        let root = rootfs.last == 0x2F ? Array(rootfs.dropLast()) : rootfs
        if path == root { return [0x2F] }
        guard path.count > root.count, path.starts(with: root), path[root.count] == 0x2F else { return nil }
        return Array(path[root.count...])
    }
}
