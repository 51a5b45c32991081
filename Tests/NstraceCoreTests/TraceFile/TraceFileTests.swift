import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import NstraceCore

final class TraceFileTests: XCTestCase {
    // MARK: round trip

    func testRoundTripPlain() throws {
        try roundTrip(TraceWriteOptions(blockBytes: 4096))
    }

    func testRoundTripCompressed() throws {
        try roundTrip(TraceWriteOptions(compress: true, blockBytes: 4096))
    }

    func testRoundTripVerbatimRecords() throws {
        try roundTrip(TraceWriteOptions(blockBytes: 4096, compactRecords: false))
    }

    func testRoundTripLargeBlocks() throws {
        try roundTrip(TraceWriteOptions(compress: true, blockBytes: 8 << 20), events: 3000)
    }

    private func roundTrip(_ options: TraceWriteOptions, events n: Int = 300, file: StaticString = #filePath, line: UInt = #line) throws {
        let events = TF.events(n)
        let ops = TF.script(events: events)
        let bytes = try TF.write(ops, options: options)
        let (r, items) = try TF.read(bytes)
        XCTAssertEqual(items, TF.expected(ops), "items, byte for byte", file: file, line: line)
        XCTAssertEqual(r.header, TF.header, file: file, line: line)
        XCTAssertEqual(r.header.fields["command_line"], "nstrace record -w t.nst", file: file, line: line)
        XCTAssertFalse(r.wasCut, file: file, line: line)
        XCTAssertNil(r.cutOffset, file: file, line: line)
        XCTAssertEqual(r.warnings, [], file: file, line: line)
        let t = try XCTUnwrap(r.trailer, file: file, line: line)
        XCTAssertEqual(t.events, UInt64(n), file: file, line: line)
        XCTAssertEqual(t.metadataRecords, UInt64(TF.expected(ops).count - n), file: file, line: line)
        XCTAssertEqual(t.lost, TraceLostCounts(ringbuf: 3, pending: 1), file: file, line: line)
        XCTAssertEqual(t.firstTsNs, events.first!.withView { $0.tsNs }, file: file, line: line)
        XCTAssertEqual(t.lastTsNs, events.last!.withView { $0.tsNs }, file: file, line: line)
        XCTAssertEqual(Int(t.blocks), TF.blocks(bytes).count - 1, file: file, line: line)
        XCTAssertEqual(r.eventsRead, UInt64(n), file: file, line: line)
        XCTAssertEqual(r.bytesRead, bytes.count, file: file, line: line)
    }

    func testHeaderOnlyFileIsCutButReadable() throws {
        let bytes = try TF.write([], finish: false)
        let (r, items) = try TF.read(bytes)
        XCTAssertEqual(items, [])
        XCTAssertTrue(r.wasCut)
        XCTAssertEqual(r.cutOffset, bytes.count)
        XCTAssertEqual(r.warnings.first?.kind, .cut)
        XCTAssertTrue(r.warnings.first!.description.contains("without a trailer"), r.warnings.first!.description)
    }

    func testCompactRecordsComeBackCanonical() throws {
        // The ring buffer leaves the string bytes after str_len undefined (not zeroed).
        var f = Fixture(.mount)
        f.setString(0, "src")
        f.setString(1, "/target")
        var raw = f.bytes
        for i in (EventLayout.strings + 3)..<(EventLayout.strings + 512) { raw[i] = 0xAA }   // slot 0 tail garbage
        raw[EventLayout.strings + 512 * 3 + 100] = 0x55                                     // slot 3 garbage
        let garbage = try Event(bytes: raw)

        let compact = try TF.write([.event(garbage)])
        guard case .event(let back)? = try TF.read(compact).1.first else { return XCTFail("no event") }
        XCTAssertEqual(back.bytes, f.bytes, "tails restored as zeros")
        back.withView { v in garbage.withView { g in
            for s in 0..<4 { XCTAssertEqual(Array(v.string(s)), Array(g.string(s))) }
        } }

        let verbatim = try TF.write([.event(garbage)], options: TraceWriteOptions(blockBytes: 4096, compactRecords: false))
        guard case .event(let same)? = try TF.read(verbatim).1.first else { return XCTFail("no event") }
        XCTAssertEqual(same.bytes, raw, "verbatim keeps every byte")
        XCTAssertLessThan(compact.count + 2000, verbatim.count)
    }

