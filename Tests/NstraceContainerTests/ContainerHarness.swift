import Foundation
import XCTest
import NstraceTestSupport

// The end-to-end harness: real runtimes (through runtimes.sh, next to this file), real
// containers, the real `nstrace` binary. Every expected value comes from the kernel or the
// runtime (/proc/PID/ns/*, pid files, `docker inspect`, /proc/PID/mountinfo), never from nstrace.
//
// The tests never skip: without root, a runtime, or a binary they fail and say what is missing.
// Runtimes are set up once per test process and torn down when the bundle finishes
// (NSTRACE_E2E_KEEP=1 keeps the containers and daemons for a look afterwards).

enum Paths {
    static let runtimesScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("runtimes.sh").path

    static var nstrace: String { Binaries.nstrace }
    static func tool(_ name: String) -> String { Binaries.tool(name) }
}

// MARK: - Runtimes and containers

enum Runtime: String, CaseIterable, Sendable, Hashable {
    case runc, crun, ctr, docker, podman

    /// The `runtime` nstrace reports for a container this runtime started.
    var reportedRuntime: String { self == .ctr ? "containerd" : rawValue }
    /// Whether the runtime keeps a name for the container apart from its id.
    var hasOwnName: Bool { self == .docker || self == .podman }
}

/// The namespaces of one process, read from the kernel: `readlink /proc/PID/ns/TYPE`.
typealias NamespaceInodes = [String: UInt64]

enum Kernel {
    static let namespaceTypes = ["mnt", "net", "pid", "uts", "ipc", "user", "cgroup", "time"]

    static func namespaces(of pid: String) throws -> NamespaceInodes {
        var result: NamespaceInodes = [:]
        for type in namespaceTypes {
            let path = "/proc/\(pid)/ns/\(type)"
            guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: path) else {
                if type == "time" { continue } // kernels before 5.6
                throw HarnessError("cannot readlink \(path): the process is gone or /proc is not readable")
            }
            // "net:[4026532182]"
            guard let open = link.firstIndex(of: "["), let close = link.lastIndex(of: "]"),
                  let inode = UInt64(link[link.index(after: open)..<close])
            else { throw HarnessError("unexpected namespace link \(path) -> \(link)") }
            result[type] = inode
        }
        return result
    }

    /// The host's namespaces: /proc/1/ns cannot be read everywhere, this process's can.
    static func hostNamespaces() throws -> NamespaceInodes { try namespaces(of: "self") }

    /// CLOCK_BOOTTIME in ns, the clock of the events' `ts_ns`.
    static func bootTime() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_BOOTTIME, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    static func mountInfo(of pid: Int32) throws -> String {
        do { return try String(contentsOfFile: "/proc/\(pid)/mountinfo", encoding: .utf8) } catch {
            throw HarnessError("cannot read /proc/\(pid)/mountinfo: \(error)")
        }
    }
}

/// A running container, as the runtime and the kernel describe it.
struct Container: Sendable, CustomStringConvertible {
    var runtime: Runtime
    var id: String
    var pid: Int32
    var name: String
    /// Its namespaces (readlink /proc/PID/ns/*), read right after it started.
    var namespaces: NamespaceInodes
    /// The namespace types it does not share with the host.
    var ownTypes: Set<String>
    /// CLOCK_BOOTTIME just before the runtime was asked to start it: earlier events cannot be its
    /// own, even where they show the same namespace inode (nsfs inodes are reused once a
    /// namespace is gone).
    var startedAfter: UInt64

    var shortID: String { String(id.prefix(12)) }
    var description: String { "\(runtime.rawValue) container \(name) (id \(id), host pid \(pid))" }
    /// The inodes of the namespaces it does not share with the host.
    var ownInodes: Set<UInt64> { Set(ownTypes.compactMap { namespaces[$0] }) }
}

enum Runtimes {
    static func harness(_ arguments: [String], timeout: TimeInterval) throws -> CommandOutput {
        do {
            return try Command.check("/bin/bash", [Paths.runtimesScript] + arguments, timeout: timeout)
        } catch let error as HarnessError {
            throw HarnessError("runtimes.sh \(arguments.first ?? ""): \(error.description)")
        }
    }

