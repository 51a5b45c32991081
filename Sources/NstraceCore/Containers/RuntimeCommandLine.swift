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
        guard let first = argv.first else { return nil }
        let program = basename(first.isEmpty ? filename : first)
        if program.hasPrefix("containerd-shim") { return shim(argv) }
        if program == "conmon" { return conmon(argv) }
        if program == "runc" || program == "crun" || program == "youki" || basename(filename) == "runc" || basename(filename) == "crun" {
            return ociRuntime(program: basename(filename).isEmpty ? program : basename(filename), argv)
        }
        return nil
    }

    static func ociRuntime(program: String, _ argv: [String]) -> ContainerIdentity? {
        guard let sub = argv.dropFirst().firstIndex(where: { containerSubcommands.contains($0) }),
              let id = argv.last, argv.count - 1 > sub, !id.hasPrefix("-"), isPlausibleID(id)
        else { return nil }
        let root = value(of: ["--root"], in: argv[..<sub])
        let bundle = value(of: ["--bundle", "-b"], in: argv[sub...]) ?? ""
        if let root, let ns = containerdNamespace(fromRoot: root) {
            return ns == "moby" ? ContainerIdentity(id: id, runtime: .docker, containerdNamespace: ns)
                                : ContainerIdentity(id: id, runtime: .containerd, containerdNamespace: ns)
        }
        if bundle.contains("/overlay-containers/") || bundle.contains("/libpod/") || (root ?? "").contains("libpod") {
            return ContainerIdentity(id: id, runtime: .podman)
        }
        if bundle.contains("/crio/") || (root ?? "").contains("crio") {
            return ContainerIdentity(id: id, runtime: .crio)
        }
        return ContainerIdentity(id: id, runtime: program == "crun" ? .crun : .runc)
    }

    static func shim(_ argv: [String]) -> ContainerIdentity? {
        guard let id = value(of: ["-id", "--id"], in: argv[...]), isPlausibleID(id) else { return nil }
        let ns = value(of: ["-namespace", "--namespace"], in: argv[...])
        return ContainerIdentity(id: id, runtime: ns == "moby" ? .docker : .containerd, containerdNamespace: ns)
    }

    static func conmon(_ argv: [String]) -> ContainerIdentity? {
        guard let id = value(of: ["-c", "--cid"], in: argv[...]), isPlausibleID(id) else { return nil }
        let crio = argv.contains { $0.contains("crio") }
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

    /// `--flag value` or `--flag=value`.
    static func value(of flags: [String], in args: ArraySlice<String>) -> String? {
        var i = args.startIndex
        while i < args.endIndex {
            let a = args[i]
            for f in flags {
                if a == f, i + 1 < args.endIndex { return args[i + 1] }
                if a.hasPrefix(f + "=") { return String(a.dropFirst(f.count + 1)) }
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

    static func basename(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
