import XCTest
@testable import NstraceCore

/// The compact stored event (issue 9): its detail line, formatted later from the record kept
/// in compact form, is the line `show` formats from the record as read; an event made by hand
/// survives storing and reading back; moving an event to another arena keeps every field.
final class StoredEventTests: XCTestCase {
    /// Every event of every analysis fixture (real runtimes' starts, hostile-free but with cut
    /// argv, failed calls, fd-named targets): stored, then formatted from the arena.
    func testDetailFromTheStoredRecordIsTheLineShowPrints() throws {
        let formatter = TextFormatter(color: false, clock: WallClock(bootToRealtimeNs: 0, utcOffsetSeconds: 0))
        var checked = 0
        // one scratch for every record, as a report uses it: what a longer record left in it
        // must not show in a later line
        let scratch = StoredEventDetail.Scratch()
        for name in StartupReportGoldenTests.fixtures {
            let reader = try TraceFileReader(path: StartupAnalysisTests.fixture(name))
            var arena = EventArena()
            try reader.forEach { item in
                guard case .event(let ev) = item else { return }
                var direct = OutputBuffer(capacity: 512)
                formatter.appendDetail(ev, into: &direct)
                let span = StoredEventDetail.store(ev, into: &arena)
                var later = OutputBuffer(capacity: 512)
                StoredEventDetail.append(span, in: arena, into: &later, scratch: scratch)
                XCTAssertEqual(later.string, direct.string, "\(name): \(ev.type.name) of pid \(ev.pid)")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 1000)
    }

    /// A hand-made event with hostile bytes, absent and empty strings, two namespaces and what
    /// the entrypoint shares: every field read back as it was, also after a move to another arena.
    func testHandMadeEventRoundTrip() throws {
        let c = AnalysisEvent.Container(id: "c", runtime: "runc")
        var e = AnalysisEvent(kind: .exec, name: "exec", tsNs: 7, latencyNs: 3, pid: 10, tid: 11, comm: "a\\x1Bb",
                              errno: 2, container: c, detail: "the line")
        e.namespaceFlags = 0x2000_0000
        e.namespaces = [("pid", 4026532001), ("mnt", 4026532002)]
        e.netns = 99
        e.sharedWithHost = ["cgroup", "time", "user"]
        e.source = ""
        e.target = "/proc/self/fd/6"
        e.resolvedTarget = "/home/<x>"
        e.mountFlags = MountBits.bind
        e.filename = "/usr/bin/runc"
        e.argv = ["runc", "", "--root", "/run/runc", "create", "id"]
        e.isRuntime = true
        e.isEngine = true
        e.ppid = 1
        var arena = EventArena()
        _ = arena.append("padding, so that offsets differ between the two arenas")
        let stored = StoredEvent(e, into: &arena)
        var other = EventArena()
        let moved = stored.copied(from: arena, into: &other)
        for (s, a) in [(stored, arena), (moved, other)] {
            // read back as the reports read it (`StartupEvent`), and the fields only the rules read
            let back = StartupEvent(stored: s, arena: a)
            XCTAssertEqual(back.kind, e.kind)
            XCTAssertEqual(back.name, e.name)
            XCTAssertEqual([back.tsNs, back.latencyNs, back.namespaceFlags, back.mountFlags], [7, 3, 0x2000_0000, MountBits.bind])
            XCTAssertEqual([back.pid, back.tid, s.ppid, s.netns], [10, 11, 1, 99])
            XCTAssertEqual(back.comm, e.comm)
            XCTAssertEqual(back.errno, 2)
            var namespaces: [(String, UInt32)] = []
            a.forEachNamespace(s) { namespaces.append(($0.name, $1)) }
            XCTAssertEqual(namespaces.map(\.0), ["pid", "mnt"])
            XCTAssertEqual(namespaces.map(\.1), [4026532001, 4026532002])
            XCTAssertEqual(StoredEvent.sharedNames(s.sharedWithHost), ["cgroup", "time", "user"])
            XCTAssertEqual(back.source, "")
            XCTAssertEqual(back.target, e.target)
            XCTAssertNil(back.fstype)
            XCTAssertEqual(a.string(s.resolvedTarget), e.resolvedTarget)
            XCTAssertEqual(back.filename, e.filename)
            XCTAssertEqual(back.argv, e.argv)
            XCTAssertTrue(back.isRuntime && s.isEngine && s.attributed)
            XCTAssertEqual(back.detail, "the line")
            XCTAssertTrue(a.equals(s.target, "/proc/self/fd/6"))
            XCTAssertTrue(a.hasPrefix(s.target, "/proc/") && a.hasSuffix(s.target, "fd/6"))
            XCTAssertFalse(a.equals(s.fstype, ""), "absent is not empty")
            XCTAssertEqual(a.namespace(s, .mnt), 4026532002)
        }
    }

    /// `isPlainText` (eight bytes at a time) answers as the byte-by-byte rule does:
    /// every byte value at every position of words and tails, next to printable neighbours
    /// and next to bytes whose carry could disturb a word trick (0xFF, 0x00).
    func testPlainTextCheckAgreesWithTheByteRule() {
        func slow(_ b: [UInt8]) -> Bool { !b.contains { $0 < 0x20 || $0 >= 0x7F || $0 == 0x5C } }
        var checked = 0
        for fill: UInt8 in [0x61, 0x20, 0x7E, 0x5B, 0x5D] {
            for length in [1, 7, 8, 9, 16, 19] {
                for at in 0 ..< length {
                    for value in 0 ... 255 {
                        var b = [UInt8](repeating: fill, count: length)
                        b[at] = UInt8(value)
                        XCTAssertEqual(b.withUnsafeBytes { isPlainText($0) }, slow(b), "\(b)")
                        if at + 1 < length {
                            for neighbour: UInt8 in [0x00, 0xFF, 0x7F, 0x1F] {
                                b[at + 1] = neighbour
                                XCTAssertEqual(b.withUnsafeBytes { isPlainText($0) }, slow(b), "\(b)")
                                b[at + 1] = fill
                            }
                        }
                        checked += 1
                    }
                }
            }
        }
        XCTAssertTrue([UInt8]().withUnsafeBytes { isPlainText($0) })
        XCTAssertGreaterThan(checked, 10_000)
    }
}
