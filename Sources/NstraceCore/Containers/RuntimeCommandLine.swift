/// Which container a container runtime process works on, from its command line — the only
/// place that names the container before its cgroup exists (and after it is gone).
///
///     runc --root /run/containerd/runc/moby --log … create --bundle … <id>   → docker <id>
///     runc --root /run/containerd/runc/default … create --bundle … <id>       → containerd default/<id>
///     runc run -d --pid-file p -b bundle <id>                                  → runc <id>
///     crun --root /run/crun … create --bundle …/overlay-containers/<id>/userdata … <id> → podman <id>
///     containerd-shim-runc-v2 -namespace moby -id <id> -address …              → docker <id>
///     conmon --api-version 1 -c <id> -u <id> -r /usr/bin/crun …                → podman <id>
public enum RuntimeCommandLine {
    /// runc/crun subcommands that act on one container, named by the last argument.
    static let containerSubcommands: Set<String> = [
        "create", "run", "start", "exec", "delete", "kill", "state", "pause", "resume", "update",
        "checkpoint", "restore", "ps", "events",
    ]

    public static func identify(filename: String, argv: [String]) -> ContainerIdentity? {
        identify(filename: filename, arguments: ExecArguments(argv))
    }

    /// From an argv that may have been cut: an id is taken only from an argument known whole
    /// (a cut argv gives nil rather than a prefix of the id).
    public static func identify(filename: String, arguments: ExecArguments) -> ContainerIdentity? {
        guard let first = arguments.head.first ?? (arguments.cut ? nil : arguments.tail.first) else {
            return arguments.cut && !filename.isEmpty ? identifyCut(filename: filename, arguments) : nil
        }
        let program = basename(first.isEmpty ? filename : first)
        if program.hasPrefix("containerd-shim") { return shim(arguments) }
        if program == "conmon" { return conmon(arguments) }
        if program == "ctr" { return ctr(arguments) }
        let file = basename(filename)
        if program == "runc" || program == "crun" || program == "youki" || file == "runc" || file == "crun" {
            return ociRuntime(program: file.isEmpty ? program : file, arguments)
        }
        return nil
    }

    /// argv[0] itself was cut: only the program's file name says what it is.
    private static func identifyCut(filename: String, _ arguments: ExecArguments) -> ContainerIdentity? {
        let program = basename(filename)
        if program == "runc" || program == "crun" { return ociRuntime(program: program, arguments) }
        return nil
    }

    static func ociRuntime(program: String, _ arguments: ExecArguments) -> ContainerIdentity? {
        guard let id = containerArgument(arguments), !id.hasPrefix("-"), isPlausibleID(id) else { return nil }
        let root = arguments.value(of: ["--root"])
        let bundle = arguments.value(of: ["--bundle", "-b"]) ?? ""
        if let root, let ns = containerdNamespace(fromRoot: root) {
            return ns == "moby" ? ContainerIdentity(id: id, runtime: .docker, containerdNamespace: ns)
                                : ContainerIdentity(id: id, runtime: .containerd, containerdNamespace: ns)
        }
        if bundle.utf8Contains("/overlay-containers/") || bundle.utf8Contains("/libpod/") || (root ?? "").utf8Contains("libpod") {
            return ContainerIdentity(id: id, runtime: .podman)
        }
        if bundle.utf8Contains("/crio/") || (root ?? "").utf8Contains("crio") {
            return ContainerIdentity(id: id, runtime: .crio)
        }
        return ContainerIdentity(id: id, runtime: program == "crun" ? .crun : .runc)
    }

    /// Subcommands whose container argument is their last one (`exec` only with `--process`:
    /// otherwise the command to run follows it, as a signal follows `kill`'s).
    static let idLast: Set<String> = ["create", "run", "start", "delete", "state", "pause", "resume"]
    /// Options of the runc/crun subcommands that take a value as the next argument.
    static let valued: Set<String> = [
        "--bundle", "-b", "--console-socket", "--pid-file", "--preserve-fds", "--cwd", "--env", "-e", "--user", "-u",
        "--additional-gids", "-g", "--process", "-p", "--process-label", "--apparmor", "--cap", "-c", "--cgroup",
        "--interval", "--image-path", "--work-path", "--parent-path", "--page-server", "--manage-cgroups-mode",
        "--empty-ns", "--status-fd", "--lsm-profile", "--lsm-mount-context", "--resources", "-r", "--config", "--format",
    ]
    /// Options that take none.
    static let boolean: Set<String> = [
        "--detach", "-d", "--tty", "-t", "--no-new-privs", "--ignore-paused", "--no-subreaper", "--no-pivot",
        "--no-new-keyring", "--keep", "--all", "-a", "--force", "-f", "--stats", "--leave-running", "--tcp-established",
        "--ext-unix-sk", "--shell-job", "--lazy-pages", "--file-locks", "--pre-dump", "--auto-dedup", "--skip-in-flight",
        "--link-remap",
    ]