    func testEventsAreSortedWithinABlock() throws {
        let events = TF.events(50)
        let shuffled = Array(events.reversed())
        let ops = shuffled.map { TF.Op.event($0) }
        let sorted = try TF.read(try TF.write(ops, options: TraceWriteOptions(blockBytes: 1 << 20))).1
        XCTAssertEqual(sorted, events.map { .event($0) })
        let kept = try TF.read(try TF.write(ops, options: TraceWriteOptions(blockBytes: 1 << 20, sortWithinBlock: false))).1
        XCTAssertEqual(kept, shuffled.map { .event($0) })
    }

    func testMetadataTypedRoundTrip() throws {
        let c = TraceMetadata.Container(id: "f00d", runtime: "podman", name: "db", image: "postgres:16", pod: "p",
                                  podNamespace: "ns", podUID: "uid", containerdNamespace: "k8s.io",
                                  cgroupIDs: [1, 2], cgroupPath: "/kubepods/pod1/f00d", pid: 77,
                                  namespaces: ["net": 5], sharedWithHost: ["net"], mountinfo: "x\n",
                                  state: "running", extra: ["label": "v"])
        let snap = TraceMetadata.HostSnapshot(hostNamespaces: ["mnt": 1], namespaces: [.init(type: "net", inode: 9, pids: [1], containerID: "f00d")],
                                        containers: [c], hostMountinfo: "m\n", cgroup2Mount: "/sys/fs/cgroup/unified")
        let cgroup = TraceMetadata.Cgroup(id: 3, path: "/system.slice/x", containerID: "x")
        let ops: [TF.Op] = [.metadata(try TraceMetadata(c, tsNs: 1)), .metadata(try TraceMetadata(snap)),
                            .metadata(try TraceMetadata(cgroup)), .metadata(try TraceMetadata(TraceMetadata.Lost(ringbuf: 1, pending: 2, submitted: 3)))]
        let items = try TF.read(try TF.write(ops, options: TraceWriteOptions(compress: true))).1
        XCTAssertEqual(items, TF.expected(ops))
        guard case .metadata(let m0) = items[0], case .metadata(let m1) = items[1], case .metadata(let m2) = items[2] else {
            return XCTFail("metadata expected")
        }
        XCTAssertEqual(try m0.decode(TraceMetadata.Container.self), c)
        XCTAssertEqual(m0.tsNs, 1)
        XCTAssertEqual(try m1.decode(TraceMetadata.HostSnapshot.self), snap)
        XCTAssertEqual(try m2.decode(TraceMetadata.Cgroup.self), cgroup)
        XCTAssertTrue(m0.jsonString.contains("\"pod_namespace\":\"ns\""), m0.jsonString)
        // wrong kind, wrong JSON: errors, not crashes
        XCTAssertThrowsError(try m0.decode(TraceMetadata.Lost.self))
        XCTAssertThrowsError(try TraceMetadata(kind: "lost", version: 1, json: Array("{\"ringbuf\":\"x\"}".utf8)).decode(TraceMetadata.Lost.self)) {
            XCTAssertTrue("\($0)".contains("ringbuf"), "\($0)")
        }
        XCTAssertThrowsError(try TraceMetadata(kind: "lost", version: 1, json: [0xFF, 0x7B]).decode(TraceMetadata.Lost.self))
        // a later version with more keys still decodes
        let newer = TraceMetadata(kind: "cgroup", version: 9, json: Array("{\"id\":1,\"path\":\"/a\",\"new\":[{}]}".utf8))
        XCTAssertEqual(try newer.decode(TraceMetadata.Cgroup.self), TraceMetadata.Cgroup(id: 1, path: "/a"))
    }

