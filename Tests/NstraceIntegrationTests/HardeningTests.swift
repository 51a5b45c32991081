import Foundation
import NstraceCore
import XCTest
import NstraceTestSupport

/// Issue 10: nstrace runs as root on hosts that run other people's containers. Each test is
/// one defect tried the way an attacker or a careless user would, with the real binary.
final class HardeningTests: XCTestCase {
    private var scratch: URL!
    private static let setpriv = URL(fileURLWithPath: "/usr/bin/setpriv")
    private static let asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups"]

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("nstrace-hardening-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        // a sticky, world-writable directory, as /tmp
        try FileManager.default.setAttributes([.posixPermissions: 0o1777], ofItemAtPath: scratch.path)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    private func path(_ name: String) -> String { scratch.appendingPathComponent(name).path }

    private func nstrace(_ arguments: [String]) throws -> Harness.Captured {
        try Harness.runCapturing(Harness.nstrace, arguments)
    }

    private func sh(_ script: String, _ arguments: [String] = []) throws -> Harness.Captured {
        try Harness.runCapturing(URL(fileURLWithPath: "/bin/bash"), ["-c", script, "bash"] + arguments)
    }

    /// Another user (nobody) plants a file or link in the sticky directory.
    private func plantAsNobody(_ script: String) throws {
        let r = try Harness.runCapturing(Self.setpriv, Self.asNobody + ["/bin/sh", "-c", script])
        XCTAssertEqual(r.status, 0, "planting as nobody: \(r.stderr)")
    }

    /// A root-owned file with known content, the target of a planted link.
    private func victim(_ name: String) throws -> String {
        let p = path(name)
        try Data("precious\n".utf8).write(to: URL(fileURLWithPath: p))
        return p
    }

    private func assertUntouched(_ victim: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(try? String(contentsOfFile: victim, encoding: .utf8), "precious\n", "\(victim) was written through a planted link", file: file, line: line)
    }

    private func assertOneLineError(_ r: Harness.Captured, naming name: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 1, r.stderr, file: file, line: line)
        let lines = r.stderr.split(separator: "\n").filter { !$0.contains("nstrace: tracing") }
        XCTAssertEqual(lines.count, 1, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stderr.contains(name), "the error names \(name): \(r.stderr)", file: file, line: line)
    }

    private func owner(_ p: String) -> (uid: UInt32, mode: UInt16, size: Int)? {
        var info = stat()
        guard lstat(p, &info) == 0 else { return nil }
        return (info.st_uid, UInt16(info.st_mode & 0o7777), Int(info.st_size))
    }

    /// A small real recording to read back.
    private func recording(_ name: String) throws -> String {
        let file = path(name)
        let recorder = try NstraceTracer(["record", "-w", file, "--comm", "nstdrv"])
        defer { recorder.kill() }
        try recorder.waitUntilTracing()
        _ = try Harness.run(Harness.driver, ["unshare", "mount"])
        _ = try recorder.stopCollecting()
        return file
    }

    // MARK: 1, 2: output files