    /// `runtimes.sh start`: the runtime's id and pid, then the kernel's namespaces of that pid.
    static func start(_ runtime: Runtime, _ extra: [String] = []) throws -> Container {
        let before = Kernel.bootTime()
        let output = try harness(["start", runtime.rawValue] + extra, timeout: 150)
        guard let line = output.stdout.split(separator: "\n").last(where: { $0.hasPrefix("id=") }) else {
            throw HarnessError("runtimes.sh start \(runtime.rawValue) printed no `id=... pid=... name=...` line: \(output.summary)")
        }
        var fields: [String: String] = [:]
        for part in line.split(separator: " ") {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
        }
        guard let id = fields["id"], !id.isEmpty, let pid = Int32(fields["pid"] ?? ""), pid > 0,
              let name = fields["name"] else {
            throw HarnessError("runtimes.sh start \(runtime.rawValue): cannot parse `\(line)`")
        }
        let namespaces = try Kernel.namespaces(of: String(pid))
        let host = try Kernel.hostNamespaces()
        let own = Set(namespaces.compactMap { type, inode in host[type] != inode ? type : nil })
        return Container(runtime: runtime, id: id, pid: pid, name: name, namespaces: namespaces, ownTypes: own,
                         startedAfter: before)
    }

    static func stop(_ container: Container) throws {
        _ = try harness(["stop", container.runtime.rawValue, container.id], timeout: 120)
    }

    /// Runs a command inside a running container (runc/crun exec, ctr task exec, docker/podman exec).
    static func exec(_ container: Container, _ command: [String]) throws -> CommandOutput {
        try Command.run("/bin/bash", [Paths.runtimesScript, "exec", container.runtime.rawValue, container.id] + command,
                        timeout: 90)
    }
}

// MARK: - The suite: runtimes set up once, torn down at the end

/// `runtimes.sh info`: names the harness uses.
struct SuiteInfo: Sendable {
    var values: [String: String]
    var docker: String { values["docker"] ?? "/usr/bin/docker" }
    var dockerImage: String { values["image"] ?? "" }
}

final class TeardownObserver: NSObject, XCTestObservation {
    func testBundleDidFinish(_ testBundle: Bundle) {
        if ProcessInfo.processInfo.environment["NSTRACE_E2E_KEEP"] == "1" {
            print("NSTRACE_E2E_KEEP=1: containers and daemons left running; `bash \(Paths.runtimesScript) teardown` removes them")
            return
        }
        do {
            let output = try Runtimes.harness(["teardown"], timeout: 240)
            print(output.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            print("error: teardown of the container runtimes failed: \(error)")
        }
    }
}

enum Suite {
    /// Once per test process: root, the binary, the runtimes up (`runtimes.sh setup`).
    static let ready: Result<SuiteInfo, HarnessError> = Result {
        guard geteuid() == 0 else {
            throw HarnessError("the container tests start real containers and load BPF programs: they need root ('sudo make test')")
        }
        guard FileManager.default.isExecutableFile(atPath: Paths.nstrace) else {
            throw HarnessError("no nstrace binary at \(Paths.nstrace): build it first (swift build), or set NSTRACE_BIN_DIR")
        }
        registerTeardown()
        let setup = try Runtimes.harness(["setup"], timeout: 420)
        print(setup.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        let info = try Runtimes.harness(["info"], timeout: 30)
        var values: [String: String] = [:]
        for line in info.stdout.split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { values[String(kv[0])] = String(kv[1]) }
        }
        return SuiteInfo(values: values)
    }.mapError { $0 as? HarnessError ?? HarnessError("\($0)") }

    private static func registerTeardown() {
        let register = { XCTestObservationCenter.shared.addTestObserver(TeardownObserver()) }
        if Thread.isMainThread {
            MainActor.assumeIsolated { register() }
        } else {
            DispatchQueue.main.sync { register() }
        }
    }

    /// The suite, or a failure of the calling test with the reason (never a skip).
    static func require(file: StaticString = #filePath, line: UInt = #line) throws -> SuiteInfo {
        switch ready {
        case .success(let info): return info
        case .failure(let error):
            XCTFail("container runtimes are not ready: \(error)", file: file, line: line)
            throw error
        }
    }

