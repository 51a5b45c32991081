import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import NstraceCore

/// Helpers for the trace file tests: sample events, writing to memory, walking blocks.
enum TF {
    static let header = TraceFileHeader(hostname: "testhost", kernelRelease: "6.1.0-test", nstraceVersion: "0.0-test",
                                        clock: testClock, startBootNs: 999_000_000_000,
                                        startRealtimeNs: 1_795_937_000_000_000_000,
                                        fields: ["machine": "x86_64", "command_line": "nstrace record -w t.nst"])

    /// A varied set of events: every shape of record (with and without strings, long,
    /// empty and non-UTF-8 strings, faults, failed calls), timestamps rising.
    static func events(_ n: Int, seed: UInt64 = 1) -> [Event] {
        var rng = SplitMix(seed)
        var out: [Event] = []
        var ts = Fixture.ts
        for i in 0..<n {
            ts += 1 + rng.next() % 5000
            var f: Fixture
            switch i % 7 {
            case 0:
                f = Fixture(.unshare, comm: "unshare")
                f.setArg(0, 0x4002_0000)
                f.e.flags = EventFlags.nsBefore
                f.setNs(0, 4_026_532_693)
            case 1:
                f = Fixture(.mount, comm: "runc:[2:INIT]")
                f.setString(0, "overlay")
                f.setString(1, "/run/containerd/io.containerd.runtime.v2.task/k8s.io/\(i)/rootfs")
                f.setString(2, "overlay")
                f.setString(3, Array(repeating: UInt8(ascii: "x"), count: Int(rng.next() % 700)))
                f.setArg(3, 0xC0ED_0000 | 0x1000)
            case 2:
                f = Fixture(.setns, comm: "nsenter")
                f.setArg(0, int: 3)
                f.setArg(1, 0x4000_0000)
                f.setAux(0, 0x4000_0000)
                f.setAux(1, 4_026_532_700)
                f.e.ret = -1
            case 3:
                f = Fixture(.umount, comm: "umount")
                f.setString(0, [0x2F, 0xFF, 0xFE, 0x00, 0x1B, 0x5B, 0x32, 0x4A])   // bytes, not UTF-8
            case 4:
                f = Fixture(.clone3, comm: "containerd-shim")
                f.setAux(0, 0x7C02_0000)
                f.setAux(2, 5000 + rng.next() % 1000)
                f.e.flags = EventFlags.nsBefore | EventFlags.childNs
                f.setNs(1, 4_026_532_800)
            case 5:
                f = Fixture(.moveMount, comm: "mover")
                f.setString(0, "")
                f.fault(1)
            default:
                f = Fixture(.fsmount, comm: "fsm")
                f.setArg(0, int: 5)
            }
            f.e.ts_ns = ts
            f.e.latency_ns = rng.next() % 100_000
            f.e.pid = 4000 + UInt32(rng.next() % 50)
            f.e.tid = f.e.pid + UInt32(rng.next() % 2)
            out.append(f.event)
        }
        return out
    }

    static func metadata(_ i: Int) -> TraceMetadata {
        switch i % 4 {
        case 0:
            return try! TraceMetadata(TraceMetadata.Container(id: String(repeating: "ab", count: 32) + "\(i)", runtime: "docker",
                                                        name: "web-\(i)", image: "nginx:1.27", cgroupIDs: [7777],
                                                        namespaces: ["mnt": 4_026_532_693, "net": 4_026_532_696],
                                                        mountinfo: "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"), tsNs: Fixture.ts + UInt64(i))
        case 1:
            return try! TraceMetadata(TraceMetadata.Lost(ringbuf: UInt64(i), pending: 1, submitted: 100), tsNs: Fixture.ts + UInt64(i))
        case 2:
            return try! TraceMetadata(TraceMetadata.Cgroup(id: 7777, path: "/system.slice/docker-abc.scope", containerID: "abc"))
        default:
            return TraceMetadata(kind: "future-kind", version: 7, tsNs: 5, json: Array("{\"x\":[1,2,3]}".utf8))
        }
    }

    /// What the writer is asked to do.
    enum Op {
        case event(Event)
        case metadata(TraceMetadata)
        case flush
    }

