/// The mount(2) flags the startup analysis reads, and how it names a mount's kind.
enum MountBits {
    static let readOnly: UInt64 = 1
    static let remount: UInt64 = 32
    static let bind: UInt64 = 4096
    static let move: UInt64 = 8192
    static let unbindable: UInt64 = 1 << 17
    static let `private`: UInt64 = 1 << 18
    static let slave: UInt64 = 1 << 19
    static let shared: UInt64 = 1 << 20
    static let propagation: UInt64 = unbindable | `private` | slave | shared

    static func propagationName(_ flags: UInt64) -> String {
        if flags & shared != 0 { return "shared" }
        if flags & slave != 0 { return "slave" }
        if flags & `private` != 0 { return "private" }
        if flags & unbindable != 0 { return "unbindable" }
        return "inherited"
    }

    /// `proc`, `tmpfs`, `overlay`, … for a new filesystem; `bind`, `remount`, `propagation`,
    /// `move` for the other mount(2) uses; the call's name for umount and the new mount API.
    /// Given to `body` as bytes (no String per mount: `MountKindCounts` counts them so).
    static func withKind<R>(_ e: StoredEvent, _ a: EventArena, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        func named(_ s: StaticString) -> R { s.withUTF8Buffer { body(UnsafeRawBufferPointer($0)) } }
        switch e.kind {
        case .mount:
            let f = e.mountFlags
            if f & remount != 0 { return named("remount") }
            if f & bind != 0 { return named("bind") }
            if f & move != 0 { return named("move") }
            if e.fstype.count > 0, !a.equals(e.fstype, "none"), !a.equals(e.fstype, "bind") { return a.withBytes(e.fstype, body) }
            if f & propagation != 0 { return named("propagation") }
            return named("other")
        case .umount: return named("umount")
        case .pivotRoot: return named("pivot_root")
        default: return a.withBytes(e.name, body)
        }
    }
}

/// A container runtime's command line: `runc [global options] create|run|start|init … ID`.
struct RuntimeInvocation {
    var runtime: String
    var subcommand: String?
    /// The runtime re-executing its sealed copy (/proc/self/exe, /dev/fd/N, memfd).
    var isReexec: Bool

    /// Global options of runc and crun that take a value (`--root DIR`).
    static let valued: Set<String> = ["--root", "--log", "--log-format", "--criu", "--rootless", "--cgroup-manager"]
    static let subcommands: Set<String> = ["create", "run", "start", "init", "exec", "delete", "kill", "state",
                                           "spec", "ps", "pause", "resume", "update", "features", "events", "list"]

    /// nil unless the program is runc or crun (by its argv[0] or filename).
    init?(argv: [String], filename: String?) {
        let argv0 = argv.first.map(Self.basename) ?? ""
        let file = filename.map(Self.basename) ?? ""
        guard let rt = ["runc", "crun"].first(where: { argv0 == $0 || file == $0 }) else { return nil }
        runtime = rt
        subcommand = Self.subcommand(argv)
        let path = filename ?? ""
        isReexec = path.hasPrefix("/dev/fd/") || path.hasPrefix("/proc/self/") || path.hasPrefix("/memfd:")
    }

    static func subcommand(_ argv: [String]) -> String? {
        var i = 1
        while i < argv.count {
            let a = argv[i]
            if valued.contains(a) { i += 2; continue }
            if a.hasPrefix("-") { i += 1; continue }
            return subcommands.contains(a) ? a : nil
        }
        return nil
    }

    static func basename(_ s: String) -> String {
        guard let slash = s.lastIndex(of: "/") else { return s }
        return String(s[s.index(after: slash)...])
    }
}