    /// A fixture, or a failure of the calling test with the reason.
    static func get<T>(_ fixture: Result<T, HarnessError>, file: StaticString = #filePath, line: UInt = #line) throws -> T {
        switch fixture {
        case .success(let value): return value
        case .failure(let error):
            XCTFail("\(error)", file: file, line: line)
            throw error
        }
    }
}

// MARK: - nstrace

extension NstraceTracer {
    /// The lines of its output that contain one of the needles (grep -F: a busy host can make
    /// hundreds of MB of events in seconds), and the number of lines in all.
    func outputLines(containing needles: [String]) throws -> (lines: [String], total: Int) {
        let total = try LineCount.lines(in: stdoutURL.path)
        let patterns = needles.filter { !$0.isEmpty }
        guard !patterns.isEmpty else { return ([], total) }
        let grep = try Command.run(Paths.tool("grep"), ["-a", "-F"] + patterns.flatMap { ["-e", $0] } + [stdoutURL.path],
                                   timeout: 120)
        guard grep.status == 0 || grep.status == 1 else { throw HarnessError("grep over nstrace's output: \(grep.summary)") }
        return (grep.stdout.split(separator: "\n").map(String.init), total)
    }
}

/// One `nstrace -o json` run: the events that mention what the test looks for.
struct Trace: Sendable {
    /// Events whose line mentions one of the needles (a namespace inode, a container id):
    /// a superset of every event the tests look at, far fewer than a busy host makes.
    var events: [JSONEvent]
    /// Every line of the run.
    var totalEvents: Int
    var stderr: String

    /// From the summary line `nstrace: E events[, S shown], L lost`.
    var lost: Int? {
        guard let line = stderr.split(separator: "\n").last(where: { $0.contains(" lost") }) else { return nil }
        let words = line.split(whereSeparator: { $0 == " " || $0 == "," })
        guard let index = words.firstIndex(of: "lost"), index > 0 else { return nil }
        return Int(words[index - 1])
    }

    /// Whether any event has the `container` key at all (the attribution contract).
    var hasContainerKey: Bool { events.contains { $0.hasContainerKey } }

    /// Successful setns calls into one of the container's own namespaces (the kernel's inode of
    /// the fd's namespace, `target_ns_inode`, is one of /proc/PID/ns/* of the container).
    func joins(of container: Container) -> [JSONEvent] {
        let own = container.ownInodes
        return events.filter { event in
            event.event == "setns" && event.ret == 0 && (event.args["target_ns_inode"]?.uint64).map(own.contains) == true
        }
    }

    /// The events of a stopped tracer that mention one of the needles.
    /// The comm of nstrace-testdriver (NstraceIntegrationTests), not a container's.
    static let otherSuitesDriver = "nstdrv"

    static func decode(_ tracer: NstraceTracer, stderr: String, needles: [String]) throws -> Trace {
        let (lines, total) = try tracer.outputLines(containing: needles)
        var events: [JSONEvent] = []
        for line in lines {
            let event: JSONEvent
            do { event = try JSONEvent.decode(Data(line.utf8)) } catch {
                throw HarnessError("a line of nstrace -o json is not a documented event: \(error): \(line.prefix(400))")
            }
            // The integration suite's driver may run at the same time (it needs no e2e lock): its
            // namespaces come and go, and the kernel hands their inodes to the containers next.
            if event.comm == Trace.otherSuitesDriver { continue }
            events.append(event)
        }
        return Trace(events: events, totalEvents: total, stderr: stderr)
    }
}

enum LineCount {
    /// Newlines in a file, counted with memchr in 1 MB blocks.
    static func lines(in path: String) throws -> Int {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw HarnessError("cannot open \(path)") }
        defer { try? handle.close() }
        var count = 0
        while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty {
            block.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
                guard var p = buffer.baseAddress else { return }
                var left = buffer.count
                while left > 0, let hit = memchr(p, 0x0A, left) {
                    count += 1
                    let next = UnsafeRawPointer(hit) + 1
                    left -= next - p
                    p = next
                }
            }
        }
        return count
    }
}

