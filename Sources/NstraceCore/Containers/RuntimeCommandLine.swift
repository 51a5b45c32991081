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
    // (The parser reads bytes, `ArgvBytes`: an exec record's arguments are not made Strings,
    // only the id and namespace it keeps. Its names are compared byte for byte, as the
    // runtimes' own option parsers read them.)

    /// runc/crun subcommands that act on one container, named by the last argument.
    static let containerSubcommands: [StaticString] = [
        "create", "run", "start", "exec", "delete", "kill", "state", "pause", "resume", "update",
        "checkpoint", "restore", "ps", "events",
    ]

    public static func identify(filename: String, argv: [String]) -> ContainerIdentity? {
        identify(filename: filename, arguments: ExecArguments(argv))
    }

    /// From an argv that may have been cut: an id is taken only from an argument known whole
    /// (a cut argv gives nil rather than a prefix of the id).
    public static func identify(filename: String, arguments: ExecArguments) -> ContainerIdentity? {
        ArgvBytes.with(filename: filename, arguments) { identify($0) }
    }

    /// The same from exec `ev`'s record.
    static func identify(exec ev: EventView) -> ContainerIdentity? {
        identify(ArgvBytes(exec: ev))
    }

    static func identify(_ arguments: ArgvBytes) -> ContainerIdentity? {
        guard let first = arguments.head.first ?? (arguments.cut ? nil : arguments.tail.first) else {
            return arguments.cut && !arguments.filename.isEmpty ? identifyCut(arguments) : nil
        }
        let program = basename(first.isEmpty ? arguments.filename : first)
        if UTF8Search.hasPrefix(program, "containerd-shim") { return shim(arguments) }
        if UTF8Search.equals(program, "conmon") { return conmon(arguments) }
        if UTF8Search.equals(program, "ctr") { return ctr(arguments) }
        let file = basename(arguments.filename)
        if ArgvBytes.isOne(of: ["runc", "crun", "youki"], program) || ArgvBytes.isOne(of: ["runc", "crun"], file) {
            return ociRuntime(program: file.isEmpty ? program : file, arguments)
        }
        return nil
    }

    /// argv[0] itself was cut: only the program's file name says what it is.
    private static func identifyCut(_ arguments: ArgvBytes) -> ContainerIdentity? {
        let program = basename(arguments.filename)
        if ArgvBytes.isOne(of: ["runc", "crun"], program) { return ociRuntime(program: program, arguments) }
        return nil
    }

    static func ociRuntime(program: UnsafeRawBufferPointer, _ arguments: ArgvBytes) -> ContainerIdentity? {
        guard let id = containerArgument(arguments), id.first != 0x2D, isPlausibleID(id) else { return nil }
        let root = arguments.value(of: ["--root"])
        let bundle = arguments.value(of: ["--bundle", "-b"]) ?? UnsafeRawBufferPointer(start: nil, count: 0)
        let rootBytes = root ?? UnsafeRawBufferPointer(start: nil, count: 0)
        let idString = ArgvBytes.string(id)
        if let root, let ns = containerdNamespace(fromRoot: root) {
            return ns == "moby" ? ContainerIdentity(id: idString, runtime: .docker, containerdNamespace: ns)
                                : ContainerIdentity(id: idString, runtime: .containerd, containerdNamespace: ns)
        }
        if UTF8Search.contains(bundle, "/overlay-containers/") || UTF8Search.contains(bundle, "/libpod/")
            || UTF8Search.contains(rootBytes, "libpod") {
            return ContainerIdentity(id: idString, runtime: .podman)
        }
        if UTF8Search.contains(bundle, "/crio/") || UTF8Search.contains(rootBytes, "crio") {
            return ContainerIdentity(id: idString, runtime: .crio)
        }
        return ContainerIdentity(id: idString, runtime: UTF8Search.equals(program, "crun") ? .crun : .runc)
    }

    /// Subcommands whose container argument is their last one (`exec` only with `--process`:
    /// otherwise the command to run follows it, as a signal follows `kill`'s).
    static let idLast: [StaticString] = ["create", "run", "start", "delete", "state", "pause", "resume"]
    /// Options of the runc/crun subcommands that take a value as the next argument.
    static let valued: [StaticString] = [
        "--bundle", "-b", "--console-socket", "--pid-file", "--preserve-fds", "--cwd", "--env", "-e", "--user", "-u",
        "--additional-gids", "-g", "--process", "-p", "--process-label", "--apparmor", "--cap", "-c", "--cgroup",
        "--interval", "--image-path", "--work-path", "--parent-path", "--page-server", "--manage-cgroups-mode",
        "--empty-ns", "--status-fd", "--lsm-profile", "--lsm-mount-context", "--resources", "-r", "--config", "--format",
    ]
    /// Options that take none.
    static let boolean: [StaticString] = [
        "--detach", "-d", "--tty", "-t", "--no-new-privs", "--ignore-paused", "--no-subreaper", "--no-pivot",
        "--no-new-keyring", "--keep", "--all", "-a", "--force", "-f", "--stats", "--leave-running", "--tcp-established",
        "--ext-unix-sk", "--shell-job", "--lazy-pages", "--file-locks", "--pre-dump", "--auto-dedup", "--skip-in-flight",
        "--link-remap",
    ]

    private static func isSubcommand(_ a: UnsafeRawBufferPointer) -> Bool { ArgvBytes.isOne(of: containerSubcommands, a) }

    /// The container a runc/crun command line names: the first argument after the subcommand
    /// and its options (`exec [opts] <id> <cmd>…`, `kill <id> <signal>`). nil rather than a
    /// guess: an option it does not know (its value could be taken for the id), or an argv
    /// cut before the id (then only a subcommand whose id is last takes the tail's last).
    static func containerArgument(_ a: ArgvBytes) -> UnsafeRawBufferPointer? {
        let search: ArraySlice<UnsafeRawBufferPointer>
        let subcommand: UnsafeRawBufferPointer
        if let sub = a.head.dropFirst().firstIndex(where: isSubcommand) {
            search = a.head[(sub + 1)...]
            subcommand = a.head[sub]
        } else if a.cut, let sub = a.tail.firstIndex(where: isSubcommand) {
            return firstPositional(a.tail[(sub + 1)...], subcommand: a.tail[sub]).id // the tail runs to the end
        } else {
            return nil
        }
        let found = firstPositional(search, subcommand: subcommand)
        if found.id != nil || found.refused || !a.cut { return found.id }
        let last = ArgvBytes.isOne(of: idLast, subcommand) || (UTF8Search.equals(subcommand, "exec") && a.value(of: ["--process", "-p"]) != nil)
        return last ? a.tail.last : nil
    }

    /// The first argument that is no option or option value; `refused` for an unknown option.
    static func firstPositional(_ args: ArraySlice<UnsafeRawBufferPointer>, subcommand: UnsafeRawBufferPointer)
        -> (id: UnsafeRawBufferPointer?, refused: Bool) {
        var i = args.startIndex
        while i < args.endIndex {
            let a = args[i]
            if UTF8Search.equals(a, "--") { return (i + 1 < args.endIndex ? args[i + 1] : nil, false) }
            guard a.first == 0x2D, a.count > 1 else { return (a, false) }
            if a.contains(0x3D) { i += 1; continue }
            if UTF8Search.equals(subcommand, "ps") && UTF8Search.equals(a, "-f") { i += 2; continue } // ps -f is --format
            if ArgvBytes.isOne(of: valued, a) { i += 2; continue }
            if ArgvBytes.isOne(of: boolean, a) { i += 1; continue }
            return (nil, true)
        }
        return (nil, false)
    }

    /// ctr's options of `run` that take no value (any other option takes one).
    static let ctrBoolean: [StaticString] = [
        "--rm", "-d", "--detach", "-t", "--tty", "--null-io", "--net-host", "--privileged", "--read-only", "--rootfs",
        "--cni", "--seccomp", "--allow-new-privs", "--remap-labels", "--no-pivot", "--privileged-without-host-devices",
        "--sandbox", "--debug",
    ]

    /// `ctr [-n NS] run [options] IMAGE ID [COMMAND…]`: the second argument after the options.
    /// An option ctr does not document as valueless is taken to have a value in the next
    /// argument only when written `--opt value`; the whole argv must be there.
    static func ctr(_ arguments: ArgvBytes) -> ContainerIdentity? {
        guard !arguments.cut, let run = arguments.head.dropFirst().firstIndex(where: { UTF8Search.equals($0, "run") }) else { return nil }
        var positional: [UnsafeRawBufferPointer] = []
        var i = run + 1
        let args = arguments.head
        while i < args.count, positional.count < 2 {
            let a = args[i]
            if UTF8Search.equals(a, "--") { positional += args[(i + 1)...].prefix(2 - positional.count); break }
            if a.first == 0x2D && a.count > 1 {
                i += a.contains(0x3D) || ArgvBytes.isOne(of: ctrBoolean, a) ? 1 : 2
                continue
            }
            positional.append(a)
            i += 1
        }
        guard positional.count == 2, isPlausibleID(positional[1]) else { return nil }
        let ns = ArgvBytes.value(of: ["-n", "--namespace"], in: args[..<run]).map(ArgvBytes.string) ?? "default"
        return ContainerIdentity(id: ArgvBytes.string(positional[1]), runtime: .containerd, containerdNamespace: ns)
    }

    static func shim(_ arguments: ArgvBytes) -> ContainerIdentity? {
        guard let id = arguments.value(of: ["-id", "--id"]), isPlausibleID(id) else { return nil }
        let ns = arguments.value(of: ["-namespace", "--namespace"]).map(ArgvBytes.string)
        return ContainerIdentity(id: ArgvBytes.string(id), runtime: ns == "moby" ? .docker : .containerd, containerdNamespace: ns)
    }

    static func conmon(_ arguments: ArgvBytes) -> ContainerIdentity? {
        guard let id = arguments.value(of: ["-c", "--cid"]), isPlausibleID(id) else { return nil }
        let crio = arguments.head.contains { UTF8Search.contains($0, "crio") } || arguments.tail.contains { UTF8Search.contains($0, "crio") }
        return ContainerIdentity(id: ArgvBytes.string(id), runtime: crio ? .crio : .podman)
    }

    /// `/run/containerd/runc/<namespace>` → namespace; dockerd's own `/run/docker/runtime-runc/moby`
    /// (docker 20.10 and later) → `moby`.
    static func containerdNamespace(fromRoot root: UnsafeRawBufferPointer) -> String? {
        let parts = root.split(separator: 0x2F).map { UnsafeRawBufferPointer(rebasing: $0) }
        if let i = parts.firstIndex(where: { UTF8Search.equals($0, "containerd") }), i + 2 < parts.count, UTF8Search.equals(parts[i + 1], "runc") {
            return ArgvBytes.string(parts[i + 2])
        }
        if let i = parts.firstIndex(where: { UTF8Search.equals($0, "docker") }), i + 2 < parts.count, UTF8Search.hasPrefix(parts[i + 1], "runtime-") {
            return ArgvBytes.string(parts[i + 2])
        }
        return nil
    }

    static func isPlausibleID(_ id: String) -> Bool {
        var id = id
        return id.withUTF8 { isPlausibleID(UnsafeRawBufferPointer($0)) }
    }

    static func isPlausibleID(_ id: UnsafeRawBufferPointer) -> Bool {
        !id.isEmpty && id.count <= 256 && id.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F || c == 0x2E
        }
    }

    /// The last non-empty `/`-separated component (the path itself when it has none).
    static func basename(_ path: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var end = path.count
        while end > 0, path[end - 1] == 0x2F { end -= 1 }
        guard end > 0 else { return path }
        var start = end
        while start > 0, path[start - 1] != 0x2F { start -= 1 }
        return UnsafeRawBufferPointer(rebasing: path[start..<end])
    }
}
