import Foundation
import XCTest
import NstraceTestSupport

/// `--otlp` and `--metrics` against real receivers on loopback (issue 12): the OTLP records of a
/// real `unshare -n` checked against the kernel's facts; a receiver that is down, slow, failing
/// or answering garbage never holds back the local output and makes the dropped count rise;
/// Prometheus scrapes the endpoint and answers for it through its own HTTP API; bad values are
/// one line before tracing.
final class FleetTests: XCTestCase {
    func testUnshareBecomesAnOTLPLogRecordWithItsAttributesAndTheNodeAsResource() throws {
        guard Harness.requireRoot() else { return }
        let receiver = try OTLPReceiver()
        let tracer = try NstraceTracer(["-o", "json", "--comm", "unshare", "--otlp", receiver.url])
        defer { tracer.kill() }
        try tracer.waitUntilTracing()
        let fact = try Fleet.unshareNet()
        let (out, err) = try tracer.stopCollecting()
        let summary = try OTLPSummary(err)
        let local = String(decoding: out, as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(summary.dropped, 0, err)
        XCTAssertEqual(summary.exported, local.count, "every event shown locally is exported: \(err)")

        let records = try receiver.records()
        XCTAssertEqual(records.count, local.count, "the receiver got one record per local event")
        let mine = records.filter { $0["body"] as? String == "unshare" && $0.attribute("process.pid") == String(fact.pid) }
        XCTAssertEqual(mine.count, 1, "one unshare record for pid \(fact.pid): \(records)")
        guard let record = mine.first else { return }
        let a = record.attributes()
        XCTAssertEqual(record["path"] as? String, "/v1/logs")
        XCTAssertEqual(record["content_type"] as? String, "application/x-protobuf")
        XCTAssertEqual(a["process.executable.name"] as? String, "unshare")
        XCTAssertEqual(a["process.parent_pid"] as? String, String(getpid()))
        XCTAssertEqual(a["thread.id"] as? String, String(fact.pid))
        XCTAssertEqual((a["nstrace.ns"] as? [String: Any])?["net"] as? String, String(fact.netInode),
                       "nstrace.ns.net is the namespace the kernel shows for the process")
        let before = (a["nstrace.ns_before"] as? [String: Any])?["net"] as? String
        XCTAssertNotNil(before)
        XCTAssertNotEqual(before, String(fact.netInode))
        XCTAssertEqual(a["nstrace.flags"] as? [String], ["CLONE_NEWNET"])
        XCTAssertEqual(a["nstrace.ret"] as? String, "0")
        XCTAssertNil(a["nstrace.errno"], "a JSON null is an absent attribute")
        XCTAssertNotNil(a["nstrace.latency_ns"])
        XCTAssertNil(a["container.id"], "a host process has no container attributes")
        let resource = record.resource()
        XCTAssertEqual(resource["service.name"] as? String, "nstrace")
        let hostname = try String(contentsOfFile: "/proc/sys/kernel/hostname", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(resource["host.name"] as? String, hostname)
        let machineID = try String(contentsOfFile: "/etc/machine-id", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(resource["host.id"] as? String, machineID)
    }

    func testRecordExportsNextToTheFile() throws {
        guard Harness.requireRoot() else { return }
        let receiver = try OTLPReceiver()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nstrace-otlp-\(UUID().uuidString).nst").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let tracer = try NstraceTracer(["record", "-w", file, "--comm", "unshare", "--otlp", receiver.url])
        defer { tracer.kill() }
        try tracer.waitUntilTracing()
        let fact = try Fleet.unshareNet()
        let (_, err) = try tracer.stopCollecting()
        let summary = try OTLPSummary(err)
        XCTAssertEqual(summary.exported, 1, err)
        XCTAssertEqual(summary.dropped, 0, err)
        let records = try receiver.records()
        XCTAssertEqual(records.map { $0.attribute("process.pid") }, [String(fact.pid)])
        let shown = try Harness.runCapturing(Harness.nstrace, ["show", file, "-o", "json"])
        XCTAssertTrue(String(decoding: shown.stdout, as: UTF8.self).contains("\"pid\":\(fact.pid),"), "the file has the event too")
    }

    func testAReceiverThatIsDownLosesNoLocalOutputAndCountsTheDrops() throws {
        guard Harness.requireRoot() else { return }
        let port = try Fleet.freePort()
        let metricsPort = try Fleet.freePort()
        let tracer = try NstraceTracer(["-o", "json", "--comm", "unshare", "--otlp", "http://127.0.0.1:\(port)",
                                        "--metrics", "127.0.0.1:\(metricsPort)"])
        defer { tracer.kill() }
        // The local output has every event at once (the tracer flushes every 100 ms).
        try assertLocalOutputDoesNotWait(tracer, events: 40, settle: 500_000)
        // The first export fails once its connection attempts time out (5 s): the metrics count it.
        var dropped = 0.0
        let deadline = Date().addingTimeInterval(12)
        while dropped == 0 && Date() < deadline {
            let scrape = try Fleet.get("http://127.0.0.1:\(metricsPort)/metrics")
            XCTAssertEqual(scrape.status, 200)
            let line = scrape.body.split(separator: "\n").first { $0.hasPrefix("nstrace_otlp_dropped_total ") }
            dropped = Double(line?.split(separator: " ").last ?? "") ?? 0
            if dropped == 0 { usleep(500_000) }
        }
        XCTAssertGreaterThan(dropped, 0, "the metrics show the drops")
        let started = Date()
        let (out, err) = try tracer.stopCollecting()
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "a dead receiver must not hold the exit")
        let local = String(decoding: out, as: UTF8.self).split(separator: "\n").filter { $0.contains("\"event\":\"unshare\"") }
        XCTAssertEqual(local.count, 40, "the local output has every event")
        let summary = try OTLPSummary(err)
        XCTAssertEqual(summary.exported, 0)
        XCTAssertEqual(summary.dropped, 40, err)
        XCTAssertEqual(err.components(separatedBy: "otlp: export to").count - 1, 1, "the failure is logged once, not per event: \(err)")
    }

    /// `events` unshare calls once tracing, then after `settle` µs every one is on stdout.
    private func assertLocalOutputDoesNotWait(_ tracer: NstraceTracer, events: Int, settle: UInt32,
                                              file: StaticString = #filePath, line: UInt = #line) throws {
        try tracer.waitUntilTracing()
        try Fleet.unshareLoop(events)
        usleep(settle)
        let shown = try String(contentsOf: tracer.stdoutURL, encoding: .utf8).split(separator: "\n").count
        XCTAssertEqual(shown, events, "the local output waits for no receiver", file: file, line: line)
    }

    func testASlowReceiverDoesNotSlowTheLocalOutput() throws {
        guard Harness.requireRoot() else { return }
        let receiver = try OTLPReceiver(mode: "slow", delay: 30)
        let tracer = try NstraceTracer(["-o", "json", "--comm", "unshare", "--otlp", receiver.url])
        defer { tracer.kill() }
        // While the receiver sits on the first batch, every event is already on stdout.
        try assertLocalOutputDoesNotWait(tracer, events: 20, settle: 800_000)
        let started = Date()
        let (_, err) = try tracer.stopCollecting()
        XCTAssertLessThan(Date().timeIntervalSince(started), 12, "the exporter's flush at exit is bounded")
        let summary = try OTLPSummary(err)
        XCTAssertEqual(summary.exported, 0)
        XCTAssertEqual(summary.dropped, 20, "what the receiver had not accepted at exit is dropped: \(err)")
    }

    func testReceiverErrorsAndGarbageAreCountedAndLoggedOnce() throws {
        guard Harness.requireRoot() else { return }
        for mode in ["error", "garbage"] {
            let receiver = try OTLPReceiver(mode: mode)
            let tracer = try NstraceTracer(["-o", "json", "--comm", "unshare", "--otlp", receiver.url])
            defer { tracer.kill() }
            try tracer.waitUntilTracing()
            // Two batches apart (swift-otel exports every 500 ms here): two failed exports.
            try Fleet.unshareLoop(10)
            usleep(1_500_000)
            try Fleet.unshareLoop(10)
            let (_, err) = try tracer.stopCollecting()
            let summary = try OTLPSummary(err)
            XCTAssertEqual(summary.exported, 0, "\(mode): \(err)")
            XCTAssertEqual(summary.dropped, 20, "\(mode): \(err)")
            XCTAssertTrue(err.contains("failed exports)"), "\(mode): more than one failed export is counted: \(err)")
            XCTAssertEqual(err.components(separatedBy: "otlp: export to").count - 1, 1, "\(mode): logged once: \(err)")
            XCTAssertEqual(try receiver.records().count, 20, "\(mode): the receiver did get the records")
        }
    }

    /// The endpoint itself (Prometheus scraping it, and the startup histogram of a real runc
    /// start: NstraceContainerTests/PrometheusContainerTests).
    func testMetricsEndpointServesTheExposition() throws {
        guard Harness.requireRoot() else { return }
        let metricsPort = try Fleet.freePort()
        let tracer = try NstraceTracer(["-o", "json", "--comm", "unshare", "--metrics", "127.0.0.1:\(metricsPort)"])
        defer { tracer.kill() }
        try tracer.waitUntilTracing()
        try Fleet.unshareLoop(5)
        usleep(300_000)
        let scrape = try Fleet.get("http://127.0.0.1:\(metricsPort)/metrics")
        XCTAssertEqual(scrape.status, 200)
        let lines = scrape.body.split(separator: "\n")
        XCTAssertTrue(lines.contains("nstrace_events_total{event=\"unshare\",runtime=\"none\"} 5"), scrape.body)
        XCTAssertTrue(lines.contains("# TYPE nstrace_events_total counter"), scrape.body)
        XCTAssertTrue(lines.contains { $0.hasPrefix("process_resident_memory_bytes ") }, scrape.body)
        XCTAssertEqual(try Fleet.get("http://127.0.0.1:\(metricsPort)/other").status, 404)
        _ = try tracer.stopCollecting()
    }

    func testBadValuesAreOneLineBeforeTracing() throws {
        guard Harness.requireRoot() else { return }
        let cases: [([String], String)] = [
            (["--otlp", "ftp://127.0.0.1:4318"], "is not an http:// or https:// URL"),
            (["--otlp", "http://127.0.0.1:99999"], "--otlp"),
            (["--otlp", "http://127.0.0.1:port"], "--otlp"),
            (["--otlp", "http:///v1/logs"], "has no host"),
            (["--metrics", "127.0.0.1:abc"], "not a number between 1 and 65535"),
            (["--metrics", "9464"], "is not ADDR:PORT"),
            (["--cri-socket", "/run/containerd/containerd.sock"], "--cri-socket needs --otlp"),
        ]
        for (arguments, message) in cases {
            let run = try Harness.runCapturing(Harness.nstrace, ["live", "--duration", "1"] + arguments)
            XCTAssertNotEqual(run.status, 0, "\(arguments)")
            XCTAssertTrue(run.stderr.contains(message), "\(arguments): \(run.stderr)")
            XCTAssertFalse(run.stderr.contains("tracing"), "\(arguments): rejected before tracing: \(run.stderr)")
            XCTAssertFalse(run.stderr.contains("Fatal error"), "\(arguments): \(run.stderr)")
        }
        // --metrics with a host name, and a port someone else holds: one line, exit 1.
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(listen(holder, 1), 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(holder, $0, &len) }
        }
        let busy = Int(UInt16(bigEndian: addr.sin_port))
        for (spec, message) in [("127.0.0.1:\(busy)", "cannot listen on 127.0.0.1:\(busy): Address already in use"),
                                ("localhost:9464", "is not an IPv4 address")] {
            let run = try Harness.runCapturing(Harness.nstrace, ["live", "--duration", "1", "--metrics", spec])
            XCTAssertEqual(run.status, 1, run.stderr)
            XCTAssertEqual(run.stderr, "nstrace: --metrics: " + (run.stderr.dropFirst("nstrace: --metrics: ".count).prefix { $0 != "\n" }) + "\n",
                           "exactly one line: \(run.stderr)")
            XCTAssertTrue(run.stderr.contains(message), run.stderr)
            XCTAssertFalse(run.stderr.contains("tracing"), run.stderr)
        }
    }

    /// --cri-socket names a socket: absent, it is one line before tracing; one that accepts and
    /// never answers costs the lookup worker its 2 s timeout, never the local output, and is
    /// counted in the summary and logged once.
    func testANamedCRISocketThatIsAbsentOrNeverAnswers() throws {
        guard Harness.requireRoot() else { return }
        let absent = "/run/nstrace-no-such-cri-\(getpid()).sock"
        let run = try Harness.runCapturing(Harness.nstrace, ["live", "--duration", "1", "--otlp", "http://127.0.0.1:4318", "--cri-socket", absent])
        XCTAssertEqual(run.status, 1, run.stderr)
        XCTAssertEqual(run.stderr, "nstrace: --cri-socket: \"\(absent)\": No such file or directory\n", "one line: \(run.stderr)")

        // a listening socket that never accepts (python3, the listener only)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nstrace-cri-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stalled = dir + "/stalled.sock"
        let listener = try Child("/usr/bin/python3", ["-c", "import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(16); time.sleep(300)", stalled],
                                 stdout: dir + "/listener.out", stderr: dir + "/listener.err", newGroup: false)
        defer { listener.kill(group: false) }
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: stalled) && Date() < deadline { usleep(20_000) }

        let receiver = try OTLPReceiver()
        let tracer = try NstraceTracer(["-o", "json", "--comm", "unshare", "--otlp", receiver.url, "--cri-socket", stalled])
        defer { tracer.kill() }
        try tracer.waitUntilTracing()
        let started = Date()
        let fact = try Fleet.unshareNet()
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.5, "the local output does not wait for the CRI query")
        sleep(3)   // the query at start gives up after its 2 s
        let (out, err) = try tracer.stopCollecting()
        XCTAssertTrue(String(decoding: out, as: UTF8.self).contains("\"pid\":\(fact.pid)"), "the local output flows: \(err)")
        XCTAssertTrue(err.contains(", pod names: 1 failed CRI query"), "the stalled query is counted: \(err)")
        XCTAssertEqual(err.components(separatedBy: "no answer in time").count - 1, 1, "logged once: \(err)")
        XCTAssertEqual(try OTLPSummary(err).dropped, 0, err)
    }

    /// deploy/: the manifests parse, and every hostPath and capability they name is in the
    /// README's list (Tests/Fleet/check_manifests.py, with Debian's python3-yaml).
    func testDeploymentFilesParseAndTheREADMEListsTheirHostPathsAndCapabilities() throws {
        let script = Harness.packageRoot.appendingPathComponent("Tests/Fleet/check_manifests.py").path
        let run = try Harness.runCapturing(URL(fileURLWithPath: "/usr/bin/python3"), [script, Harness.packageRoot.path])
        XCTAssertEqual(run.status, 0, run.stderr + String(decoding: run.stdout, as: UTF8.self))
    }
}