/// A container as an event names it: `container` / `target_container`.
struct ContainerRef: Sendable {
    var object: [String: ParsedJSON]
    var id: String? { object["id"]?.string }
    var runtime: String? { object["runtime"]?.string }
    var name: String? { object["name"]?.string }
    var description: String {
        "{id: \(id ?? "nil"), runtime: \(runtime ?? "nil"), name: \(name ?? "nil")}"
    }
}

/// The container tests' reading of a JSON event: the container keys of issue 3 and what a
/// call created or mounted inside a container.
extension JSONEvent {
    static let namespaceCreating: Set<String> = ["unshare", "clone", "clone3"]
    static let mountFamily: Set<String> = [
        "mount", "umount", "pivot_root", "fsopen", "fsconfig", "fsmount", "move_mount", "open_tree", "mount_setattr",
    ]
    /// CLONE_NEW* flag -> namespace slot.
    static let createdSlot: [String: String] = [
        "CLONE_NEWNS": "mnt", "CLONE_NEWNET": "net", "CLONE_NEWPID": "pid", "CLONE_NEWUTS": "uts",
        "CLONE_NEWIPC": "ipc", "CLONE_NEWUSER": "user", "CLONE_NEWCGROUP": "cgroup", "CLONE_NEWTIME": "time",
    ]

    var hasContainerKey: Bool { object.keys.contains("container") }
    var container: ContainerRef? { if case .object(let c)? = object["container"] { ContainerRef(object: c) } else { nil } }
    var hasTargetContainerKey: Bool { object.keys.contains("target_container") }
    var targetContainer: ContainerRef? {
        if case .object(let c)? = object["target_container"] { ContainerRef(object: c) } else { nil }
    }

    /// The namespace types this call created (CLONE_NEW* in its flags), if it succeeded.
    var createdTypes: [String] {
        guard JSONEvent.namespaceCreating.contains(event), ret >= 0 else { return [] }
        return flags.compactMap { JSONEvent.createdSlot[$0] }
    }

    /// The inode the call gave a created type: `unshare(CLONE_NEWPID|CLONE_NEWTIME)` changes the
    /// `*_for_children` slot; clone's `ns` is the child's.
    func createdInode(_ type: String) -> UInt64? {
        if event == "unshare", type == "pid" || type == "time" { return ns[type + "_for_children"] }
        return ns[type]
    }

    /// The container's namespace types this call created.
    func created(in container: Container) -> [String] {
        guard ts_ns >= container.startedAfter else { return [] }
        return createdTypes.filter { type in
            guard let inode = createdInode(type), inode != 0 else { return false }
            return container.namespaces[type] == inode
        }
    }

    /// A mount-family call made inside the container's mount namespace.
    func isMount(in container: Container) -> Bool {
        ts_ns >= container.startedAfter && JSONEvent.mountFamily.contains(event) && ns["mnt"] != nil && ns["mnt"] == container.namespaces["mnt"]
    }

    var brief: String {
        let target = string("target") ?? string("to_path") ?? string("target_ns_type") ?? ""
        return "\(event) pid=\(pid) comm=\(comm) flags=\(flags.joined(separator: "|")) \(target) ret=\(ret) "
            + "container=\(hasContainerKey ? (container?.description ?? "null") : "<no key>")"
            + (event == "setns" ? " target_container=\(hasTargetContainerKey ? (targetContainer?.description ?? "null") : "<no key>")" : "")
    }
}

// MARK: - nstrace's host-side commands

enum NstraceCommand {
    static func run(_ arguments: [String], timeout: TimeInterval = 60) throws -> CommandOutput {
        try Command.run(Paths.nstrace, arguments, timeout: timeout)
    }

    static func json(_ arguments: [String]) throws -> ParsedJSON {
        let output = try run(arguments)
        guard output.succeeded else { throw HarnessError("nstrace \(arguments.joined(separator: " ")): \(output.summary)") }
        do { return try ParsedJSON.parse(output.stdoutData) } catch {
            throw HarnessError("nstrace \(arguments.joined(separator: " ")) did not print JSON: \(error): \(output.stdout.prefix(600))")
        }
    }
}
