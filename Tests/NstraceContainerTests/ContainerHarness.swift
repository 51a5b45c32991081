import Foundation
import XCTest

// The end-to-end harness: real runtimes (through runtimes.sh, next to this file), real
// containers, the real `nstrace` binary. Every expected value comes from the kernel or the
// runtime (/proc/PID/ns/*, pid files, `docker inspect`, /proc/PID/mountinfo), never from nstrace.
//
// The tests never skip: without root, a runtime, or a binary they fail and say what is missing.
// Runtimes are set up once per test process and torn down when the bundle finishes
// (NSTRACE_E2E_KEEP=1 keeps the containers and daemons for a look afterwards).

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum Paths {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let runtimesScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("runtimes.sh").path

    /// `NSTRACE_BIN_DIR` if set; else the directory of this test binary (swift test puts the
    /// products next to it, whatever `--scratch-path`); else `.build/debug`.
    static let binDir: String = {
        if let dir = ProcessInfo.processInfo.environment["NSTRACE_BIN_DIR"], !dir.isEmpty { return dir }
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let dir = (exe as NSString).deletingLastPathComponent
            if FileManager.default.isExecutableFile(atPath: dir + "/nstrace") { return dir }
        }
        return packageRoot.appendingPathComponent(".build/debug").path
    }()

    static var nstrace: String { binDir + "/nstrace" }

    /// A tool by name, from the usual system directories (the test may run with a short PATH).
    static func tool(_ name: String) -> String {
        for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"] {
            let path = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return name
    }
}

// MARK: - Running programs

struct CommandOutput: Sendable {
    var command: String
    var status: Int32
    var stdout: String
    var stderr: String
    var seconds: Double
    var pid: Int32

    var succeeded: Bool { status == 0 }
    var summary: String {
        "`\(command)` exited \(status) after \(String(format: "%.1f", seconds)) s; stdout: \(stdout.suffix(600)) stderr: \(stderr.suffix(1200))"
    }
}

/// A child process started with posix_spawn and reaped with waitpid by us.
///
/// Not Foundation's `Process`: on Linux it learns of a child's exit from a socket the child
/// inherits, so a daemon or container that a child leaves behind (conmon, a shim) keeps it
/// "running" forever. Here the exit is the exit. stdin is /dev/null, stdout and stderr go to
/// files, every other descriptor is closed, and signal dispositions are reset.
final class Child {
    let pid: pid_t
    let command: String
    private(set) var exitStatus: Int32?

