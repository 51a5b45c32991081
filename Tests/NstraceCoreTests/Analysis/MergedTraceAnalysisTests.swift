import Foundation
import XCTest
@testable import NstraceCore

/// Several files analysed as one timeline: their events reach the analyzer merged by time,
/// and each container start comes out as it does from its own file alone.
final class MergedTraceAnalysisTests: XCTestCase {
    func temp(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("nstrace-merge-\(UUID().uuidString)-\(name).nst").path
    }

    /// A copy of `fixture` with every event's timestamp (and the header's start) moved by `shift` ns.
    func shifted(_ fixture: String, by shift: Int64, to path: String) throws {
        let r = try TraceFileReader(path: fixture)
        var header = r.header
        header.startBootNs = UInt64(Int64(header.startBootNs) + shift)
        let w = try TraceFileWriter(path: path, header: header)
        try r.forEach { item in
            switch item {
            case .metadata(let m): try w.appendMetadata(m)
            case .event(let v):
                var e = Array(v.bytes)
                e.withUnsafeMutableBytes { p in
                    let ts = p.loadUnaligned(fromByteOffset: EventLayout.tsNs, as: UInt64.self)
                    p.storeBytes(of: UInt64(Int64(ts) + shift), toByteOffset: EventLayout.tsNs, as: UInt64.self)
                }
                try e.withUnsafeBytes { try w.append(record: $0) }
            }
        }
        _ = try w.finish(lost: r.trailer?.lost)
    }

    /// Everything the reports show of a start: its JSON and HTML reports alone (the HTML has
    /// every kept event's detail).
    func dump(_ s: ContainerStartup) -> String {
        let one = StartupAnalysis(files: [], startups: [s], knownContainers: [], eventsRead: 0, lostEvents: 0, cutFiles: [])
        return StartupJSONReport.render(one) + StartupHTMLReport.render(one)
    }

    func testOverlappingFilesAreMergedByTimeAndEachStartIsAsAlone() throws {
        // runc's start, and crun's moved in time so that it begins a third into runc's trace
        let runc = StartupAnalysisTests.fixture("runc")
        let r = try XCTUnwrap(TraceAnalysis.analyze(files: [runc]).0.startups.first)
        let c = try XCTUnwrap(TraceAnalysis.analyze(files: [StartupAnalysisTests.fixture("crun")]).0.startups.first)
        let crun = temp("crun")
        defer { unlink(crun) }
        try shifted(StartupAnalysisTests.fixture("crun"), by: Int64(r.startNs + (r.totalNs ?? 0) / 3) - Int64(c.startNs), to: crun)

        var keys: [(Int, UInt64)] = []
        let (merged, warnings) = try TraceAnalysis.analyze(files: [runc, crun], options: .init()) { keys.append(($0, $1)) }
        XCTAssertEqual(warnings, [])
        // the items came out in timestamp order, taking turns between the two files
        let eventKeys = keys.filter { $0.1 != .max }
        XCTAssertEqual(eventKeys.map(\.1), eventKeys.map(\.1).sorted(), "merged by time")
        let switches = zip(eventKeys, eventKeys.dropFirst()).filter { $0.0 != $1.0 }.count
        XCTAssertGreaterThan(switches, 2, "the files' events interleave")
        XCTAssertEqual(Set(eventKeys.map(\.0)), [0, 1])

        let (a0, a1) = try (TraceAnalysis.analyze(files: [runc]).0, TraceAnalysis.analyze(files: [crun]).0)
        let alone = a0.startups + a1.startups
        XCTAssertEqual(merged.startups.count, 2)
        XCTAssertEqual(Set(merged.startups.map(\.container.runtime)), ["runc", "crun"])
        XCTAssertEqual(merged.eventsRead, a0.eventsRead + a1.eventsRead)
        for s in merged.startups {
            let single = try XCTUnwrap(alone.first { $0.container.id == s.container.id })
            XCTAssertEqual(dump(s), dump(single), "\(s.container.runtime): the same start as from its file alone")
        }
        // the two starts overlap in time
        let (x, y) = (merged.startups[0], merged.startups[1])
        XCTAssertLessThan(y.startNs, try XCTUnwrap(x.endNs))
    }

    func testASplitRecordingMergesBackIntoTheSame() throws {
        // one recording cut in two at a time between its starts (rotated parts): every
        // metadata record in both, the events before the cut in one, the rest in the other
        let multi = StartupAnalysisTests.fixture("runc-multi")
        let whole = try TraceAnalysis.analyze(files: [multi]).0
        XCTAssertGreaterThan(whole.startups.count, 1)
        let cut = whole.startups[1].startNs
        let (first, second) = (temp("part1"), temp("part2"))
        defer { unlink(first); unlink(second) }
        let r = try TraceFileReader(path: multi)
        let w1 = try TraceFileWriter(path: first, header: r.header)
        var h2 = r.header
        h2.startBootNs = cut
        let w2 = try TraceFileWriter(path: second, header: h2)
        try r.forEach { item in
            switch item {
            case .metadata(let m): try w1.appendMetadata(m); try w2.appendMetadata(m)
            case .event(let v): try (v.tsNs - v.latencyNs < cut - 1_000_000 ? w1 : w2).append(record: v.bytes)
            }
        }
        _ = try w1.finish(lost: r.trailer?.lost)
        _ = try w2.finish(lost: r.trailer?.lost)
        // given in the wrong order: the headers put them right
        let parts = try TraceAnalysis.analyze(files: [second, first]).0
        XCTAssertEqual(parts.startups.count, whole.startups.count)
        XCTAssertEqual(parts.eventsRead, whole.eventsRead)
        XCTAssertEqual(parts.startups.map(\.container.id), whole.startups.map(\.container.id))
        for (p, w) in zip(parts.startups, whole.startups) {
            XCTAssertEqual(p.phases.map(\.phase), w.phases.map(\.phase), w.container.id)
            XCTAssertEqual(p.totalNs, w.totalNs, w.container.id)
            XCTAssertEqual(p.mountsByKind, w.mountsByKind, w.container.id)
            XCTAssertEqual(p.complete, w.complete, w.container.id)
        }
    }
}
