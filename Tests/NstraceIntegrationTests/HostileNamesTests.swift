import Foundation
import XCTest
import NstraceTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Every output is given a container name and a mount path carrying ESC, CR, BEL, a C1 CSI
/// (0x9B), a right-to-left override (U+202E) and an invalid byte: live text, show text and
/// JSON, info text and JSON, containers, ns, mounts, netns expose and unexpose, and an error
/// message quoting the name. No raw control or format character may reach stdout or stderr,
/// and every JSON output must parse.
///
/// The container is made for real, the way systemd-nspawn makes one: a process in the cgroup
/// `machine-<name>.scope`, in its own mount and network namespaces, with a tmpfs mounted on
/// the hostile path.
final class HostileNamesTests: XCTestCase {
    /// The name's bytes, as the cgroup directory and the mount path carry them.
    private static let hostile: [UInt8] = Array("nst".utf8) + [0x1B] + Array("[2J".utf8) + [0x0D, 0x07, 0xC2, 0x9B, 0xE2, 0x80, 0xAE, 0xFF] + Array("evil".utf8)

    private var scratch: URL!
    private var cgroup: [UInt8] = []
    private var sleeper: Child?

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("nstrace-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        sleeper?.kill(group: true)
        if !cgroup.isEmpty {
            for _ in 0..<50 where rmdir(cString(cgroup)) != 0 { usleep(20_000) }
        }
        try? FileManager.default.removeItem(at: scratch)
    }

