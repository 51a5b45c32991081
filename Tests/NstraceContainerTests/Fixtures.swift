import Foundation
import XCTest
import NstraceTestSupport

/// Two nstrace runs serve every test (each costs a tracer start and a few container starts):
///
/// - `startup`: nstrace (JSON and text) runs while one container of each runtime starts
///   (docker's with `-v /home:/outside-home`). The containers keep running for the later tests.
/// - `later`: a new nstrace starts after those containers exist; inside each runtime's container
///   a command tries a mount, `docker exec`, `nsenter -t PID -n` join the docker container, and two
///   `docker run --rm` containers live for an instant.
enum Fixtures {
    static let homeVolume = ["-v", "/home:/outside-home"]

    static func extraArguments(_ runtime: Runtime) -> [String] {
        runtime == .docker ? homeVolume : []
    }

    static let startup: Result<StartupRun, HarnessError> = Result { try StartupRun.make() }
        .mapError { $0 as? HarnessError ?? HarnessError("\($0)") }

    static let later: Result<LaterRun, HarnessError> = Result { try LaterRun.make() }
        .mapError { $0 as? HarnessError ?? HarnessError("\($0)") }

    /// The startup run's container of a runtime, or the test fails saying why there is none.
    static func container(_ runtime: Runtime, file: StaticString = #filePath, line: UInt = #line) throws -> Container {
        let run = try Suite.get(startup, file: file, line: line)
        switch run.containers[runtime] {
        case .success(let container)?: return container
        case .failure(let error)?:
            XCTFail("no \(runtime.rawValue) container: \(error)", file: file, line: line)
            throw error
        case nil:
            XCTFail("no \(runtime.rawValue) container was started", file: file, line: line)
            throw HarnessError("no \(runtime.rawValue) container")
        }
    }
}

struct StartupRun: Sendable {
    var containers: [Runtime: Result<Container, HarnessError>]
    var trace: Trace
    /// The text tracer's header line and its lines of pivot_root events.
    var textHeader: String
    var textPivotRootLines: [String]

    static func make() throws -> StartupRun {
        _ = try Suite.ready.get()
        let json = try NstraceTracer(["-o", "json", "--ring-size", "64M"])
        defer { json.kill() }
        let text = try NstraceTracer(["-o", "text", "--color", "never", "--ring-size", "64M"])
        defer { text.kill() }
        try json.waitUntilTracing()
        try text.waitUntilTracing()

        var containers: [Runtime: Result<Container, HarnessError>] = [:]
        for runtime in Runtime.allCases {
            let t = Date()
            containers[runtime] = Result { try Runtimes.start(runtime, Fixtures.extraArguments(runtime)) }
                .mapError { $0 as? HarnessError ?? HarnessError("\($0)") }
            print("started \(runtime.rawValue) in \(String(format: "%.2f", Date().timeIntervalSince(t))) s: "
                + ((try? containers[runtime]?.get())?.description ?? "FAILED"))
        }
        let jsonStderr = try json.stop()
        _ = try text.stop()
        let started = containers.values.compactMap { try? $0.get() }
        // Needles: the inodes of the namespaces the containers do not share with the host, and ids.
        let needles = started.flatMap { c in c.ownTypes.compactMap { c.namespaces[$0].map(String.init) } + [c.id] }
        let trace = try Trace.decode(json, stderr: jsonStderr, needles: needles)
        print("startup run: \(trace.totalEvents) events, \(trace.events.count) about the containers; \(jsonStderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        return StartupRun(containers: containers, trace: trace, textHeader: text.firstLine(),
                          textPivotRootLines: try text.outputLines(containing: ["pivot_root"]).lines
                            .filter { !$0.contains(" \(Trace.otherSuitesDriver) ") })
    }
}

