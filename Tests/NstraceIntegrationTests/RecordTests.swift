import Foundation
import XCTest
import NstraceTestSupport

/// `nstrace record`, then `show`, `export`, `info` on the file: the real tracer, real syscalls,
/// the real binary reading its own files back (as a user without root where it should).
final class RecordTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("nstrace-record-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    /// Events of the same run, live and recorded by two tracers at once, must be the same
    /// events with the same content; only their timing fields differ (each tracer's programs
    /// read the clock themselves).
    func testShowOfARecordingEqualsLiveJSON() throws {
        guard Harness.requireRoot() else { return }
        let file = scratch.appendingPathComponent("run.nst").path
        let live = try NstraceTracer(["-o", "json", "--comm", "nstdrv"])
        defer { live.kill() }
        let recorder = try NstraceTracer(["record", "-w", file, "--comm", "nstdrv"])
        defer { recorder.kill() }
        try live.waitUntilTracing()
        try recorder.waitUntilTracing()
        _ = try Harness.run(Harness.driver, ["unshare", "setns", "mount", "fsmount", "bad_mount"])
        let liveOut = try live.stopCollecting()
        let recorded = try recorder.stopCollecting()
        XCTAssertTrue(recorded.stderr.contains("events recorded to \(file)"), recorded.stderr)
        XCTAssertTrue(recorded.stderr.contains(" 0 lost"), recorded.stderr)

        // show needs no root: read the file as nobody
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: scratch.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        let shown = try Harness.runCapturing(URL(fileURLWithPath: "/usr/bin/setpriv"),
                                             ["--reuid=65534", "--regid=65534", "--clear-groups", Harness.nstrace.path, "show", file, "-o", "json"])
        XCTAssertEqual(shown.status, 0, shown.stderr)
        let liveEvents = try Self.normalized(liveOut.stdout)
        let shownEvents = try Self.normalized(shown.stdout)
        XCTAssertGreaterThan(liveEvents.count, 20)
        XCTAssertEqual(shownEvents.count, liveEvents.count)
        XCTAssertEqual(shownEvents, liveEvents, "show -o json differs from live -o json beyond timing fields")
    }

    func testRecordToStdoutPipesIntoShowAndInfoOfAClosedFile() throws {
        guard Harness.requireRoot() else { return }
        let file = scratch.appendingPathComponent("piped.nst").path
        // record -w - > file, stopped with SIGTERM: the trailer is written, exit 0
        let recorder = try NstraceTracer(["record", "-w", "-", "--comm", "nstdrv", "-z"], stdoutPath: file)
        defer { recorder.kill() }
        try recorder.waitUntilTracing()
        _ = try Harness.run(Harness.driver, ["unshare"])
        let result = try recorder.stopCollecting(signal: SIGTERM)
        XCTAssertTrue(result.stderr.contains("events recorded to stdout"), result.stderr)

        let info = try Harness.runCapturing(Harness.nstrace, ["info", file, "-o", "json"])
        XCTAssertEqual(info.status, 0, info.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: info.stdout) as? [String: Any])
        XCTAssertEqual(object["complete"] as? Bool, true, "SIGTERM writes the trailer")
        XCTAssertEqual((object["events_by_type"] as? [String: Int])?["unshare"], 8)
        XCTAssertEqual(object["lost"] as? Int, 0)

        // and read back through stdin
        let shown = try Harness.runCapturing(URL(fileURLWithPath: "/bin/sh"),
                                             ["-c", "\"$0\" show - --event unshare < \"$1\"", Harness.nstrace.path, file])
        XCTAssertEqual(shown.status, 0, shown.stderr)
        XCTAssertEqual(shown.stdout.split(separator: UInt8(ascii: "\n")).count, 1 + 8, String(decoding: shown.stdout, as: UTF8.self))
    }

    /// kill -9 at random moments: the file always reads back, up to its last complete block,
    /// and says it was cut.
    func testKillNineAtRandomMomentsLeavesEveryCompleteBlockReadable() throws {
        guard Harness.requireRoot() else { return }
        var generator = SystemRandomNumberGenerator()
        var eventsSeen = 0
        for round in 0..<8 {
            let file = scratch.appendingPathComponent("killed-\(round).nst").path
            let recorder = try NstraceTracer(["record", "-w", file, "--comm", "nstdrv"])
            defer { recorder.kill() }
            try recorder.waitUntilTracing()
            _ = try Harness.run(Harness.driver, ["unshare", "mount"])
            usleep(UInt32.random(in: 0...400_000, using: &generator))
            recorder.kill()
            recorder.waitForExit()
            // killed before renaming into place: the data is in FILE.part-XXXXXX (docs/cli.md)
            XCTAssertFalse(FileManager.default.fileExists(atPath: file), "round \(round): a half-written file under the final name")
            let parts = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasPrefix("killed-\(round).nst.part-") }
            XCTAssertEqual(parts.count, 1, "round \(round): \(parts)")
            let part = scratch.appendingPathComponent(try XCTUnwrap(parts.first)).path

            let info = try Harness.runCapturing(Harness.nstrace, ["info", part, "-o", "json"])
            XCTAssertEqual(info.status, 0, "round \(round): \(info.stderr)")
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: info.stdout) as? [String: Any])
            XCTAssertEqual(object["complete"] as? Bool, false, "round \(round): killed, so no trailer")
            XCTAssertTrue(info.stderr.contains("was cut at byte"), "round \(round): \(info.stderr)")
            eventsSeen += object["events"] as? Int ?? 0

            let shown = try Harness.runCapturing(Harness.nstrace, ["show", part, "-o", "json"])
            XCTAssertEqual(shown.status, 0, "round \(round): \(shown.stderr)")
            for line in shown.stdout.split(separator: UInt8(ascii: "\n")) {
                XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(line)), "round \(round)")
            }
        }
        // the recorder flushes every poll turn (100 ms): most rounds keep the driver's events
        XCTAssertGreaterThan(eventsSeen, 0, "no round kept a single event")
    }

    func testChromeExportHasATrackPerProcessAndParses() throws {
        guard Harness.requireRoot() else { return }
        let file = scratch.appendingPathComponent("chrome.nst").path
        let recorder = try NstraceTracer(["record", "-w", file, "--comm", "nstdrv"])
        defer { recorder.kill() }
        try recorder.waitUntilTracing()
        let facts = String(decoding: try Harness.run(Harness.driver, ["clone", "mount"]), as: UTF8.self)
        _ = try recorder.stopCollecting()
        let out = scratch.appendingPathComponent("chrome.json").path
        let export = try Harness.runCapturing(Harness.nstrace, ["export", file, "-o", "chrome", "-w", out])
        XCTAssertEqual(export.status, 0, export.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        let events = try XCTUnwrap(object["traceEvents"] as? [[String: Any]])
        let names = Set(events.compactMap { $0["name"] as? String })
        XCTAssertTrue(names.isSuperset(of: ["mount", "umount", "clone pid+uts"]), "\(names.sorted())")
        let processNames = events.filter { $0["ph"] as? String == "M" && $0["name"] as? String == "process_name" }
            .compactMap { ($0["args"] as? [String: Any])?["name"] as? String }
        XCTAssertTrue(processNames.contains("host"), "\(processNames)")
        // a thread track per traced process: the driver's children made the calls
        let mountPid = facts.split(separator: "\n").first { $0.hasPrefix("mount-tmpfs") }?
            .split(separator: " ").first { $0.hasPrefix("pid=") }.map { Int($0.dropFirst(4)) ?? -1 }
        XCTAssertTrue(events.contains { $0["name"] as? String == "mount" && $0["tid"] as? Int == mountPid }, "no mount slice on the track of pid \(mountPid ?? -1)")
    }

    /// --max-size: every file of the rotation is complete on its own.
    func testRotationKeepsCompleteFiles() throws {
        guard Harness.requireRoot() else { return }
        let file = scratch.appendingPathComponent("rotated.nst").path
        let recorder = try NstraceTracer(["record", "-w", file, "--comm", "nstdrv", "--max-size", "64K"])
        defer { recorder.kill() }
        try recorder.waitUntilTracing()
        for _ in 0..<24 { _ = try Harness.run(Harness.driver, ["all"]) }  // about 110 KB of events
        let result = try recorder.stopCollecting()
        // how many files depends on the host snapshot each one repeats (containers, cgroups)
        var names = [file]
        while FileManager.default.fileExists(atPath: file + ".\(names.count)") { names.append(file + ".\(names.count)") }
        XCTAssertGreaterThanOrEqual(names.count, 2, "110 KB of events at --max-size 64K: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("in \(names.count) files"), result.stderr)
        var total = 0
        for name in names {
            let info = try Harness.runCapturing(Harness.nstrace, ["info", name, "-o", "json"])
            XCTAssertEqual(info.status, 0, info.stderr)
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: info.stdout) as? [String: Any])
            XCTAssertEqual(object["complete"] as? Bool, true, "\(name) has its trailer")
            XCTAssertLessThanOrEqual(object["bytes"] as? Int ?? .max, 64 * 1024 + (1 << 20), name)
            total += object["events"] as? Int ?? 0
        }
        XCTAssertEqual(total, 24 * 40, "every event of the 24 driver runs in one of the files")
    }

    func testAFullDiskIsOneLineAndExitStatusOne() throws {
        guard Harness.requireRoot() else { return }
        let r = try Harness.runCapturing(Harness.nstrace, ["record", "-w", "/dev/full", "--duration", "2"])
        XCTAssertEqual(r.status, 1, r.stderr)
        let lines = r.stderr.split(separator: "\n").filter { !$0.contains("nstrace: tracing") }
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("/dev/full") && r.stderr.contains("ENOSPC"), r.stderr)
    }

    func testDamagedAndForeignFilesGiveOneLineErrors() throws {
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 7, count: 100)),
            ("random", (0..<4096).map { _ in UInt8.random(in: 0...255) }),
        ]
        for (name, bytes) in cases {
            let file = scratch.appendingPathComponent(name + ".nst").path
            FileManager.default.createFile(atPath: file, contents: Data(bytes))
            for command in [["show", file], ["info", file], ["export", file, "-o", "chrome"]] {
                let r = try Harness.runCapturing(Harness.nstrace, command)
                XCTAssertEqual(r.status, 1, "\(name) \(command[0]): \(r.stderr)")
                let lines = r.stderr.split(separator: "\n")
                XCTAssertEqual(lines.count, 1, "\(name) \(command[0]): \(r.stderr)")
                XCTAssertTrue(r.stderr.hasPrefix("nstrace: "), r.stderr)
                XCTAssertTrue(r.stderr.contains("offset") || r.stderr.contains("byte"), "\(name): the error names where: \(r.stderr)")
            }
        }
        let missing = try Harness.runCapturing(Harness.nstrace, ["show", scratch.appendingPathComponent("nope.nst").path])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
    }

    /// Every event as a comparable JSON string, without what two tracers cannot share.
    static func normalized(_ output: Data) throws -> [String] {
        try output.split(separator: UInt8(ascii: "\n")).map { line -> String in
            var e = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            for key in ["time", "ts_ns", "latency_ns"] { e.removeValue(forKey: key) }
            let data = try JSONSerialization.data(withJSONObject: e, options: [.sortedKeys])
            return String(decoding: data, as: UTF8.self)
        }.sorted()
    }
}