    func testDecodeEventsFalseSkipsEvents() throws {
        let ops = TF.script(events: TF.events(100))
        let bytes = try TF.write(ops, options: TraceWriteOptions(compress: true, blockBytes: 4096))
        let r = try TraceFileReader(bytes: bytes, options: TraceReadOptions(decodeEvents: false))
        let items = try r.readAll()
        XCTAssertEqual(items, TF.expected(ops).filter { if case .metadata = $0 { return true } else { return false } })
        XCTAssertEqual(r.eventsRead, 100)
        XCTAssertNotNil(r.trailer)
    }

    // MARK: writer API

    func testWriterRejectsBadInput() throws {
        let path = TF.tempPath()
        defer { unlink(path) }
        let w = try TraceFileWriter(path: path, header: TF.header)
        let short = [UInt8](repeating: 0, count: 10)
        XCTAssertThrowsError(try short.withUnsafeBytes { try w.append(record: $0) }) {
            XCTAssertEqual($0 as? TraceFileError, .invalidRecord(.tooShort(length: 10)))
        }
        XCTAssertThrowsError(try w.appendMetadata(TraceMetadata(kind: "Bad Kind", version: 1, json: []))) {
            XCTAssertTrue("\($0)".contains("kind"), "\($0)")
        }
        try Fixture(.unshare).bytes.withUnsafeBytes { try w.append(record: $0) }
        XCTAssertEqual(w.pendingEvents, 1)
        let t = try w.finish()
        XCTAssertEqual(t.events, 1)
        XCTAssertThrowsError(try w.flush()) { XCTAssertEqual($0 as? TraceFileError, .writerClosed) }
        XCTAssertEqual(try TF.read(try TF.readFile(path)).1.count, 1)
    }

    func testFullDiskIsAWriteError() {
        XCTAssertThrowsError(try TraceFileWriter(path: "/dev/full", header: TF.header)) {
            XCTAssertEqual($0 as? TraceFileError, .writeFailed(offset: 0, errno: ENOSPC))
            XCTAssertEqual("\($0)", "write failed at offset 0: ENOSPC")
        }
    }

    func testWriterDroppedWithoutFinishFlushes() throws {
        let path = TF.tempPath()
        defer { unlink(path) }
        do {
            let w = try TraceFileWriter(path: path, header: TF.header)
            for e in TF.events(5) { try e.withView { try w.append($0) } }
        }
        let (r, items) = try TF.read(try TF.readFile(path))
        XCTAssertEqual(items.count, 5)
        XCTAssertTrue(r.wasCut)
    }

    func testRotationKeepsCompleteFiles() throws {
        let base = TF.tempPath()
        var paths = [base]
        defer { for p in paths { unlink(p) } }
        let snapshot = try TraceMetadata(TraceMetadata.HostSnapshot(hostNamespaces: ["mnt": 1]), tsNs: 1)
        let w = try TraceFileWriter(path: base, header: TF.header, options: TraceWriteOptions(blockBytes: 4096, maxFileBytes: 10_000))
        w.rotationHandler = { i in
            let p = "\(base).\(i)"
            paths.append(p)
            return .path(p)
        }
        try w.appendMetadata(snapshot, retainAs: "host")
        let events = TF.events(400)
        for e in events { try e.withView { try w.append($0) } }
        w.lostCounts = TraceLostCounts(ringbuf: 9)
        try w.finish()
        XCTAssertGreaterThan(paths.count, 3)
        XCTAssertEqual(w.totalEvents, 400)

        var all: [Event] = []
        for (i, p) in paths.enumerated() {
            let bytes = try TF.readFile(p)
            XCTAssertLessThan(bytes.count, 10_000 + 8192, p)
            let (r, items) = try TF.read(bytes)
            XCTAssertEqual(r.header.fileIndex, UInt32(i))
            XCTAssertEqual(r.header.hostname, "testhost")
            XCTAssertNotNil(r.trailer, p)
            XCTAssertEqual(r.warnings, [], p)
            XCTAssertEqual(items.first, .metadata(snapshot), "each file starts with the retained metadata")
            for case .event(let e) in items { all.append(e) }
            XCTAssertEqual(r.trailer?.events, UInt64(items.count - 1))
        }
        XCTAssertEqual(all, events)
    }