/// A `docker run --rm --cidfile F ...` container: gone when the run ends.
struct ShortLivedContainer: Sendable {
    var id: String
    var output: CommandOutput
    /// The namespaces the container printed from inside (`readlink /proc/self/ns/TYPE`), if asked.
    var namespaces: NamespaceInodes
    /// CLOCK_BOOTTIME around `docker run`: its events lie in between. Sequential short-lived
    /// containers often get the same namespace inodes, so the window tells them apart.
    var window: ClosedRange<UInt64>
}

struct LaterRun: Sendable {
    static let probeCommand = "mount -t tmpfs nste2e-probe /mnt"

    /// The containers the probes ran in, all started before this run's nstrace: the startup
    /// run's, except for docker a container of its own started just before nstrace with
    /// `--security-opt seccomp=unconfined` - docker's default seccomp profile fails mount(2)
    /// before the syscall tracepoints, so nothing would be traced.
    var preexisting: [Runtime: Result<Container, HarnessError>]
    /// Each runtime's exec of `sh -c 'mount -t tmpfs nste2e-probe /mnt'` (EPERM or not, it is a mount call).
    var probes: [Runtime: Result<CommandOutput, HarnessError>]
    /// `docker exec ID true` into the startup run's docker container.
    var dockerExec: Result<CommandOutput, HarnessError>
    /// `nsenter -t PID -n true` into the startup run's docker container.
    var nsenter: Result<CommandOutput, HarnessError>
    /// `docker run --rm --cidfile F IMAGE true`
    var shortLived: Result<ShortLivedContainer, HarnessError>
    /// The same, printing its namespaces from inside before it exits.
    var shortLivedWithFacts: Result<ShortLivedContainer, HarnessError>
    var trace: Trace

    static func make() throws -> LaterRun {
        let info = try Suite.ready.get()
        let startup = try Fixtures.startup.get()
        let containers = startup.containers.compactMapValues { try? $0.get() }

        func capture<T>(_ body: () throws -> T) -> Result<T, HarnessError> {
            Result { try body() }.mapError { $0 as? HarnessError ?? HarnessError("\($0)") }
        }
        var preexisting = startup.containers
        preexisting[.docker] = capture { try Runtimes.start(.docker, ["--security-opt", "seccomp=unconfined"]) }

        let json = try NstraceTracer(["-o", "json", "--ring-size", "64M"])
        defer { json.kill() }
        try json.waitUntilTracing()

        var probes: [Runtime: Result<CommandOutput, HarnessError>] = [:]
        for runtime in Runtime.allCases {
            guard let container = try? preexisting[runtime]?.get() else { continue }
            probes[runtime] = capture { try Runtimes.exec(container, ["sh", "-c", probeCommand]) }
        }
        let docker = containers[.docker]
        let dockerExec = capture { () throws -> CommandOutput in
            guard let docker else { throw HarnessError("no docker container") }
            return try Command.check(info.docker, ["exec", docker.id, "true"], timeout: 60)
        }
        let nsenter = capture { () throws -> CommandOutput in
            guard let docker else { throw HarnessError("no docker container") }
            return try Command.check(Paths.tool("nsenter"), ["-t", String(docker.pid), "-n", "true"], timeout: 30)
        }
        let shortLived = capture { try runRemoved(info, ["true"], facts: false) }
        let shortLivedWithFacts = capture {
            try runRemoved(info, ["sh", "-c", "for t in mnt net pid uts ipc; do readlink /proc/self/ns/$t; done"], facts: true)
        }
        let stderr = try json.stop()

        var needles = (Array(containers.values) + [try? preexisting[.docker]?.get()].compactMap { $0 })
            .flatMap { c in c.ownTypes.compactMap { c.namespaces[$0].map(String.init) } + [c.id, "\"id\":\"" + c.shortID] }
        for run in [shortLived, shortLivedWithFacts] {
            if let c = try? run.get() { needles += [c.id] + c.namespaces.values.map(String.init) }
        }
        let trace = try Trace.decode(json, stderr: stderr, needles: needles)
        print("later run: \(trace.totalEvents) events, \(trace.events.count) about the containers; \(stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        return LaterRun(preexisting: preexisting, probes: probes, dockerExec: dockerExec, nsenter: nsenter,
                        shortLived: shortLived, shortLivedWithFacts: shortLivedWithFacts, trace: trace)
    }

