import Foundation
import XCTest
@testable import NstraceCore

/// The reports of every analysis fixture, byte for byte, against files kept beside the fixtures
/// (Tests/Fixtures/analysis/golden). The other analysis tests check properties; these hold the
/// whole output still, so that a change made for speed (how events are stored, decoded or
/// rendered) cannot alter a report unnoticed.
///
/// A change that means to alter a report regenerates the files and shows the difference in review:
/// `NSTRACE_UPDATE_GOLDEN=1 swift test --filter StartupReportGoldenTests`.
final class StartupReportGoldenTests: XCTestCase {
    static let fixtures = ["crun", "ctr", "docker", "docker-cut", "exec", "none", "podman",
                           "runc", "runc-cut-start", "runc-lossy", "runc-multi"]
    static let goldenDir = StartupAnalysisTests.dir.appendingPathComponent("golden")
    static var updating: Bool { ProcessInfo.processInfo.environment["NSTRACE_UPDATE_GOLDEN"] == "1" }

    func testEveryFixtureListed() throws {
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: StartupAnalysisTests.dir.path)
            .filter { $0.hasSuffix(".nst") }.map { String($0.dropLast(4)) }.sorted()
        XCTAssertEqual(onDisk, Self.fixtures.sorted(), "a fixture without golden reports")
    }

    func testTextReports() throws {
        try forEachFixture("txt") { StartupTextReport.render($0) }
    }

    func testJSONReports() throws {
        try forEachFixture("json") { StartupJSONReport.render($0) }
    }

    /// Two fixtures only: every HTML report carries the same style and script (several KB), and
    /// the data it draws comes from the analysis the text and JSON files already hold for all.
    /// docker has volumes, the engine's network and a name; runc-multi has many starts.
    func testHTMLReports() throws {
        for name in ["docker", "runc-multi"] {
            try check(StartupHTMLReport.render(try analysis(name)), "\(name).html")
        }
    }

    /// The diff of two real starts by different runtimes, in both of its formats.
    func testDiffReports() throws {
        let runc = try analysis("runc").startups, docker = try analysis("docker").startups
        let diff = StartupDiff(a: runc, b: docker)
        try check(diff.text(), "diff-runc-docker.txt")
        try check(diff.json(), "diff-runc-docker.json")
    }

    private func analysis(_ name: String) throws -> StartupAnalysis {
        try TraceAnalysis.analyze(files: [StartupAnalysisTests.fixture(name)]).0
    }

    private func forEachFixture(_ ext: String, _ render: (StartupAnalysis) -> String) throws {
        for name in Self.fixtures {
            try check(render(try analysis(name)), "\(name).\(ext)")
        }
    }

    /// Reports name the trace files they read; the fixtures' folder differs between clones.
    private func check(_ report: String, _ file: String, line: UInt = #line) throws {
        let output = report.replacingOccurrences(of: StartupAnalysisTests.dir.path, with: "$FIXTURES")
        let url = Self.goldenDir.appendingPathComponent(file)
        if Self.updating {
            try FileManager.default.createDirectory(at: Self.goldenDir, withIntermediateDirectories: true)
            try Data(output.utf8).write(to: url)
            return
        }
        let expected = try XCTUnwrap(FileManager.default.contents(atPath: url.path),
                                     "no golden file \(file): run with NSTRACE_UPDATE_GOLDEN=1", line: line)
        let actual = Data(output.utf8)
        guard actual != expected else { return }
        // Name the first differing byte, with its line and the bytes around it on both sides, so
        // the failure says where (the JSON reports are one line of several KB).
        let a = Array(actual), e = Array(expected)
        let at = (0..<min(a.count, e.count)).first { a[$0] != e[$0] } ?? min(a.count, e.count)
        let lineNo = a[..<at].reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
        func around(_ bytes: [UInt8]) -> String {
            let from = max(0, at - 60), to = min(bytes.count, at + 60)
            return from < to ? String(decoding: bytes[from..<to], as: UTF8.self).debugDescription : "<end>"
        }
        XCTFail("\(file) differs at byte \(at) (line \(lineNo)):\n  expected: \(around(e))\n  actual:   \(around(a))", line: line)
    }
}