    // MARK: streams

    func testReadsFromAPipe() throws {
        let bytes = try TF.write(TF.script(events: TF.events(60)), options: TraceWriteOptions(compress: true, blockBytes: 4096))
        XCTAssertLessThan(bytes.count, 60_000)
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        bytes.withUnsafeBytes { _ = write(fds[1], $0.baseAddress!, $0.count) }
        close(fds[1])
        defer { close(fds[0]) }
        let r = try TraceFileReader(fileDescriptor: fds[0])
        let items = try r.readAll()
        XCTAssertEqual(items.count, TF.expected(TF.script(events: TF.events(60))).count)
        XCTAssertNotNil(r.trailer)
    }

    func testWriterToAPipeAndReaderOnTheOtherEnd() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let events = TF.events(2000)
        let writeFD = fds[1]
        let writer = Thread {
            do {
                let w = try TraceFileWriter(fileDescriptor: writeFD, header: TF.header, options: TraceWriteOptions(blockBytes: 8192))
                for e in events { try e.withView { try w.append($0) } }
                try w.finish()
            } catch {
                XCTFail("\(error)")
            }
            close(writeFD)
        }
        writer.start()
        defer { close(fds[0]) }
        let r = try TraceFileReader(fileDescriptor: fds[0])
        var n = 0
        try r.forEach { if case .event = $0 { n += 1 } }
        XCTAssertEqual(n, 2000)
        XCTAssertNotNil(r.trailer)
    }

    func testOpenErrors() {
        XCTAssertThrowsError(try TraceFileReader(path: "/nonexistent/trace.nst")) {
            XCTAssertEqual("\($0)", "cannot open /nonexistent/trace.nst: ENOENT")
        }
        XCTAssertThrowsError(try TraceFileReader(path: "/tmp")) {
            XCTAssertEqual($0 as? TraceFileError, .readFailed(offset: 0, errno: EISDIR))
        }
    }

    // MARK: Chrome export

    func testChromeExportHasTracksAndParses() throws {
        let events = TF.events(40)
        var c = Fixture(.mount, comm: "bad\u{1b}[2J")
        c.setComm([0x62, 0xFF, 0x22, 0x5C, 0x0A])
        c.e.cgroup_id = 4242
        c.e.latency_ns = 0
        c.setString(1, [0xC3, 0x28, 0x22])
        let all = events + [c.event]
        let web = ContainerAttribution(cgroups: nil, hostNamespaces: []).register(ContainerIdentity(id: "c0ffee", runtime: .runc, name: "web (c0ffee)"))
        let exporter = ChromeTraceExporter(header: TF.header)
        var out = OutputBuffer()
        exporter.begin(into: &out)
        exporter.append(metadata: TF.metadata(1), into: &out)   // lost counter
        for e in all { e.withView { exporter.append(AttributedEvent($0, container: $0.cgroupId == 4242 ? web : nil), into: &out) } }
        exporter.end(into: &out)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.bytes)) as? [String: Any], out.string)
        let trace = try XCTUnwrap(obj["traceEvents"] as? [[String: Any]])
        let names = trace.filter { $0["name"] as? String == "process_name" }.compactMap { ($0["args"] as? [String: Any])?["name"] as? String }
        XCTAssertEqual(Set(names), ["host", "web (c0ffee)"])
        let threads = trace.filter { $0["name"] as? String == "thread_name" }
        XCTAssertEqual(threads.count, exporter.threadCount)
        XCTAssertGreaterThan(threads.count, 10)
        let slices = trace.filter { $0["ph"] as? String == "X" || $0["ph"] as? String == "i" }
        XCTAssertEqual(slices.count, all.count)
        XCTAssertEqual(exporter.eventsExported, all.count)
        let instant = try XCTUnwrap(slices.first { $0["ph"] as? String == "i" })
        XCTAssertEqual(instant["pid"] as? Int, 2)
        XCTAssertEqual(instant["name"] as? String, "mount")
        XCTAssertEqual(instant["cat"] as? String, "mount")
        let args = try XCTUnwrap(instant["args"] as? [String: Any])
        XCTAssertEqual(args["comm"] as? String, "b\u{FFFD}\"\\\n")
        XCTAssertEqual(args["target"] as? String, "\u{FFFD}(\"")
        let unshare = try XCTUnwrap(slices.first { ($0["name"] as? String)?.hasPrefix("unshare") == true })
        XCTAssertEqual(unshare["name"] as? String, "unshare mnt+net")
        XCTAssertEqual(unshare["cat"] as? String, "namespace")
        XCTAssertNotNil(unshare["dur"] as? Double)
        let changed = try XCTUnwrap((unshare["args"] as? [String: Any])?["ns_changed"] as? [String: [Int]])
        XCTAssertEqual(changed["mnt"], [4_026_531_835, 4_026_532_693])
        let setns = try XCTUnwrap(slices.first { ($0["name"] as? String)?.hasPrefix("setns") == true })
        XCTAssertEqual(setns["name"] as? String, "setns net")
        XCTAssertEqual((setns["args"] as? [String: Any])?["errno"] as? String, "EPERM")
        XCTAssertEqual(trace.filter { $0["ph"] as? String == "C" }.count, 1)
        XCTAssertEqual((obj["otherData"] as? [String: Any])?["hostname"] as? String, "testhost")
        // exact microseconds: the X event starts at ts - latency
        let first = try XCTUnwrap(events.first)
        let firstSlice = try XCTUnwrap(slices.first)
        let expected = first.withView { Double($0.tsNs - $0.latencyNs) / 1000 }
        XCTAssertEqual(firstSlice["ts"] as? Double ?? 0, expected, accuracy: 0.0005)
    }

    /// The exporter's tracks follow the pipeline's attribution, which a trace's metadata feeds.
    func testChromeExportTracksFollowThePipeline() throws {
        let replay = TraceReplay()
        let pipeline = EventPipeline(attribution: replay.attribution)
        let exporter = ChromeTraceExporter()
        var out = OutputBuffer()
        exporter.begin(into: &out)
        func export(_ events: [Event]) {
            for e in events {
                e.withView { if case .passed(let a) = pipeline.process($0) { exporter.append(a, into: &out) } }
            }
        }
        export(TF.events(3))                   // cgroup 7777, no metadata yet: host
        replay.apply(TF.metadata(0))           // container with cgroup 7777
        export(TF.events(3))
        exporter.end(into: &out)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.bytes)) as? [String: Any])
        let trace = try XCTUnwrap(obj["traceEvents"] as? [[String: Any]])
        let names = trace.filter { $0["name"] as? String == "process_name" }.compactMap { ($0["args"] as? [String: Any])?["name"] as? String }
        // the fixture's mount names containerd's task directory k8s.io/1: engine evidence (issue 8)
        XCTAssertEqual(names, ["host", "1", "web-0"])
        XCTAssertEqual(exporter.processCount, 3)
    }

    func testEmptyChromeExportIsValidJSON() throws {
        let exporter = ChromeTraceExporter()
        var out = OutputBuffer()
        exporter.begin(into: &out)
        exporter.end(into: &out)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.bytes)) as? [String: Any])
        XCTAssertEqual((obj["traceEvents"] as? [Any])?.count, 0)
    }
}
