import NstraceABI
@testable import NstraceCore

/// Builds ring-buffer records byte by byte, as the BPF side would.
struct Fixture {
    var e = nst_event()
    var strings: [[UInt8]] = [[], [], [], []]
    var type: EventType

    /// 1000.123456789 s after boot = 2026-11-29T07:40:01.123456789Z with `testClock`.
    static let ts: UInt64 = 1_000_123_456_789

    init(_ type: EventType, comm: String = "nstest") {
        self.type = type
        e.type = type.rawValue
        e.size = UInt16(type.hasStrings ? EventLayout.recordSizeWithStrings : EventLayout.headerSize)
        e.ts_ns = Self.ts
        e.latency_ns = 2_500
        e.cgroup_id = 7_777
        e.pid = 4242
        e.tid = 4243
        e.ppid = 1
        e.ns_pid = 42
        e.uid = 0
        e.gid = 0
        e.cpu = 1
        setComm(Array(comm.utf8))
        for s in 0..<10 {
            setNs(s, 4_026_531_835 + UInt32(s))
            setNsBefore(s, 4_026_531_835 + UInt32(s))
        }
    }

    mutating func setComm(_ c: [UInt8]) {
        withUnsafeMutableBytes(of: &e.comm) { p in
            for i in 0..<16 { p[i] = i < c.count ? c[i] : 0 }
        }
    }

    mutating func setArg(_ i: Int, _ v: UInt64) {
        withUnsafeMutableBytes(of: &e.args) { $0.storeBytes(of: v, toByteOffset: 8 * i, as: UInt64.self) }
    }

    mutating func setArg(_ i: Int, int v: Int32) { setArg(i, UInt64(UInt32(bitPattern: v))) }

    mutating func setAux(_ i: Int, _ v: UInt64) {
        withUnsafeMutableBytes(of: &e.aux) { $0.storeBytes(of: v, toByteOffset: 8 * i, as: UInt64.self) }
    }

    mutating func setNs(_ slot: Int, _ v: UInt32) {
        withUnsafeMutableBytes(of: &e.ns) { $0.storeBytes(of: v, toByteOffset: 4 * slot, as: UInt32.self) }
    }

    mutating func setNsBefore(_ slot: Int, _ v: UInt32) {
        withUnsafeMutableBytes(of: &e.ns_before) { $0.storeBytes(of: v, toByteOffset: 4 * slot, as: UInt32.self) }
    }

    /// Sets string `slot` and a non-NULL pointer in its argument (unless `null`). Strings
    /// longer than 511 bytes are cut and flagged as truncated, like the BPF side does.
    mutating func setString(_ slot: Int, _ bytes: [UInt8], null: Bool = false) {
        var b = bytes
        if b.count > 511 {
            b = Array(b.prefix(511))
            e.flags |= UInt32(1) << UInt32(slot)
        }
        strings[slot] = b
        if let a = type.stringSlotArgIndex(slot) { setArg(a, null ? 0 : 0x7fff_0000_1000 + UInt64(slot) * 0x100) }
    }

    mutating func setString(_ slot: Int, _ s: String) { setString(slot, Array(s.utf8)) }

    mutating func fault(_ slot: Int) {
        e.flags |= UInt32(1) << UInt32(8 + slot)
        if let a = type.stringSlotArgIndex(slot) { setArg(a, 0xdead_0000) }
    }

    var bytes: [UInt8] {
        var h = e
        if type.hasStrings {
            withUnsafeMutableBytes(of: &h.str_len) { p in
                for s in 0..<4 { p.storeBytes(of: UInt16(strings[s].count), toByteOffset: 2 * s, as: UInt16.self) }
            }
        }
        var out = withUnsafeBytes(of: h) { Array($0) }
        if type.hasStrings {
            for s in 0..<4 {
                var slot = [UInt8](repeating: 0, count: 512)
                for (i, b) in strings[s].enumerated() { slot[i] = b }
                out += slot
            }
        }
        return out
    }

    var event: Event { try! Event(bytes: bytes) }
}

/// realtime = 2026-11-29T07:40:01.123456789Z at Fixture.ts; local time is UTC+1.
let testClock = WallClock(bootToRealtimeNs: 1_795_938_001_000_000_000 - 1_000_000_000_000, utcOffsetSeconds: 3600)

extension Event {
    func text(color: Bool = false) -> String {
        withView { TextFormatter(color: color, clock: testClock).line($0) }
    }
    func json() -> String {
        withView { JSONFormatter(clock: testClock).line($0) }
    }
}