    /// `docker run --rm --cidfile F IMAGE CMD`; the id from the cidfile docker wrote.
    static func runRemoved(_ info: SuiteInfo, _ command: [String], facts: Bool) throws -> ShortLivedContainer {
        let cidfile = FileManager.default.temporaryDirectory.appendingPathComponent("nste2e-\(UUID().uuidString).cid").path
        defer { try? FileManager.default.removeItem(atPath: cidfile) }
        let before = Kernel.bootTime()
        let output = try Command.check(info.docker, ["run", "--rm", "--cidfile", cidfile, info.dockerImage] + command, timeout: 90)
        let after = Kernel.bootTime()
        let id = ((try? String(contentsOfFile: cidfile, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard id.count == 64, id.allSatisfy(\.isHexDigit) else {
            throw HarnessError("docker wrote no container id to --cidfile \(cidfile) (got '\(id)')")
        }
        var namespaces: NamespaceInodes = [:]
        if facts {
            for line in output.stdout.split(separator: "\n") { // "mnt:[4026532245]"
                let parts = line.split(whereSeparator: { ":[]".contains($0) })
                if parts.count == 2, let inode = UInt64(parts[1]) { namespaces[String(parts[0])] = inode }
            }
            guard Set(namespaces.keys) == ["mnt", "net", "pid", "uts", "ipc"] else {
                throw HarnessError("the short-lived container did not print its 5 namespaces: \(output.summary)")
            }
        }
        return ShortLivedContainer(id: id, output: output, namespaces: namespaces, window: before...after)
    }
}

/// The attribution measure of issue 3: of the container's namespace creations and of the calls
/// made in its mount namespace, the share whose `container.id` is the container's.
struct Attribution {
    var creations: [JSONEvent]
    var mounts: [JSONEvent]
    var createdTypes: Set<String>
    var attributed: [JSONEvent]
    var unattributed: [JSONEvent]

    init(_ trace: Trace, _ container: Container) {
        self.init(trace, id: container.id, namespaces: container.namespaces, window: container.startedAfter...UInt64.max)
    }

    /// Ground truth for a container that is gone: the namespaces it printed, the time it lived.
    init(_ trace: Trace, id: String, namespaces: NamespaceInodes, window: ClosedRange<UInt64>) {
        let probe = Container(runtime: .docker, id: id, pid: 0, name: "", namespaces: namespaces, ownTypes: [],
                              startedAfter: window.lowerBound)
        let events = trace.events.filter { window.contains($0.ts_ns) }
        creations = events.filter { !$0.created(in: probe).isEmpty }
        mounts = events.filter { $0.isMount(in: probe) }
        createdTypes = Set(creations.flatMap { $0.created(in: probe) })
        let all = creations + mounts
        attributed = all.filter { $0.container?.id == id }
        unattributed = all.filter { $0.container?.id != id }
    }

    var total: Int { creations.count + mounts.count }
    var percent: Double { total == 0 ? 0 : 100 * Double(attributed.count) / Double(total) }

    func line(_ label: String, id: String) -> String {
        let c = creations.filter { $0.container?.id == id }.count
        let m = mounts.filter { $0.container?.id == id }.count
        return "attribution \(label): \(attributed.count)/\(total) (\(String(format: "%.0f", percent.rounded(.down)))%)"
            + " - namespace creations \(c)/\(creations.count), mount-namespace calls \(m)/\(mounts.count)"
    }

    func unattributedList(limit: Int = 12) -> String {
        unattributed.prefix(limit).map { "  " + $0.brief }.joined(separator: "\n")
            + (unattributed.count > limit ? "\n  … \(unattributed.count - limit) more" : "")
    }
}