    /// The container a runc/crun command line names: the first argument after the subcommand
    /// and its options (`exec [opts] <id> <cmd>…`, `kill <id> <signal>`). nil rather than a
    /// guess: an option it does not know (its value could be taken for the id), or an argv
    /// cut before the id (then only a subcommand whose id is last takes the tail's last).
    static func containerArgument(_ a: ExecArguments) -> String? {
        let search: ArraySlice<String>
        let subcommand: String
        if let sub = a.head.dropFirst().firstIndex(where: { containerSubcommands.contains($0) }) {
            search = a.head[(sub + 1)...]
            subcommand = a.head[sub]
        } else if a.cut, let sub = a.tail.firstIndex(where: { containerSubcommands.contains($0) }) {
            return firstPositional(a.tail[(sub + 1)...], subcommand: a.tail[sub]).id // the tail runs to the end
        } else {
            return nil
        }
        let found = firstPositional(search, subcommand: subcommand)
        if found.id != nil || found.refused || !a.cut { return found.id }
        let last = idLast.contains(subcommand) || (subcommand == "exec" && a.value(of: ["--process", "-p"]) != nil)
        return last ? a.tail.last : nil
    }

    /// The first argument that is no option or option value; `refused` for an unknown option.
    static func firstPositional(_ args: ArraySlice<String>, subcommand: String) -> (id: String?, refused: Bool) {
        var i = args.startIndex
        while i < args.endIndex {
            let a = args[i]
            if a == "--" { return (i + 1 < args.endIndex ? args[i + 1] : nil, false) }
            // bytes, not Characters (as the runtimes' own option parsers read them)
            guard a.utf8.first == 0x2D, a.utf8.count > 1 else { return (a, false) }
            if a.utf8.contains(0x3D) { i += 1; continue }
            if subcommand == "ps" && a == "-f" { i += 2; continue } // ps -f is --format
            if valued.contains(a) { i += 2; continue }
            if boolean.contains(a) { i += 1; continue }
            return (nil, true)
        }
        return (nil, false)
    }

    /// ctr's options of `run` that take no value (any other option takes one).
    static let ctrBoolean: Set<String> = [
        "--rm", "-d", "--detach", "-t", "--tty", "--null-io", "--net-host", "--privileged", "--read-only", "--rootfs",
        "--cni", "--seccomp", "--allow-new-privs", "--remap-labels", "--no-pivot", "--privileged-without-host-devices",
        "--sandbox", "--debug",
    ]

    /// `ctr [-n NS] run [options] IMAGE ID [COMMAND…]`: the second argument after the options.
    /// An option ctr does not document as valueless is taken to have a value in the next
    /// argument only when written `--opt value`; the whole argv must be there.
    static func ctr(_ arguments: ExecArguments) -> ContainerIdentity? {
        guard !arguments.cut, let run = arguments.head.dropFirst().firstIndex(of: "run") else { return nil }
        var positional: [String] = []
        var i = run + 1
        let args = arguments.head
        while i < args.count, positional.count < 2 {
            let a = args[i]
            if a == "--" { positional += args[(i + 1)...].prefix(2 - positional.count); break }
            if a.utf8.first == 0x2D && a.utf8.count > 1 {
                i += a.utf8.contains(0x3D) || ctrBoolean.contains(a) ? 1 : 2
                continue
            }
            positional.append(a)
            i += 1
        }
        guard positional.count == 2, isPlausibleID(positional[1]) else { return nil }
        let ns = value(of: ["-n", "--namespace"], in: args[..<run]) ?? "default"
        return ContainerIdentity(id: positional[1], runtime: .containerd, containerdNamespace: ns)
    }

    static func shim(_ arguments: ExecArguments) -> ContainerIdentity? {
        guard let id = arguments.value(of: ["-id", "--id"]), isPlausibleID(id) else { return nil }
        let ns = arguments.value(of: ["-namespace", "--namespace"])
        return ContainerIdentity(id: id, runtime: ns == "moby" ? .docker : .containerd, containerdNamespace: ns)
    }

    static func conmon(_ arguments: ExecArguments) -> ContainerIdentity? {
        guard let id = arguments.value(of: ["-c", "--cid"]), isPlausibleID(id) else { return nil }
        let crio = arguments.all.contains { $0.utf8Contains("crio") }
        return ContainerIdentity(id: id, runtime: crio ? .crio : .podman)
    }

