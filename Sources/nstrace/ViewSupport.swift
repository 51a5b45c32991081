import ArgumentParser
import NstraceCore
#if canImport(Glibc)
import Glibc
#endif

/// Shared by the host-side views (`containers`, `ns`, `netns`, `mounts`): scanning,
/// resolving a CONTAINER|PID argument, tables, JSON, errors.
enum Views {
    /// An error already explained: print one line on stderr and exit 1.
    static func fail(_ message: String) -> ExitCode {
        Stderr.line(message)
        return ExitCode.failure
    }

    /// The containers running now, with names and images from the runtimes.
    static func scan() throws -> ContainerInventory {
        let inventory: ContainerInventory
        do {
            inventory = try ContainerInventory.scan(metadata: ContainerMetadataSource())
        } catch {
            throw fail(error.description)
        }
        // As root the few unreadable processes are a sandbox's own (its pid 1 here), not worth a line.
        if inventory.unreadableProcesses > 0 && geteuid() != 0 {
            Stderr.warning("\(inventory.unreadableProcesses) processes could not be read; run as root to see every container")
        }
        return inventory
    }

    /// What a CONTAINER|PID argument names.
    enum Target {
        case container(RunningContainer)
        case process(ProcessRecord, container: RunningContainer?)

        var pid: Int32 {
            switch self {
            case .container(let container): return container.initPID
            case .process(let process, _): return process.pid
            }
        }

        var container: RunningContainer? {
            switch self {
            case .container(let container): return container
            case .process(_, let container): return container
            }
        }
    }

    /// Resolves CONTAINER|PID: a container's full id or name first; then a number that is
    /// a live pid; then a unique prefix of a container id.
    static func resolve(_ argument: String, in inventory: ContainerInventory, allowPID: Bool = true) throws -> Target {
        if let exact = inventory.containers.first(where: { $0.id == argument || $0.name == argument }),
           inventory.containers.filter({ $0.name == argument }).count <= 1 {
            return .container(exact)
        }
        if allowPID, let pid = Int32(argument), pid > 0, argument.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            if let process = inventory.process(pid) {
                return .process(process, container: inventory.container(ofPID: pid))
            }
            if access("/proc/\(pid)", F_OK) == 0 {
                // Say why: the scan skipped it (permission, or it is a zombie or exited since).
                do {
                    _ = try ProcNamespaces.read(pid: pid)
                    throw fail("process \(pid) has exited or is a zombie")
                } catch let error as ProcReadError {
                    throw fail(error.description)
                }
            }
            if (try? inventory.find(argument)) == nil {
                throw fail("no process \(pid) and no running container matches '\(argument)'")
            }
        }
        do {
            return .container(try inventory.find(argument))
        } catch {
            if case .notFound = error, let hint = notRunningHint(argument) { throw fail(hint) }
            throw fail(error.description)
        }
    }

    /// A container the runtimes know but that has no process: "… is not running".
    static func notRunningHint(_ reference: String) -> String? {
        if case .found(let info) = DockerEngineClient().inspect(reference), !info.running || info.pid <= 0 {
            let name = info.name.map { " (\($0))" } ?? ""
            return "docker container \(ContainerInventory.shortID(info.id))\(name) is not running (status: \(info.status ?? "unknown"))"
        }
        let podman = PodmanState().records().values.filter { $0.id.hasPrefix(reference) || $0.names.contains(reference) }
        if podman.count == 1, let record = podman.first {
            let name = record.names.first.map { " (\($0))" } ?? ""
            return "podman container \(ContainerInventory.shortID(record.id))\(name) is not running"
        }
        return nil
    }

    static func containerLabel(_ identity: ContainerIdentity, in inventory: ContainerInventory) -> String {
        inventory.containers.first { $0.identity == identity }?.displayName ?? ContainerInventory.shortID(identity.id)
    }

    /// `20530def80a2 (rtdemo-docker, docker)`.
    static func describe(_ container: RunningContainer) -> String {
        var details: [String] = []
        if let name = container.name, name != container.id { details.append(name) }
        details.append(container.identity.runtime.rawValue)
        return "\(container.shortID) (\(details.joined(separator: ", ")))"
    }

    /// A message that quotes names or paths (one line, escaped for the terminal).
    static func message(_ text: String) throws {
        try write(Escape.text(text))
    }

    /// Output already made safe (JSON from `JSONValue`, a `TextTable`).
    static func write(_ text: String) throws {
        var bytes = Array(text.utf8)
        if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in Glibc.write(1, raw.baseAddress! + offset, raw.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { return }
                throw fail("output: write failed: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// Ignore SIGPIPE so `nstrace ns | head` ends quietly with EPIPE.
    static func prepareOutput() {
        signal(SIGPIPE, SIG_IGN)
    }
}

// MARK: - text

/// A table cell: escaped for the terminal (`Escape.text`); an empty value prints as `-`.
func terminalSafe(_ text: String) -> String {
    text.isEmpty ? "-" : Escape.text(text)
}

/// Left-aligned columns separated by two spaces; the last column is not padded.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []
    /// Columns aligned to the right (numbers).
    var rightAligned: Set<Int> = []

    init(_ header: [String], rightAligned: Set<Int> = []) {
        self.header = header
        self.rightAligned = rightAligned
    }

    mutating func add(_ row: [String]) {
        rows.append(row.map(terminalSafe))
    }

    func render(withHeader: Bool = true) -> String {
        let all = withHeader ? [header] + rows : rows
        guard !all.isEmpty else { return "" }
        var widths = [Int](repeating: 0, count: header.count)
        for row in all {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        var lines: [String] = []
        for row in all {
            var line = ""
            for (index, cell) in row.enumerated() {
                let isLast = index == row.count - 1
                let padding = String(repeating: " ", count: max(0, widths[min(index, widths.count - 1)] - cell.count))
                if rightAligned.contains(index) {
                    line += padding + cell
                } else {
                    line += isLast ? cell : cell + padding
                }
                if !isLast { line += "  " }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

// MARK: - JSON

extension JSONValue {
    /// The container object shared by the views: what the live stream's `container` has
    /// (`id`, `runtime`, `name`, `image`, pod where known), plus the init pid.
    static func container(_ container: RunningContainer) -> [(String, JSONValue)] {
        var members: [(String, JSONValue)] = [
            ("id", .string(container.id)),
            ("short_id", .string(container.shortID)),
            ("runtime", .string(container.identity.runtime.rawValue)),
            ("name", .optional(container.name)),
            ("image", .optional(container.image)),
        ]
        if let namespace = container.identity.containerdNamespace { members.append(("containerd_namespace", .string(namespace))) }
        if let pod = container.identity.podUID { members.append(("pod_uid", .string(pod))) }
        members.append(("pid", .number(container.initPID)))
        return members
    }

    /// `{"mnt": 4026532245, ...}` in /proc/PID/ns order.
    static func namespaces(_ namespaces: ProcNamespaceInodes) -> JSONValue {
        .object(ProcNamespaceLink.allCases.compactMap { link in
            namespaces[link].map { (link.rawValue, .number($0)) }
        })
    }
}

/// The namespace types in the usual order, comma-separated (`cgroup,user,time` → `user,cgroup,time`).
func namespaceList(_ types: Set<NamespaceType>) -> String {
    NamespaceType.allCases.filter(types.contains).map(\.name).joined(separator: ",")
}