    func testRecordAndExportNeverFollowAPlantedLinkNorReuseAPlantedFile() throws {
        guard Harness.requireRoot() else { return }
        let victim = try victim("victim")
        try plantAsNobody("ln -s \(victim) \(path("link.nst")) && umask 0 && : > \(path("open.nst")) && chmod 666 \(path("open.nst"))")

        for target in ["link.nst", "open.nst"] {
            let r = try nstrace(["record", "-w", path(target), "--duration", "1"])
            assertOneLineError(r, naming: path(target))
            XCTAssertTrue(r.stderr.contains("--force"), "the error says how to replace it: \(r.stderr)")
        }
        // export -w: the same
        let trace = try recording("in.nst")
        for target in ["link.nst", "open.nst"] {
            let r = try nstrace(["export", trace, "-o", "jsonl", "-w", path(target)])
            assertOneLineError(r, naming: path(target))
        }
        assertUntouched(victim)
        XCTAssertEqual(owner(path("open.nst"))?.uid, 65534)
        XCTAssertEqual(owner(path("open.nst"))?.size, 0, "nobody's file received the trace")

        // --force replaces the name with a new file of root's (rename): the link is not
        // followed, and nobody's file (still open by nobody, say) receives nothing
        let planted = open(path("open.nst"), O_RDONLY)
        defer { close(planted) }
        for target in ["link.nst", "open.nst"] {
            let r = try nstrace(["record", "-w", path(target), "--duration", "1", "--force"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(owner(path(target))?.uid, 0)
            XCTAssertEqual(owner(path(target))?.mode, 0o600)
        }
        assertUntouched(victim)
        var old = stat()
        XCTAssertEqual(fstat(planted, &old), 0)
        XCTAssertEqual(old.st_size, 0, "nobody's file received the trace")
    }

    func testRotatedPartsNeverFollowAPlantedLink() throws {
        guard Harness.requireRoot() else { return }
        let victim = try victim("victim")
        let file = path("rot.nst")
        try plantAsNobody("ln -s \(victim) \(file).1")
        let recorder = try NstraceTracer(["record", "-w", file, "--comm", "nstdrv", "--max-size", "64K"])
        defer { recorder.kill() }
        try recorder.waitUntilTracing()
        for _ in 0..<24 { _ = try Harness.run(Harness.driver, ["all"]) }  // about 110 KB: rotates
        Glibc.kill(recorder.pid, SIGINT)
        recorder.waitForExit()
        XCTAssertEqual(recorder.exitStatus, 1, recorder.stderrText)
        XCTAssertTrue(recorder.stderrText.contains(file + ".1"), recorder.stderrText)
        assertUntouched(victim)
        XCTAssertEqual(owner(file)?.mode, 0o600)
    }

    func testNewTracesAndExportsArePrivateAndForceReplacesOnlyWhenAsked() throws {
        guard Harness.requireRoot() else { return }
        let trace = try recording("new.nst")
        XCTAssertEqual(owner(trace)?.mode, 0o600, "a trace holds argv and mount tables")
        XCTAssertEqual(owner(trace)?.uid, 0)
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: scratch.path).allSatisfy { !$0.contains(".part-") },
                      "the temporary file was renamed into place")
        let out = path("out.json")
        XCTAssertEqual(try nstrace(["export", trace, "-o", "chrome", "-w", out]).status, 0)
        XCTAssertEqual(owner(out)?.mode, 0o600)
        let again = try nstrace(["export", trace, "-o", "chrome", "-w", out])
        assertOneLineError(again, naming: out)
        let forced = try nstrace(["export", trace, "-o", "jsonl", "-w", out, "--force"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertTrue(try String(contentsOfFile: out, encoding: .utf8).hasPrefix("{\"time\""), "replaced by the jsonl export")
    }

    // MARK: 4: export onto its input

    func testExportOntoItsInputIsRefused() throws {
        guard Harness.requireRoot() else { return }
        let trace = try recording("self.nst")
        let before = try Data(contentsOf: URL(fileURLWithPath: trace))
        for extra in [[], ["--force"]] {
            let r = try nstrace(["export", trace, "-o", "chrome", "-w", trace] + extra)
            assertOneLineError(r, naming: trace)
        }
        // through another name of the same file, too
        XCTAssertEqual(link(trace, path("hardlink.nst")), 0)
        let r = try nstrace(["export", trace, "-o", "chrome", "-w", path("hardlink.nst"), "--force"])
        assertOneLineError(r, naming: path("hardlink.nst"))
        XCTAssertTrue(r.stderr.contains("input"), r.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: trace)), before, "the input was damaged")
    }

