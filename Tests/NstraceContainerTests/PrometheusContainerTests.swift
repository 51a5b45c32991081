import Foundation
import XCTest
import NstraceTestSupport

/// `nstrace live --metrics` scraped by Debian's real Prometheus server (issue 12), read back
/// through Prometheus's own HTTP API (promtool query): the events of real `unshare` calls by
/// type and runtime, and a real runc container start in `nstrace_container_startup_seconds`
/// (the startup analysis run live) — while the output filter shows only unshare.
final class PrometheusContainerTests: XCTestCase {
    static let prometheus = "/usr/bin/prometheus"
    static let promtool = "/usr/bin/promtool"

    /// A TCP port free on loopback now (the kernel's pick).
    func freePort() throws -> Int {
        let out = try Command.check("/usr/bin/python3", ["-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"],
                                    timeout: 30)
        guard let port = Int(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw HarnessError("no port: \(out.summary)") }
        return port
    }

    func testPrometheusReadsTheEventsAndTheStartupHistogramOfARealRuncStart() throws {
        _ = try Suite.require()
        for tool in [Self.prometheus, Self.promtool] where !FileManager.default.isExecutableFile(atPath: tool) {
            XCTFail("no \(tool): 'make deps-fleet' installs Debian's prometheus")
            return
        }
        let metricsPort = try freePort(), prometheusPort = try freePort()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nste2e-prom-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: nstrace
                static_configs:
                  - targets: ["127.0.0.1:\(metricsPort)"]
            """.write(toFile: dir + "/prometheus.yml", atomically: true, encoding: .utf8)
        let server = try Child(Self.prometheus, ["--config.file=\(dir)/prometheus.yml", "--storage.tsdb.path=\(dir)/data",
                                                 "--web.listen-address=127.0.0.1:\(prometheusPort)"],
                               stdout: dir + "/prometheus.out", stderr: dir + "/prometheus.log", newGroup: true)
        defer { server.kill(group: true) }
        func log() -> String { String(((try? String(contentsOfFile: dir + "/prometheus.log", encoding: .utf8)) ?? "").suffix(1500)) }

        /// One instant query through Prometheus's HTTP API: the first sample's value.
        func query(_ promql: String) -> String? {
            guard let out = try? Command.run(Self.promtool, ["query", "instant", "-o", "json", "http://127.0.0.1:\(prometheusPort)", promql], timeout: 30),
                  out.succeeded,
                  let samples = try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]],
                  let value = samples.first?["value"] as? [Any], value.count == 2 else { return nil }
            return value[1] as? String
        }
        func wait(for promql: String, toBe expected: String, seconds: Double = 45) -> String? {
            var seen: String?
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                seen = query(promql)
                if seen == expected { break }
                usleep(500_000)
            }
            return seen
        }

        let tracer = try NstraceTracer(["-o", "json", "--comm", "unshare", "--metrics", "127.0.0.1:\(metricsPort)"])
        try tracer.waitUntilTracing()
        for _ in 0..<15 { try Command.check("/usr/bin/unshare", ["-u", "/bin/true"], timeout: 30) }
        let began = Date()
        let container = try Runtimes.start(.runc)
        let wall = Date().timeIntervalSince(began)
        try Runtimes.stop(container)

        let job = "job=\"nstrace\""
        XCTAssertEqual(wait(for: "nstrace_events_total{\(job),event=\"unshare\",runtime=\"none\"}", toBe: "15"), "15",
                       "Prometheus read nstrace_events_total back: \(log())")
        let count = "nstrace_container_startup_seconds_count{\(job),runtime=\"runc\"}"
        XCTAssertEqual(wait(for: count, toBe: "1"), "1", "one runc start in the histogram: \(tracer.stderrText) \(log())")
        let sum = Double(query("nstrace_container_startup_seconds_sum{\(job),runtime=\"runc\"}") ?? "") ?? -1
        print("runc start \(container.id): \(sum) s in the histogram; runtimes.sh start took \(wall) s")
        XCTAssertGreaterThan(sum, 0.001, "a start takes more than a millisecond")
        XCTAssertLessThan(sum, wall, "the start (runc invoked to the entrypoint's exec) is within runtimes.sh start")
        XCTAssertEqual(query("nstrace_container_startup_seconds_bucket{\(job),runtime=\"runc\",le=\"60.0\"}"), "1")
        XCTAssertNil(query("nstrace_container_startups_incomplete_total{\(job)}"), "the start was complete")
        XCTAssertEqual(query("up{\(job)}"), "1")
        XCTAssertGreaterThan(Double(query("process_resident_memory_bytes{\(job)}") ?? "") ?? 0, 1_048_576)
        XCTAssertNotNil(query("process_cpu_seconds_total{\(job)}"))
        XCTAssertEqual(query("nstrace_lost_events_total{\(job)}"), "0")
        XCTAssertGreaterThanOrEqual(Double(query("nstrace_containers_seen{\(job)}") ?? "") ?? 0, 1)
        let (lines, _) = try tracer.outputLines(containing: ["\"event\":\"pivot_root\""])
        XCTAssertTrue(lines.isEmpty, "the output filter (--comm unshare) does not limit the startup analysis")
        _ = try tracer.stop()
    }
}