    /// `newGroup`: the child leads its own process group, so a timeout can kill what it started.
    init(_ executable: String, _ arguments: [String], stdout: String, stderr: String, newGroup: Bool) throws {
        command = ([executable] + arguments).joined(separator: " ")
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw HarnessError("cannot run `\(command)`: \(executable) is not an executable file")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        if let closeFrom = Child.addCloseFrom { _ = closeFrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if newGroup { flags |= Int32(POSIX_SPAWN_SETPGROUP) }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        posix_spawnattr_setpgroup(&attributes, 0)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw HarnessError("cannot run `\(command)`: posix_spawn: \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    /// glibc 2.34's posix_spawn_file_actions_addclosefrom_np, which Swift's Glibc does not import.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// Whether it has exited (reaped now if it just did).
    @discardableResult
    func poll() -> Bool {
        if exitStatus != nil { return true }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid {
            exitStatus = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            return true
        }
        if result < 0 && errno != EINTR { exitStatus = -1; return true }
        return false
    }

    var isRunning: Bool { !poll() }

    /// Waits up to `timeout` seconds; whether it exited.
    func wait(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !poll() {
            if Date() >= deadline { return false }
            usleep(5_000)
        }
        return true
    }

    func signal(_ signal: Int32) { if exitStatus == nil { Glibc.kill(pid, signal) } }

    /// SIGKILL to it (and to its process group if it leads one), then reap it.
    func kill(group: Bool) {
        guard exitStatus == nil else { return }
        if group { Glibc.kill(-pid, SIGKILL) }
        Glibc.kill(pid, SIGKILL)
        _ = wait(timeout: 10)
    }
}

enum Command {
    /// Runs a program to completion with a deadline; on timeout its process group is killed.
    static func run(_ executable: String, _ arguments: [String], timeout: TimeInterval) throws -> CommandOutput {
        let tmp = FileManager.default.temporaryDirectory
        let tag = UUID().uuidString
        let outPath = tmp.appendingPathComponent("nste2e-\(tag).out").path
        let errPath = tmp.appendingPathComponent("nste2e-\(tag).err").path
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let start = Date()
        let child = try Child(executable, arguments, stdout: outPath, stderr: errPath, newGroup: true)
        let finished = child.wait(timeout: timeout)
        if !finished { child.kill(group: true) }
        let result = CommandOutput(
            command: child.command, status: child.exitStatus ?? -1,
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
            seconds: Date().timeIntervalSince(start), pid: child.pid)
        if !finished { throw HarnessError("timed out after \(Int(timeout)) s: \(result.summary)") }
        return result
    }

    /// Runs and requires exit status 0.
    @discardableResult
    static func check(_ executable: String, _ arguments: [String], timeout: TimeInterval) throws -> CommandOutput {
        let result = try run(executable, arguments, timeout: timeout)
        guard result.succeeded else { throw HarnessError(result.summary) }
        return result
    }
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

/// `nstrace` running in the background, stdout and stderr collected to files. It stays in our
/// process group: a Ctrl-C of the test run stops it too.
final class Tracer {
    let child: Child
    let stdoutURL: URL
    let stderrURL: URL

    init(_ arguments: [String]) throws {
        let dir = FileManager.default.temporaryDirectory
        let tag = UUID().uuidString
        stdoutURL = dir.appendingPathComponent("nste2e-trace-\(tag).out")
        stderrURL = dir.appendingPathComponent("nste2e-trace-\(tag).err")
        child = try Child(Paths.nstrace, arguments, stdout: stdoutURL.path, stderr: stderrURL.path, newGroup: false)
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(at: stdoutURL)
        try? FileManager.default.removeItem(at: stderrURL)
    }

    var stderrText: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    func waitUntilTracing(timeout: TimeInterval = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stderrText.contains("nstrace: tracing") { return }
            if !child.isRunning {
                throw HarnessError("`\(child.command)` exited (\(child.exitStatus ?? -1)) before tracing: \(stderrText)")
            }
            usleep(20_000)
        }
        throw HarnessError("`\(child.command)` did not print 'nstrace: tracing' within \(Int(timeout)) s: \(stderrText)")
    }

    /// SIGINT, as Ctrl-C: nstrace drains the ring buffer, prints its summary and exits 0.
    /// Returns its stderr; its output stays in `stdoutURL` until the tracer is released.
    func stop(timeout: TimeInterval = 60) throws -> String {
        usleep(500_000) // the consumer polls: let the last events arrive
        child.signal(SIGINT)
        guard child.wait(timeout: timeout) else {
            kill()
            throw HarnessError("`\(child.command)` did not exit within \(Int(timeout)) s of SIGINT: \(stderrText)")
        }
        guard child.exitStatus == 0 else {
            throw HarnessError("`\(child.command)` exited \(child.exitStatus ?? -1): \(stderrText)")
        }
        return stderrText
    }

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

    /// The first line of its output (the text header).
    func firstLine() -> String {
        guard let handle = try? FileHandle(forReadingFrom: stdoutURL),
              let data = try? handle.read(upToCount: 4096) else { return "" }
        try? handle.close()
        return String(decoding: data.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
    }

    func kill() { child.kill(group: false) }
}

/// One `nstrace -o json` run: the events that mention what the test looks for.
struct Trace: Sendable {
    /// Events whose line mentions one of the needles (a namespace inode, a container id):
    /// a superset of every event the tests look at, far fewer than a busy host makes.
    var events: [Event]
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
    func joins(of container: Container) -> [Event] {
        let own = container.ownInodes
        return events.filter { event in
            event.event == "setns" && event.ret == 0 && (event.args["target_ns_inode"]?.uint64).map(own.contains) == true
        }
    }

    /// The events of a stopped tracer that mention one of the needles.
    /// The comm of nstrace-testdriver (NstraceIntegrationTests), not a container's.
    static let otherSuitesDriver = "nstdrv"

    static func decode(_ tracer: Tracer, stderr: String, needles: [String]) throws -> Trace {
        let (lines, total) = try tracer.outputLines(containing: needles)
        let decoder = JSONDecoder()
        var events: [Event] = []
        for line in lines {
            let object: [String: JSONValue]
            do { object = try decoder.decode([String: JSONValue].self, from: Data(line.utf8)) } catch {
                throw HarnessError("a line of nstrace -o json is not a JSON object: \(error): \(line.prefix(400))")
            }
            guard let event = Event(object, line: line) else {
                throw HarnessError("a line of nstrace -o json lacks a documented key: \(line.prefix(400))")
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
    var object: [String: JSONValue]
    var id: String? { object["id"]?.string }
    var runtime: String? { object["runtime"]?.string }
    var name: String? { object["name"]?.string }
    var description: String {
        "{id: \(id ?? "nil"), runtime: \(runtime ?? "nil"), name: \(name ?? "nil")}"
    }
}

/// One JSON event (docs/events.md) plus the container keys of issue 3.
struct Event: Sendable {
    static let namespaceCreating: Set<String> = ["unshare", "clone", "clone3"]
    static let mountFamily: Set<String> = [
        "mount", "umount", "pivot_root", "fsopen", "fsconfig", "fsmount", "move_mount", "open_tree", "mount_setattr",
    ]
    /// CLONE_NEW* flag -> namespace slot.
    static let createdSlot: [String: String] = [
        "CLONE_NEWNS": "mnt", "CLONE_NEWNET": "net", "CLONE_NEWPID": "pid", "CLONE_NEWUTS": "uts",
        "CLONE_NEWIPC": "ipc", "CLONE_NEWUSER": "user", "CLONE_NEWCGROUP": "cgroup", "CLONE_NEWTIME": "time",
    ]

    var line: String
    var event: String
    /// CLOCK_BOOTTIME at the syscall's exit.
    var ts: UInt64
    var pid: Int
    var comm: String
    var ret: Int64
    var ns: [String: UInt64]
    var flags: [String]
    var args: [String: JSONValue]
    var hasContainerKey: Bool
    var container: ContainerRef?
    var hasTargetContainerKey: Bool
    var targetContainer: ContainerRef?
    /// The whole JSON object (issue 8's keys: paths, attributed_by, actor, ns_before).
    var object: [String: JSONValue]

    init?(_ object: [String: JSONValue], line: String) {
        self.object = object
        guard let event = object["event"]?.string, let ts = object["ts_ns"]?.uint64, let pid = object["pid"]?.int,
              let comm = object["comm"]?.string, let ret = object["ret"]?.int,
              case .object(let ns)? = object["ns"] else { return nil }
        self.line = line
        self.event = event
        self.ts = ts
        self.pid = pid
        self.comm = comm
        self.ret = Int64(ret)
        self.ns = ns.compactMapValues { $0.uint64 }
        self.flags = object["flags"]?.strings ?? []
        if case .object(let args)? = object["args"] { self.args = args } else { self.args = [:] }
        hasContainerKey = object.keys.contains("container")
        if case .object(let c)? = object["container"] { container = ContainerRef(object: c) }
        hasTargetContainerKey = object.keys.contains("target_container")
        if case .object(let c)? = object["target_container"] { targetContainer = ContainerRef(object: c) }
    }

    func string(_ key: String) -> String? { args[key]?.string }

    /// The namespace types this call created (CLONE_NEW* in its flags), if it succeeded.
    var createdTypes: [String] {
        guard Event.namespaceCreating.contains(event), ret >= 0 else { return [] }
        return flags.compactMap { Event.createdSlot[$0] }
    }

    /// The inode the call gave a created type: `unshare(CLONE_NEWPID|CLONE_NEWTIME)` changes the
    /// `*_for_children` slot; clone's `ns` is the child's.
    func createdInode(_ type: String) -> UInt64? {
        if event == "unshare", type == "pid" || type == "time" { return ns[type + "_for_children"] }
        return ns[type]
    }

    /// The container's namespace types this call created.
    func created(in container: Container) -> [String] {
        guard ts >= container.startedAfter else { return [] }
        return createdTypes.filter { type in
            guard let inode = createdInode(type), inode != 0 else { return false }
            return container.namespaces[type] == inode
        }
    }

    /// A mount-family call made inside the container's mount namespace.
    func isMount(in container: Container) -> Bool {
        ts >= container.startedAfter && Event.mountFamily.contains(event) && ns["mnt"] != nil && ns["mnt"] == container.namespaces["mnt"]
    }

    var brief: String {
        let target = string("target") ?? string("to_path") ?? string("target_ns_type") ?? ""
        return "\(event) pid=\(pid) comm=\(comm) flags=\(flags.joined(separator: "|")) \(target) ret=\(ret) "
            + "container=\(hasContainerKey ? (container?.description ?? "null") : "<no key>")"
            + (event == "setns" ? " target_container=\(hasTargetContainerKey ? (targetContainer?.description ?? "null") : "<no key>")" : "")
    }
}

enum JSONValue: Decodable, Sendable, Equatable {
    case string(String), number(Double), bool(Bool), null, array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    var int: Int? { if case .number(let n) = self { return Int(exactly: n) } else { return nil } }
    var uint64: UInt64? { if case .number(let n) = self { return UInt64(exactly: n) } else { return nil } }
    var isNull: Bool { self == .null }
    var strings: [String] {
        if case .array(let a) = self { return a.compactMap(\.string) }
        return []
    }
    var objects: [[String: JSONValue]] {
        if case .array(let a) = self { return a.compactMap { if case .object(let o) = $0 { return o } else { return nil } } }
        return []
    }

    /// The first of several possible keys (the commands' JSON is young: accept their spellings).
    static func first(_ object: [String: JSONValue], _ keys: [String]) -> JSONValue? {
        for key in keys { if let value = object[key], !value.isNull { return value } }
        return nil
    }
}

// MARK: - nstrace's host-side commands

enum NstraceCommand {
    static func run(_ arguments: [String], timeout: TimeInterval = 60) throws -> CommandOutput {
        try Command.run(Paths.nstrace, arguments, timeout: timeout)
    }

    static func json(_ arguments: [String]) throws -> JSONValue {
        let output = try run(arguments)
        guard output.succeeded else { throw HarnessError("nstrace \(arguments.joined(separator: " ")): \(output.summary)") }
        do { return try JSONDecoder().decode(JSONValue.self, from: Data(output.stdout.utf8)) } catch {
            throw HarnessError("nstrace \(arguments.joined(separator: " ")) did not print JSON: \(error): \(output.stdout.prefix(600))")
        }
    }
}