    func testNoOutputLetsAHostileNameOrPathThrough() throws {
        guard Harness.requireRoot() else { return }
        // The cgroup of the "machine": its directory name is the hostile name, raw.
        let mountTable = try String(contentsOfFile: "/proc/self/mounts", encoding: .utf8).split(separator: "\n")
        let cgroup2 = try XCTUnwrap(mountTable.map { $0.split(separator: " ") }.first { $0.count > 2 && $0[2] == "cgroup2" }?[1], "no cgroup2 mount")
        cgroup = Array(cgroup2.utf8) + Array("/machine-".utf8) + Self.hostile + Array(".scope".utf8)

        let live = try NstraceTracer(["--color", "never", "--containers-only"])
        defer { live.kill() }
        let file = scratch.appendingPathComponent("hostile.nst").path
        let recorder = try NstraceTracer(["record", "-w", file, "--containers-only"])
        defer { recorder.kill() }
        try live.waitUntilTracing()
        try recorder.waitUntilTracing()
        // made while tracing: the cgroup_mkdir event tells its path
        guard mkdir(cString(cgroup), 0o755) == 0 else {
            return XCTFail("cannot create the cgroup: \(String(cString: strerror(errno)))")
        }

        // Into the cgroup, then new mount and network namespaces (unshare execs in place: the
        // pid stays), a tmpfs on the hostile path, then sleep.
        let script = #"""
            set -e
            echo $$ > "$1/cgroup.procs"
            exec unshare -m -n --propagation private sh -c '
                d=$(printf "%s/nst\033[2J\r\007\302\233\342\200\256\377evil" "$1")
                mkdir -p "$d"
                mount -t tmpfs none "$d"
                touch "$1/ready"
                exec sleep 60' sh "$2"
            """#
        // the cgroup path is not UTF-8, which a Swift argument cannot carry: a symlink to it can
        let link = scratch.appendingPathComponent("cgroup").path
        guard symlink(cString(cgroup), link) == 0 else { return XCTFail("symlink: \(String(cString: strerror(errno)))") }
        let sleeperErr = scratch.appendingPathComponent("machine.err").path
        let process = try Child("/bin/sh", ["-c", script, "sh", link, scratch.path],
                                stdout: scratch.appendingPathComponent("machine.out").path, stderr: sleeperErr, newGroup: true)
        sleeper = process
        let ready = scratch.appendingPathComponent("ready").path
        for _ in 0..<250 where !FileManager.default.fileExists(atPath: ready) && process.isRunning { usleep(20_000) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: ready),
                      "the machine's process did not start: \((try? String(contentsOfFile: sleeperErr, encoding: .utf8)) ?? "")")
        let pid = String(process.pid)

        let liveOut = try live.stopCollecting()
        let recorded = try recorder.stopCollecting()
        assertSafe(liveOut.stdout, "live text stdout")
        assertSafe(Data(liveOut.stderr.utf8), "live stderr")
        assertSafe(Data(recorded.stderr.utf8), "record stderr")
        let liveText = String(decoding: liveOut.stdout, as: UTF8.self)
        XCTAssertTrue(liveText.contains("nst\\x1B[2J\\r\\x07"), "live text does not show the container: \(liveText)")
        XCTAssertTrue(liveText.contains("\\u{202E}"), liveText)

        // The trace file, read back every way.
        let show = try nstrace(["show", file, "--color", "never"])
        XCTAssertTrue(String(decoding: show, as: UTF8.self).contains("nst\\x1B[2J\\r\\x07"), String(decoding: show, as: UTF8.self))
        let shownJSON = try nstrace(["show", file, "-o", "json"])
        var named = 0
        for line in shownJSON.split(separator: UInt8(ascii: "\n")) {
            let event = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], "show -o json: \(String(decoding: line, as: UTF8.self))")
            if let container = event["container"] as? [String: Any], (container["name"] as? String)?.hasPrefix("nst\u{1B}[2J\r\u{07}\u{9B}\u{202E}") == true {
                named += 1
            }
        }
        XCTAssertGreaterThan(named, 0, "no event of the machine in show -o json")
        _ = try nstrace(["info", file])
        try parse(try nstrace(["info", file, "-o", "json"]), "info -o json")
        try parse(try nstrace(["export", file, "-o", "chrome"]), "export -o chrome")

        // The host-side views, while the machine runs.
        let containers = try nstrace(["containers"])
        XCTAssertTrue(String(decoding: containers, as: UTF8.self).contains("nst\\x1B[2J"), String(decoding: containers, as: UTF8.self))
        let list = try XCTUnwrap(try parse(try nstrace(["containers", "-o", "json"]), "containers -o json") as? [[String: Any]])
        let machine = try XCTUnwrap(list.first { ($0["runtime"] as? String) == "nspawn" && ($0["name"] as? String)?.hasPrefix("nst\u{1B}") == true },
                                    "the machine is not among the containers")
        let id = try XCTUnwrap(machine["id"] as? String)
        _ = try nstrace(["ns", pid])
        try parse(try nstrace(["ns", pid, "-o", "json"]), "ns -o json")
        let mounts = try nstrace(["mounts", pid])
        XCTAssertTrue(String(decoding: mounts, as: UTF8.self).contains("\\u{202E}\u{FFFD}evil"), String(decoding: mounts, as: UTF8.self))
        try parse(try nstrace(["mounts", pid, "-o", "json"]), "mounts -o json")

        // netns: exposed under the machine's own (hostile) name, then removed by it.
        let exposed = String(decoding: try nstrace(["netns", "expose", id]), as: UTF8.self)
        XCTAssertTrue(exposed.contains("exposed net:["), exposed)
        let name = try XCTUnwrap(machine["name"] as? String)
        let removed = String(decoding: try nstrace(["netns", "unexpose", name]), as: UTF8.self)
        XCTAssertTrue(removed.contains("removed /run/netns/nst\\x1B"), removed)

        // An error message quoting the name.
        let missing = try Harness.runCapturing(Harness.nstrace, ["mounts", name + "-gone"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("nst\\x1B[2J"), missing.stderr)
        assertSafe(missing.stdout, "mounts error stdout")
        assertSafe(Data(missing.stderr.utf8), "mounts error stderr")
    }

    /// Runs nstrace, which must succeed; checks both streams; returns stdout.
    private func nstrace(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> Data {
        let result = try Harness.runCapturing(Harness.nstrace, arguments)
        let what = "nstrace " + arguments.joined(separator: " ")
        XCTAssertEqual(result.status, 0, "\(what): \(result.stderr)", file: file, line: line)
        assertSafe(result.stdout, what + " stdout", file: file, line: line)
        assertSafe(Data(result.stderr.utf8), what + " stderr", file: file, line: line)
        return result.stdout
    }

    @discardableResult
    private func parse(_ data: Data, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: data)
        } catch {
            XCTFail("\(what) is not valid JSON: \(error): \(String(decoding: data, as: UTF8.self))", file: file, line: line)
            throw error
        }
    }

    /// Valid UTF-8 with no control character but newline, no DEL or C1, no format character.
    private func assertSafe(_ data: Data, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let text = String(validating: data, as: UTF8.self) else {
            return XCTFail("\(what): not valid UTF-8", file: file, line: line)
        }
        for scalar in text.unicodeScalars {
            let v = scalar.value
            let bad = (v < 0x20 && v != 0x0A) || (v >= 0x7F && v < 0xA0) || (v >= 0x200B && v <= 0x200F)
                || (v >= 0x2028 && v <= 0x202E) || (v >= 0x2066 && v <= 0x2069) || v == 0xFEFF
            if bad {
                return XCTFail("\(what): raw U+\(String(v, radix: 16, uppercase: true)) in \(text.debugDescription)", file: file, line: line)
            }
        }
    }

    private func cString(_ bytes: [UInt8]) -> [CChar] {
        bytes.map { CChar(bitPattern: $0) } + [0]
    }
}