    /// analyze and diff write their reports the same way (issue 9's commands, as nobody).
    func testAnalyzeAndDiffReportsAreWrittenSafely() throws {
        let trace = path("runc.nst")
        try FileManager.default.copyItem(atPath: AnalyzeCommandTests.fixture("runc"), toPath: trace)
        let victim = try victim("victim")
        try plantAsNobody("ln -s \(victim) \(path("report.json"))")
        for command in [["analyze", trace, "-o", "json"], ["diff", trace, trace, "-o", "json"]] {
            assertOneLineError(try nstrace(command + ["-w", path("report.json")]), naming: path("report.json"))
            assertOneLineError(try nstrace(command + ["-w", trace, "--force"]), naming: trace)
            let out = path(command[0] + ".json")
            let r = try nstrace(command + ["-w", out])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(owner(out)?.mode, 0o600)
        }
        assertUntouched(victim)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: trace)), try Data(contentsOf: URL(fileURLWithPath: AnalyzeCommandTests.fixture("runc"))))
    }

    // MARK: 3: crafted counts

    func testACraftedTrailerWith2To63LostNeverTraps() throws {
        let file = path("lost.nst")
        let writer = try TraceFileWriter(path: file, header: TraceFileHeader.current(nstraceVersion: "test"))
        try writer.appendMetadata(TraceMetadata.Lost(ringbuf: 1 << 63, pending: 1 << 63, submitted: .max))
        try writer.finish(lost: TraceLostCounts(ringbuf: 1 << 63, pending: 5))
        let text = try nstrace(["info", file])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(String(decoding: text.stdout, as: UTF8.self).contains("9223372036854775813"), String(decoding: text.stdout, as: UTF8.self))
        let json = try nstrace(["info", file, "-o", "json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        XCTAssertEqual((object["lost"] as? NSNumber)?.uint64Value, (1 << 63) + 5)
        for command in [["show", file], ["show", file, "-o", "json"], ["export", file, "-o", "chrome"], ["export", file, "-o", "jsonl"]] {
            let r = try nstrace(command)
            XCTAssertEqual(r.status, 0, "\(command): \(r.stderr)")
        }
    }

    // MARK: 5: non-regular inputs

    func testPipesAndFIFOsAreReadInOnePass() throws {
        guard Harness.requireRoot() else { return }
        let trace = try recording("piped.nst")
        let direct = try nstrace(["show", trace, "-o", "json"])
        XCTAssertEqual(direct.status, 0, direct.stderr)
        XCTAssertFalse(direct.stdout.isEmpty)

        let substituted = try sh("\"$1\" show <(cat \"$2\") -o json", [Harness.nstrace.path, trace])
        XCTAssertEqual(substituted.status, 0, substituted.stderr)
        XCTAssertEqual(substituted.stdout, direct.stdout)

        let fifo = path("fifo")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let viaFIFO = try sh("cat \"$3\" > \"$2\" & timeout 20 \"$1\" show \"$2\" -o json; s=$?; wait; exit $s",
                             [Harness.nstrace.path, fifo, trace])
        XCTAssertEqual(viaFIFO.status, 0, "124 is a hang: \(viaFIFO.stderr)")
        XCTAssertEqual(viaFIFO.stdout, direct.stdout)
    }

    // MARK: 7: a FIFO without a reader

    func testRecordToAFIFOWithoutAReaderEndsWithItsDuration() throws {
        guard Harness.requireRoot() else { return }
        let fifo = path("out.fifo")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let start = Date()
        let r = try sh("timeout 30 \"$1\" record -w \"$2\" --duration 2", [Harness.nstrace.path, fifo])
        XCTAssertLessThan(Date().timeIntervalSince(start), 25, "blocked in open(): \(r.stderr)")
        assertOneLineError(r, naming: fifo)
        XCTAssertTrue(r.stderr.contains("reading"), r.stderr)

        // with a reader, it records into the FIFO
        let read = try sh("\"$1\" info - -o json < \"$2\" & \"$1\" record -w \"$2\" --duration 1 2>/dev/null; wait",
                          [Harness.nstrace.path, fifo])
        XCTAssertEqual(read.status, 0, read.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: read.stdout) as? [String: Any], read.stderr)
        XCTAssertEqual(object["complete"] as? Bool, true)
    }

    // MARK: 6: bounded reading

    /// Files whose metadata lists millions of cgroup ids, cgroups or containers: every command
    /// reads them in bounded memory (under an address-space limit) and names the cap it hit.
    func testMetadataBombsAreReadInBoundedMemory() throws {
        let header = TraceFileHeader.current(nstraceVersion: "test")
        var bombs: [(String, String)] = []
        let written = Date()
        // one container with 1.4 million cgroup ids (a 16 MiB record), one with 80 000
        let huge = path("huge.nst")
        var w = try TraceFileWriter(path: huge, header: header)
        try w.appendMetadata(TraceMetadata.Container(id: "c", runtime: "runc", cgroupIDs: (0..<1_400_000).map { UInt64($0) + 1_000_000_000 },
                                                     cgroupPath: "/c", namespaces: [:]))
        try w.finish()
        bombs.append((huge, "JSON bytes per metadata record"))
        let ids = path("ids.nst")
        w = try TraceFileWriter(path: ids, header: header)
        try w.appendMetadata(TraceMetadata.Container(id: "c", runtime: "runc", cgroupIDs: (0..<80_000).map { UInt64($0) + 1_000_000_000 },
                                                     cgroupPath: "/c", namespaces: [:]))
        try w.finish()
        bombs.append((ids, "cgroup ids per container"))
        // 100 000 cgroups
        let cgroups = path("cgroups.nst")
        w = try TraceFileWriter(path: cgroups, header: header)
        for i in 0..<100_000 { try w.appendMetadata(TraceMetadata.Cgroup(id: UInt64(i), path: "/system.slice/docker-\(i).scope")) }
        try w.finish()
        bombs.append((cgroups, "cgroups"))
        // 12 000 containers in a host snapshot, 30 000 in records; 200 000 lost records
        let containers = path("containers.nst")
        w = try TraceFileWriter(path: containers, header: header)
        try w.appendMetadata(TraceMetadata.HostSnapshot(hostNamespaces: [:], containers: (0..<12_000).map {
            TraceMetadata.Container(id: "s\($0)", runtime: "runc", cgroupIDs: [UInt64($0)], cgroupPath: "/s\($0)", namespaces: ["mnt": UInt32($0 + 1)])
        }))
        for i in 0..<30_000 { try w.appendMetadata(TraceMetadata.Container(id: "\(i)", name: "n\(i)", namespaces: [:])) }
        let lost = try TraceMetadata(TraceMetadata.Lost(ringbuf: 1, pending: 2))
        for _ in 0..<200_000 { try w.appendMetadata(lost) }
        try w.finish()
        bombs.append((containers, "containers"))

        print("bombs written in \(String(format: "%.1f", Date().timeIntervalSince(written))) s")
        for (file, cap) in bombs {
            for command in [["info", file, "-o", "json"], ["show", file], ["export", file, "-o", "chrome"]] {
                let start = Date()
                // peak RSS of the child, measured by getrusage in a python wrapper (last stderr line)
                let measure = "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]).returncode; " +
                    "print('maxrss_kib=%d' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r)"
                let r = try Harness.runCapturing(URL(fileURLWithPath: "/usr/bin/python3"),
                                                 ["-c", measure, "/usr/bin/prlimit", "--as=\(400 << 20)", Harness.nstrace.path] + command)
                let seconds = Date().timeIntervalSince(start)
                let rss = r.stderr.split(separator: "\n").last.flatMap { Int($0.split(separator: "=").last ?? "") } ?? -1
                print("bomb \(cap): \(command[0]) \(String(format: "%.1f", seconds)) s, peak RSS \(rss / 1024) MiB")
                XCTAssertGreaterThan(rss, 0, r.stderr)
                XCTAssertLessThan(rss, 256 << 10, "\(command): peak RSS \(rss) KiB")
                XCTAssertEqual(r.status, 0, "\(command) under a 400 MiB address-space limit: \(r.stderr.prefix(500))")
                XCTAssertLessThan(seconds, 30, "\(command)")
                XCTAssertTrue(r.stderr.contains(cap), "\(command): the warning names the cap on \(cap): \(r.stderr.prefix(500))")
            }
        }
    }

    // MARK: least privilege

    /// The minimal set (docs/cli.md, "Privileges"), measured: CAP_BPF and CAP_PERFMON load
    /// and attach, CAP_DAC_READ_SEARCH reads tracefs (0700) and the runtimes' state
    /// directories, CAP_SYS_PTRACE reads /proc/PID/ns and mountinfo of other users' processes.
    static let minimalCapabilities = "+bpf,+perfmon,+dac_read_search,+sys_ptrace"

    /// nstrace as nobody with `caps`, its stderr in the file `path("stderr")`.
    private func runAsNobody(with caps: String, _ arguments: [String]) throws -> Child {
        try Child(Self.setpriv.path, Self.asNobody + ["--inh-caps=-all,\(caps)", "--ambient-caps=-all,\(caps)", "--bounding-set=-all,\(caps)",
                                                      Harness.nstrace.path] + arguments,
                  stdout: "/dev/null", stderr: path("stderr"), newGroup: false)
    }

    private func status(_ pid: Int32, task: String? = nil) -> [String: String] {
        let file = task.map { "/proc/\(pid)/task/\($0)/status" } ?? "/proc/\(pid)/status"
        var fields: [String: String] = [:]
        for line in ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n") {
            let kv = line.split(separator: ":", maxSplits: 1)
            if kv.count == 2 { fields[String(kv[0])] = kv[1].trimmingCharacters(in: .whitespaces) }
        }
        return fields
    }

    func testRecordsWithTheMinimalCapabilitiesAndDropsThemAfterAttaching() throws {
        guard Harness.requireRoot() else { return }
        let file = path("unprivileged.nst")
        let recorder = try runAsNobody(with: Self.minimalCapabilities, ["record", "-w", file, "--comm", "nstdrv"])
        defer { recorder.kill(group: false) }
        let stderr = { (try? String(contentsOfFile: self.path("stderr"), encoding: .utf8)) ?? "" }
        let deadline = Date().addingTimeInterval(30)
        while !stderr().contains("nstrace: tracing") && recorder.isRunning && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(stderr().contains("nstrace: tracing"), "with \(Self.minimalCapabilities): \(stderr())")
        let pid = recorder.pid
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        for task in tasks {
            let s = status(pid, task: task)
            XCTAssertEqual(s["CapEff"], "0000000000000000", "task \(task) after attach: \(s)")
            XCTAssertEqual(s["CapPrm"], "0000000000000000", "task \(task) after attach: \(s)")
            XCTAssertEqual(s["NoNewPrivs"], "1")
        }
        XCTAssertEqual(status(pid)["CapEff"], "0000000000000000")
        _ = try Harness.run(Harness.driver, ["unshare"])
        usleep(300_000)
        Glibc.kill(pid, SIGINT)
        XCTAssertTrue(recorder.wait(timeout: 30), "the recorder exits on SIGINT: \(stderr())")
        XCTAssertEqual(recorder.exitStatus, 0, stderr())
        XCTAssertTrue(stderr().contains(" 0 lost"), "the loss counters are read without privileges: \(stderr())")

        // the read-only commands need nothing: nobody reads nobody's trace
        for command in [["info", file, "-o", "json"], ["show", file], ["export", file, "-o", "chrome"]] {
            let r = try Harness.runCapturing(Self.setpriv, Self.asNobody + ["--inh-caps=-all", "--bounding-set=-all", Harness.nstrace.path] + command)
            XCTAssertEqual(r.status, 0, "\(command) as nobody: \(r.stderr)")
            if command[0] == "info" {
                let object = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
                XCTAssertEqual((object["events_by_type"] as? [String: Int])?["unshare"], 8, "traced with the minimal set")
            }
        }

        // one capability fewer: a clear error, no trace
        for missing in ["+bpf", "+perfmon", "+dac_read_search"] {
            let caps = Self.minimalCapabilities.split(separator: ",").filter { $0 != missing }.joined(separator: ",")
            let r = try Harness.runCapturing(Self.setpriv, Self.asNobody + ["--inh-caps=-all,\(caps)", "--ambient-caps=-all,\(caps)",
                                                                            "--bounding-set=-all,\(caps)", Harness.nstrace.path, "--duration", "1"])
            XCTAssertEqual(r.status, 1, "without \(missing): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "without \(missing): \(r.stderr)")
        }
    }

    /// Issue 12 on top of issue 10: capabilities are per thread, so swift-otel's HTTP client
    /// (NIO event-loop threads), the exporter's feeder and the metrics server must start after
    /// the drop. Both exercised (a scrape, an exported record), then every thread checked.
    func testTheOTLPExporterAndMetricsThreadsHoldNoCapabilities() throws {
        guard Harness.requireRoot() else { return }
        let receiver = try OTLPReceiver()
        let metricsPort = try Fleet.freePort()
        let tracer = try runAsNobody(with: Self.minimalCapabilities, ["--comm", "unshare", "--otlp", receiver.url,
                                                                      "--metrics", "127.0.0.1:\(metricsPort)"])
        defer { tracer.kill(group: false) }
        let stderr = { (try? String(contentsOfFile: self.path("stderr"), encoding: .utf8)) ?? "" }
        var deadline = Date().addingTimeInterval(30)
        while !stderr().contains("nstrace: tracing") && tracer.isRunning && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(stderr().contains("nstrace: tracing"), stderr())
        let scrape = try Fleet.get("http://127.0.0.1:\(metricsPort)/metrics")
        XCTAssertEqual(scrape.status, 200, scrape.body)
        _ = try Fleet.unshareNet()
        deadline = Date().addingTimeInterval(15)
        while (try receiver.records()).isEmpty && Date() < deadline { usleep(100_000) }
        XCTAssertFalse(try receiver.records().isEmpty, "the exporter delivered as nobody: \(stderr())")

        let pid = tracer.pid
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        let names = tasks.map { ((try? String(contentsOfFile: "/proc/\(pid)/task/\($0)/comm", encoding: .utf8)) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines) }
        XCTAssertTrue(names.contains { $0.hasPrefix("NIO-") }, "swift-otel's HTTP client threads run: \(names)")
        XCTAssertTrue(names.contains("nstrace-otlp"), "the exporter's feeder runs: \(names)")
        XCTAssertTrue(names.contains("nstrace-metrics"), "the metrics server runs: \(names)")
        for task in tasks {
            let s = status(pid, task: task)
            XCTAssertEqual(s["CapEff"], "0000000000000000", "task \(task) (\(s["Name"] ?? "?")) after attach: \(s)")
            XCTAssertEqual(s["CapPrm"], "0000000000000000", "task \(task) (\(s["Name"] ?? "?")) after attach: \(s)")
        }
        Glibc.kill(pid, SIGINT)
        XCTAssertTrue(tracer.wait(timeout: 30), "the tracer exits on SIGINT: \(stderr())")
        XCTAssertEqual(tracer.exitStatus, 0, stderr())
        XCTAssertGreaterThan(try OTLPSummary(stderr()).exported, 0, stderr())
    }

    func testUserSwitchesUidAfterAttaching() throws {
        guard Harness.requireRoot() else { return }
        let tracer = try NstraceTracer(["-o", "json", "--comm", "nstdrv", "--user", "nobody"])
        defer { tracer.kill() }
        try tracer.waitUntilTracing()
        let s = status(tracer.pid)
        XCTAssertEqual(s["Uid"]?.split(separator: "\t").map(String.init), ["65534", "65534", "65534", "65534"], "\(s)")
        XCTAssertEqual(s["Groups"] ?? "", "")
        XCTAssertEqual(s["CapEff"], "0000000000000000")
        XCTAssertEqual(s["CapBnd"], "0000000000000000")
        _ = try Harness.run(Harness.driver, ["unshare"])
        let out = try tracer.stopCollecting()
        XCTAssertEqual(out.stdout.split(separator: UInt8(ascii: "\n")).count, 8, out.stderr)
        let bad = try nstrace(["--user", "no-such-user-here", "--duration", "1"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("no such user"), bad.stderr)
    }

    // MARK: 9: small ones

    func testAFullStdoutIsAnErrorAndBadNumbersSaySo() throws {
        let file = path("small.nst")
        let writer = try TraceFileWriter(path: file, header: TraceFileHeader.current(nstraceVersion: "test"))
        try writer.finish()
        for extra in [[], ["-o", "json"]] {
            let full = try sh("\"$1\" info \"$2\" \"${@:3}\" > /dev/full", [Harness.nstrace.path, file] + extra)
            XCTAssertEqual(full.status, 1, "info \(extra) > /dev/full: \(full.stderr)")
            XCTAssertEqual(full.stderr.split(separator: "\n").count, 1, full.stderr)
            XCTAssertTrue(full.stderr.contains("No space left") || full.stderr.contains("ENOSPC"), full.stderr)
        }
        let cases: [([String], String)] = [
            (["--duration", "-1"], "--duration must be a positive"),
            (["--duration=-1"], "--duration must be a positive"),
            (["record", "-w", path("x.nst"), "--duration", "-1"], "--duration must be a positive"),
            (["--pid", "-5", "--duration", "1"], "invalid --pid \"-5\""),
            (["--pid", "0", "--duration", "1"], "invalid --pid \"0\""),
            (["show", file, "--pid", "0"], "invalid --pid \"0\""),
        ]
        for (arguments, message) in cases {
            let r = try nstrace(arguments)
            XCTAssertNotEqual(r.status, 0, "\(arguments)")
            XCTAssertTrue(r.stderr.contains(message), "\(arguments): \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("Missing value"), "\(arguments): \(r.stderr)")
        }
    }
}
