import NstraceABI
import NstraceCore

/// Builds ring-buffer records byte by byte, as the BPF side would (struct nst_event, then
/// struct nst_strings for string events): the input of the unit tests and of the benchmarks'
/// synthetic workloads. Not part of the product.
public struct EventRecordBuilder {
    public var e = nst_event()
    public var strings: [[UInt8]] = [[], [], [], []]
    public let type: EventType

    /// 1000.123456789 s after boot (2026-11-29T07:40:01.123456789Z with the tests' clock).
    public static let ts: UInt64 = 1_000_123_456_789

    /// A record of `type` from pid 4242 (tid 4243) in cgroup 7777; every namespace slot
    /// 4026531835 + slot, before and after.
    public init(_ type: EventType, comm: String = "nstest") {
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
        for s in 0..<NamespaceSlot.count {
            setNs(s, 4_026_531_835 + UInt32(s))
            setNsBefore(s, 4_026_531_835 + UInt32(s))
        }
    }

    public mutating func setComm(_ c: [UInt8]) {
        withUnsafeMutableBytes(of: &e.comm) { p in
            for i in 0..<EventLayout.commSize { p[i] = i < c.count ? c[i] : 0 }
        }
    }

    public mutating func setArg(_ i: Int, _ v: UInt64) {
        withUnsafeMutableBytes(of: &e.args) { $0.storeBytes(of: v, toByteOffset: 8 * i, as: UInt64.self) }
    }

    public mutating func setArg(_ i: Int, int v: Int32) { setArg(i, UInt64(UInt32(bitPattern: v))) }

    public mutating func setAux(_ i: Int, _ v: UInt64) {
        withUnsafeMutableBytes(of: &e.aux) { $0.storeBytes(of: v, toByteOffset: 8 * i, as: UInt64.self) }
    }

    public mutating func setNs(_ slot: Int, _ v: UInt32) {
        withUnsafeMutableBytes(of: &e.ns) { $0.storeBytes(of: v, toByteOffset: 4 * slot, as: UInt32.self) }
    }

    public mutating func setNsBefore(_ slot: Int, _ v: UInt32) {
        withUnsafeMutableBytes(of: &e.ns_before) { $0.storeBytes(of: v, toByteOffset: 4 * slot, as: UInt32.self) }
    }

    /// Sets string `slot` and a non-NULL pointer in its argument (unless `null`). Strings
    /// longer than 511 bytes are cut and flagged as truncated, like the BPF side does.
    public mutating func setString(_ slot: Int, _ bytes: [UInt8], null: Bool = false) {
        var b = bytes
        if b.count > EventLayout.stringSlotSize - 1 {
            b = Array(b.prefix(EventLayout.stringSlotSize - 1))
            e.flags |= EventFlags.truncated(slot)
        }
        strings[slot] = b
        if let a = type.stringSlotArgIndex(slot) { setArg(a, null ? 0 : 0x7fff_0000_1000 + UInt64(slot) * 0x100) }
    }

    public mutating func setString(_ slot: Int, _ s: String) { setString(slot, Array(s.utf8)) }

    /// String `slot` could not be read (NST_F_STRn_FAULT), from a non-NULL pointer.
    public mutating func fault(_ slot: Int) {
        e.flags |= EventFlags.fault(slot)
        if let a = type.stringSlotArgIndex(slot) { setArg(a, 0xdead_0000) }
    }

    /// The record: the header with str_len filled in, then for string events the four slots.
    public var bytes: [UInt8] {
        var h = e
        if type.hasStrings {
            withUnsafeMutableBytes(of: &h.str_len) { p in
                for s in 0..<EventLayout.stringSlots {
                    p.storeBytes(of: UInt16(strings[s].count), toByteOffset: 2 * s, as: UInt16.self)
                }
            }
        }
        var out = withUnsafeBytes(of: h) { Array($0) }
        if type.hasStrings {
            for s in 0..<EventLayout.stringSlots {
                var slot = [UInt8](repeating: 0, count: EventLayout.stringSlotSize)
                for (i, b) in strings[s].enumerated() { slot[i] = b }
                out += slot
            }
        }
        return out
    }
}
