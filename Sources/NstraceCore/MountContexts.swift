/// The new mount API names what it mounts through descriptors: fsopen gives a filesystem
/// context fd, fsconfig sets its source, fsmount turns it into a detached mount fd, open_tree
/// clones a tree into one, and move_mount attaches it. This links them per process, so that
/// move_mount can say what was mounted (`mounted` in JSON, `tmpfs on /x` in text).
///
/// close(2) is not traced: a table entry lives until its fd number is given out again by
/// one of these calls, or the table is full (then it starts afresh).
public final class MountContexts {
    public struct Context: Equatable, Sendable {
        /// fsopen's filesystem name (nil for an open_tree clone).
        public var fstype: [UInt8]?
        /// fsconfig's `source`, or the tree open_tree cloned.
        public var source: [UInt8]?
    }

    private struct Key: Hashable { var pid: UInt32; var fd: Int32 }
    private var contexts: [Key: Context] = [:]
    private var mounts: [Key: Context] = [:]
    static let limit = 16384

    public init() {}

    /// What move_mount `ev` moves, when its source is a mount fd this process made.
    public func mounted(by ev: EventView) -> Context? {
        guard ev.type == .moveMount, ev.stringLength(0) == 0 else { return nil }
        return mounts[Key(pid: ev.pid, fd: ev.moveMount.fromDfd)]
    }

    public func learn(_ ev: EventView) {
        guard !ev.failed else { return }
        switch ev.type {
        case .fsopen:
            guard !ev.isTruncated(slot: 0) else { return }
            put(&contexts, Key(pid: ev.pid, fd: Int32(truncatingIfNeeded: ev.ret)), Context(fstype: Array(ev.string(0)), source: nil))
        case .fsconfig:
            // FSCONFIG_SET_STRING "source"
            let call = ev.fsconfig
            let key = Key(pid: ev.pid, fd: call.fd)
            guard call.command == .setString, ev.string(0).elementsEqual("source".utf8), !ev.isTruncated(slot: 1),
                  contexts[key] != nil else { return }
            contexts[key]?.source = Array(ev.string(1))
        case .fsmount:
            guard let c = contexts[Key(pid: ev.pid, fd: ev.fsmount.fsFD)] else { return }
            put(&mounts, Key(pid: ev.pid, fd: Int32(truncatingIfNeeded: ev.ret)), c)
        case .openTree:
            let arg = PathArgument.forSlot(0, of: .openTree)
            let source = arg.flatMap { ResolvedPath.of(ev, $0) }.flatMap { $0.truncated ? nil : $0.path }
                ?? (ev.string(0).first == 0x2F && !ev.isTruncated(slot: 0) ? Array(ev.string(0)) : nil)
            put(&mounts, Key(pid: ev.pid, fd: Int32(truncatingIfNeeded: ev.ret)), Context(fstype: nil, source: source))
        default:
            break
        }
    }

    private func put(_ table: inout [Key: Context], _ key: Key, _ value: Context) {
        if table.count >= Self.limit { table.removeAll(keepingCapacity: true) }
        table[key] = value
    }

    /// `,"mounted":{"fstype":…,"source":…}` for a move_mount of a known mount fd.
    public func appendJSON(_ ev: EventView, into out: inout OutputBuffer) {
        guard let c = mounted(by: ev) else { return }
        out.append(",\"mounted\":{\"fstype\":")
        if let f = c.fstype { out.appendJSONString(f) } else { out.append("null") }
        out.append(",\"source\":")
        if let s = c.source { out.appendJSONString(s) } else { out.append("null") }
        out.append(byte: 0x7D)
    }

    /// ` (tmpfs "src")`: what a move_mount moved, after the text detail.
    public func appendText(_ ev: EventView, into out: inout OutputBuffer) {
        guard let c = mounted(by: ev) else { return }
        out.append(" (mounted:")
        if let f = c.fstype {
            out.append(byte: 0x20)
            f.withUnsafeBytes { out.appendTextEscaped($0) }
        }
        if let s = c.source {
            out.append(" from ")
            s.withUnsafeBytes { out.appendTextEscaped($0) }
        }
        out.append(byte: 0x29)
    }
}
