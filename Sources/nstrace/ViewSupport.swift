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

/// Makes a value safe to print on a terminal: control characters (C0, DEL, C1) become
/// `\xHH` / `\u{…}`, a backslash stays itself. An empty value prints as `-`.
func terminalSafe(_ text: String) -> String {
    if text.isEmpty { return "-" }
    var output = ""
    output.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar.value {
        case 0..<0x20, 0x7F:
            output += "\\x" + hex2(scalar.value)
        case 0x80..<0xA0, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069:
            output += "\\u{" + String(scalar.value, radix: 16) + "}"
        default:
            output.unicodeScalars.append(scalar)
        }
    }
    return output
}

private func hex2(_ value: UInt32) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(value >> 4) & 0xF], digits[Int(value) & 0xF]])
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

/// A JSON value with ordered object members, rendered with two-space indentation.
indirect enum JSONValue {
    case null
    case bool(Bool)
    case int(Int64)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    static func optional(_ text: String?) -> JSONValue { text.map { .string($0) } ?? .null }
    static func number<T: BinaryInteger>(_ value: T) -> JSONValue { .int(Int64(clamping: value)) }

    func render() -> String {
        var output = ""
        append(to: &output, indent: 0)
        return output
    }

    private func append(to output: inout String, indent: Int) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .int(let value): output += String(value)
        case .string(let value): Self.appendString(value, to: &output)
        case .array(let items):
            if items.isEmpty { output += "[]"; return }
            if items.allSatisfy(\.isScalar) {
                output += "["
                for (index, item) in items.enumerated() {
                    if index > 0 { output += ", " }
                    item.append(to: &output, indent: indent)
                }
                output += "]"
                return
            }
            output += "[\n"
            for (index, item) in items.enumerated() {
                output += String(repeating: " ", count: indent + 2)
                item.append(to: &output, indent: indent + 2)
                output += index == items.count - 1 ? "\n" : ",\n"
            }
            output += String(repeating: " ", count: indent) + "]"
        case .object(let members):
            if members.isEmpty { output += "{}"; return }
            output += "{\n"
            for (index, member) in members.enumerated() {
                output += String(repeating: " ", count: indent + 2)
                Self.appendString(member.0, to: &output)
                output += ": "
                member.1.append(to: &output, indent: indent + 2)
                output += index == members.count - 1 ? "\n" : ",\n"
            }
            output += String(repeating: " ", count: indent) + "}"
        }
    }

    private var isScalar: Bool {
        switch self {
        case .array, .object: return false
        default: return true
        }
    }

    private static func appendString(_ text: String, to output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    let hex = String(scalar.value, radix: 16)
                    output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }
}

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