    /// Events with a metadata record (and a flush) every `every` events.
    static func script(events: [Event], every: Int = 10) -> [Op] {
        var ops: [Op] = [.metadata(metadata(0))]
        for (i, e) in events.enumerated() {
            ops.append(.event(e))
            if i % every == every - 1 { ops.append(.metadata(metadata(i / every + 1))) }
            if i % 23 == 22 { ops.append(.flush) }
        }
        return ops
    }

    /// The items a reader should give back for `ops` (in order).
    static func expected(_ ops: [Op]) -> [TraceOwnedItem] {
        ops.compactMap {
            switch $0 {
            case .event(let e): return .event(e)
            case .metadata(let m): return .metadata(m)
            case .flush: return nil
            }
        }
    }

    /// Writes `ops` through a pipe-free temp file and returns the file's bytes.
    static func write(_ ops: [Op], options: TraceWriteOptions = TraceWriteOptions(blockBytes: 4096),
                      lost: TraceLostCounts = TraceLostCounts(ringbuf: 3, pending: 1), finish: Bool = true) throws -> [UInt8] {
        let path = tempPath()
        defer { unlink(path) }
        do {
            let w = try TraceFileWriter(path: path, header: header, options: options)
            for op in ops {
                switch op {
                case .event(let e): try e.withView { try w.append($0) }
                case .metadata(let m): try w.appendMetadata(m)
                case .flush: try w.flush()
                }
            }
            if finish { try w.finish(lost: lost) } else { try w.flush() }
        }
        return try readFile(path)
    }

    static func tempPath() -> String {
        var t = Array("/tmp/nstrace-tftest-XXXXXX".utf8CString)
        let fd = t.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        precondition(fd >= 0)
        close(fd)
        unlink(t)   // a unique name; the writer creates the file itself (O_EXCL)
        return String(decoding: t.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        guard let d = FileManager.default.contents(atPath: path) else { throw CocoaError(.fileReadNoSuchFile) }
        return Array(d)
    }

    struct Block {
        var offset: Int
        var end: Int
        var type: UInt16
        var items: Int
    }

    /// The blocks of a well-formed file (offset 16 on), read from their headers.
    static func blocks(_ b: [UInt8]) -> [Block] {
        var out: [Block] = []
        var o = TraceFormat.preambleSize
        b.withUnsafeBytes { p in
            while o + 48 <= b.count {
                let h = BlockHeader.load(p.baseAddress! + o)!
                let end = o + 48 + h.storedLength
                let items = h.type == TraceBlockType.events.rawValue ? Int(h.count) : h.type == TraceBlockType.metadata.rawValue ? 1 : 0
                out.append(Block(offset: o, end: end, type: h.type, items: items))
                o = end
            }
        }
        return out
    }

    /// Reads everything; rethrows.
    static func read(_ b: [UInt8], options: TraceReadOptions = TraceReadOptions()) throws -> (TraceFileReader, [TraceOwnedItem]) {
        let r = try TraceFileReader(bytes: b, options: options)
        let items = try r.readAll()
        return (r, items)
    }

    /// Recomputes both checksums of the block at `offset` (for structural fuzzing).
    static func reseal(_ b: inout [UInt8], blockAt offset: Int, storedLength: Int? = nil) {
        b.withUnsafeMutableBytes { p in
            let base = p.baseAddress! + offset
            let n = storedLength ?? Int(le32(base, 8))
            if offset + 48 + n <= p.count {
                put32(base, 40, traceCRC32(base + 48, n))
            }
            put32(base, 44, traceCRC32(base, 44))
        }
    }

    /// A preamble with any version, valid checksum.
    static func preamble(major: UInt16, minor: UInt16) -> [UInt8] {
        var p = TraceFormat.magic + [0, 0, 0, 0, 0, 0, 0, 0]
        p.withUnsafeMutableBytes { q in
            put16(q.baseAddress!, 8, major)
            put16(q.baseAddress!, 10, minor)
            put32(q.baseAddress!, 12, traceCRC32(q.baseAddress!, 12))
        }
        return p
    }
}

/// Deterministic PRNG for the tests (SplitMix64): reproducible hostile and random inputs.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
}
