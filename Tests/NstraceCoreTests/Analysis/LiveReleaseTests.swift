import Foundation
import XCTest
@testable import NstraceCore

/// `StartupAnalyzer.releaseFinished`, the live use of the analysis (`live --metrics`): real
/// recorded starts fed event by event, finished starts taken as they complete, give the same
/// starts and totals as `nstrace analyze` of the whole file, and nothing stays behind.
final class LiveReleaseTests: XCTestCase {
    func released(_ name: String, every n: Int) throws -> (released: [ContainerStartup], left: StartupAnalysis) {
        let reader = try TraceFileReader(path: StartupAnalysisTests.fixture(name))
        let source = TraceFileAnalysisSource(name: name)
        let analyzer = StartupAnalyzer()
        analyzer.beginFile(name)
        var out: [ContainerStartup] = []
        var seen = 0
        try reader.forEach { item in
            switch item {
            case .metadata(let m):
                if let lost = source.apply(m) { analyzer.noteLost(total: lost) }
            case .event(let ev):
                source.adapter.feed(ev, attribution: source.replay.attribution, into: analyzer)
                seen += 1
                if seen % n == 0 { out += analyzer.releaseFinished(staleBeforeNs: 0) }
            }
        }
        out += analyzer.releaseFinished(staleBeforeNs: 0)
        return (out, analyzer.finish())
    }

    func testFinishedStartsAreReleasedWithTheTotalsOfTheWholeFileAnalysis() throws {
        for name in ["runc-multi", "runc", "crun", "docker", "podman", "ctr"] {
            let whole = try TraceAnalysis.analyze(files: [StartupAnalysisTests.fixture(name)]).0.startups.filter(\.complete)
            XCTAssertFalse(whole.isEmpty, name)
            for every in [1, 50] {
                let (live, left) = try released(name, every: every)
                let done = live.filter(\.complete).sorted { $0.startNs < $1.startNs }
                XCTAssertEqual(done.map(\.container.id), whole.map(\.container.id), "\(name), every \(every)")
                XCTAssertEqual(done.map(\.totalNs), whole.map(\.totalNs), "\(name), every \(every): the same totals")
                XCTAssertEqual(done.count, live.count, "\(name): no start reported twice, none incomplete")
                XCTAssertTrue(left.startups.allSatisfy { !$0.complete }, "\(name): every finished start was released")
                XCTAssertFalse(left.startups.contains { s in live.contains { $0.container.id == s.container.id } },
                               "\(name): a released start is not kept")
            }
        }
    }

    func testStaleContainersAreLetGoUnreported() throws {
        let (live, left) = try released("runc", every: 1)
        XCTAssertEqual(live.count, 1)
        // everything is older than "now": a start in progress would be let go, reported by id only
        let reader = try TraceFileReader(path: StartupAnalysisTests.fixture("runc"))
        let source = TraceFileAnalysisSource(name: "runc")
        let analyzer = StartupAnalyzer()
        var consumed = 0
        try reader.forEach { item in
            guard case .event(let ev) = item, consumed < 20 else {
                if case .metadata(let m) = item { _ = source.apply(m) }
                return
            }
            // attributed here, to count the container's events (each kept by the analyzer)
            let found = source.replay.attribution.attribute(ev)
            source.adapter.feed(ev, container: found.container, target: found.target,
                                attribution: source.replay.attribution, into: analyzer)
            if found.container != nil { consumed += 1 }
        }
        XCTAssertGreaterThan(consumed, 0)
        XCTAssertFalse(analyzer.finish().startups.isEmpty, "a start in progress is there")
        XCTAssertTrue(analyzer.releaseFinished(staleBeforeNs: 0).isEmpty, "nothing finished, nothing stale")
        XCTAssertTrue(analyzer.releaseFinished(staleBeforeNs: .max).isEmpty, "an unfinished start is not reported")
        XCTAssertTrue(analyzer.finish().startups.isEmpty, "but let go")
        _ = left
    }
}