    /// `/run/containerd/runc/<namespace>` → namespace; dockerd's own `/run/docker/runtime-runc/moby`
    /// (docker 20.10 and later) → `moby`.
    static func containerdNamespace(fromRoot root: String) -> String? {
        let parts = root.split(separator: "/")
        if let i = parts.firstIndex(of: "containerd"), i + 2 < parts.count, parts[i + 1] == "runc" {
            return String(parts[i + 2])
        }
        if let i = parts.firstIndex(of: "docker"), i + 2 < parts.count, parts[i + 1].hasPrefix("runtime-") {
            return String(parts[i + 2])
        }
        return nil
    }

    /// `--flag value` or `--flag=value`; every flag starts with `-`.
    static func value(of flags: [String], in args: ArraySlice<String>) -> String? {
        var i = args.startIndex
        while i < args.endIndex {
            let a = args[i]
            // only an option can match: most arguments are dismissed by their first byte
            if a.utf8.first == 0x2D {
                for f in flags {
                    if a == f, i + 1 < args.endIndex { return args[i + 1] }
                    // `f=` by bytes, without making the string `f + "="`
                    let n = f.utf8.count
                    if a.utf8.count > n, a.utf8.starts(with: f.utf8), a.utf8.dropFirst(n).first == 0x3D {
                        return String(decoding: a.utf8.dropFirst(n + 1), as: UTF8.self)
                    }
                }
            }
            i += 1
        }
        return nil
    }

    static func isPlausibleID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 256 && id.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F || c == 0x2E
        }
    }

    // MARK: a cheap first look, on the record's bytes

    private static let subcommandBytes: [[UInt8]] = containerSubcommands.map { Array($0.utf8) }
    private static let otherProgramBytes: [[UInt8]] = ["conmon", "ctr"].map { Array($0.utf8) }
    private static let shimPrefix = Array("containerd-shim".utf8)

    /// Whether `identify` can find a container in exec `ev` at all: false when neither argv[0]'s
    /// nor the file's name is a shim's, conmon's or ctr's (which name it by their options) and no
    /// other argument is a subcommand of `containerSubcommands` (without one runc and crun name
    /// none). A necessary condition only, read from the bytes without making a String: every
    /// piece of argv and of its tail is compared whole, cut ones too, so it never says false
    /// where `identify` would find an id.
    static func mayName(_ ev: EventView) -> Bool {
        let argv = ev.string(1)
        let first = UnsafeRawBufferPointer(rebasing: argv.prefix { $0 != 0 })
        if isOtherProgram(lastComponent(first)) || isOtherProgram(lastComponent(ev.string(0))) { return true }
        var found = false
        func look(_ piece: UnsafeRawBufferPointer) {
            if !found, subcommandBytes.contains(where: { $0.count == piece.count && UTF8Search.hasPrefix(piece, $0) }) { found = true }
        }
        // argv[0] is no subcommand; the tail's pieces are all looked at (a superset is safe)
        forEachPiece(UnsafeRawBufferPointer(rebasing: argv[min(first.count + 1, argv.count)...]), look)
        if ev.isTruncated(slot: 1) { forEachPiece(ev.string(2), look) }
        return found
    }

    private static func isOtherProgram(_ name: UnsafeRawBufferPointer) -> Bool {
        UTF8Search.hasPrefix(name, shimPrefix)
            || otherProgramBytes.contains { $0.count == name.count && UTF8Search.hasPrefix(name, $0) }
    }

    /// The NUL-separated pieces of `bytes`, the last one also when no NUL ends it.
    private static func forEachPiece(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        for i in 0..<bytes.count where bytes[i] == 0 {
            body(UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
            start = i + 1
        }
        if start < bytes.count { body(UnsafeRawBufferPointer(rebasing: bytes[start..<bytes.count])) }
    }

    /// `basename` on bytes: the last non-empty `/`-separated component (empty when none).
    private static func lastComponent(_ path: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var end = path.count
        while end > 0, path[end - 1] == 0x2F { end -= 1 }
        var start = end
        while start > 0, path[start - 1] != 0x2F { start -= 1 }
        return UnsafeRawBufferPointer(rebasing: path[start..<end])
    }

    /// The last non-empty `/`-separated component (the path itself when it has none), found
    /// on the bytes: splitting a String goes Character by Character.
    static func basename(_ path: String) -> String {
        let bytes = path.utf8
        var end = bytes.endIndex
        while end > bytes.startIndex, bytes[bytes.index(before: end)] == 0x2F { end = bytes.index(before: end) }
        guard end > bytes.startIndex else { return path }
        var start = end
        while start > bytes.startIndex, bytes[bytes.index(before: start)] != 0x2F { start = bytes.index(before: start) }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
