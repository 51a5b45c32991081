import NstraceCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NstraceABI

/// Decode + format throughput on synthetic records (for `make bench`).
enum FormatBenchmark {
    /// Decodes and formats `events` records — a rotation of unshare (with ns_before),
    /// setns, clone, mount (four strings) and umount — into one OutputBuffer that is emptied
    /// whenever it reaches 64 KB. Returns events per second (one core, monotonic clock).
    static func run(events: Int, json: Bool) -> Double {
        let records = syntheticRecords()
        let clock = WallClock(bootToRealtimeNs: 1_795_938_001_000_000_000, utcOffsetSeconds: 3600)
        let text = TextFormatter(color: false, clock: clock)
        let js = JSONFormatter(clock: clock)
        var out = OutputBuffer(capacity: 1 << 17)
        var bytesOut = 0

        // records as raw pointers, like ring-buffer samples
        let ptrs: [UnsafeMutableRawBufferPointer] = records.map { r in
            let p = UnsafeMutableRawBufferPointer.allocate(byteCount: r.count, alignment: 8)
            p.copyBytes(from: r)
            return p
        }
        defer { for p in ptrs { p.deallocate() } }

        let start = monotonicNs()
        var i = 0
        let n = ptrs.count
        while i < events {
            let raw = UnsafeRawBufferPointer(ptrs[i % n])
            if let ev = try? EventView(bytes: raw) {
                if json { js.append(ev, into: &out) } else { text.append(ev, into: &out) }
            }
            if out.count >= 65_536 {
                bytesOut &+= out.count
                out.removeAll()
            }
            i += 1
        }
        let elapsed = monotonicNs() - start
        bytesOut &+= out.count
        blackHole(bytesOut)
        return elapsed > 0 ? Double(events) * 1e9 / Double(elapsed) : .infinity
    }

    @inline(never)
    static func blackHole(_ x: Int) { if x == -1 { print(x) } }

    static func monotonicNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// The benchmark's records (also usable as smoke-test input).
    static func syntheticRecords() -> [[UInt8]] {
        func base(_ t: EventType) -> nst_event {
            var e = nst_event()
            e.type = t.rawValue
            e.size = UInt16(t.hasStrings ? EventLayout.recordSizeWithStrings : EventLayout.headerSize)
            e.ts_ns = 1_000_123_456_789
            e.latency_ns = 4_321
            e.cgroup_id = 12_345
            e.pid = 31_337
            e.tid = 31_337
            e.ppid = 1
            e.ns_pid = 1
            withUnsafeMutableBytes(of: &e.comm) { p in
                for (i, b) in "containerd-shim".utf8.enumerated() { p[i] = b }
            }
            withUnsafeMutableBytes(of: &e.ns) { p in
                for s in 0..<10 { p.storeBytes(of: 4_026_531_835 + UInt32(s), toByteOffset: 4 * s, as: UInt32.self) }
            }
            e.ns_before = e.ns
            return e
        }
        func bytes(_ e: nst_event, strings: [String] = []) -> [UInt8] {
            var h = e
            var tail: [UInt8] = []
            if EventType(rawValue: e.type)!.hasStrings {
                withUnsafeMutableBytes(of: &h.str_len) { p in
                    for s in 0..<4 {
                        p.storeBytes(of: UInt16(s < strings.count ? strings[s].utf8.count : 0), toByteOffset: 2 * s, as: UInt16.self)
                    }
                }
                for s in 0..<4 {
                    var slot = [UInt8](repeating: 0, count: EventLayout.stringSlotSize)
                    if s < strings.count { for (i, b) in strings[s].utf8.enumerated() { slot[i] = b } }
                    tail += slot
                }
            }
            return withUnsafeBytes(of: h) { Array($0) } + tail
        }
        func setArgs(_ e: inout nst_event, _ a: [UInt64]) {
            withUnsafeMutableBytes(of: &e.args) { p in
                for (i, v) in a.enumerated() { p.storeBytes(of: v, toByteOffset: 8 * i, as: UInt64.self) }
            }
        }
        func setAux(_ e: inout nst_event, _ a: [UInt64]) {
            withUnsafeMutableBytes(of: &e.aux) { p in
                for (i, v) in a.enumerated() { p.storeBytes(of: v, toByteOffset: 8 * i, as: UInt64.self) }
            }
        }

        var u = base(.unshare)
        setArgs(&u, [0x4002_0000])
        u.flags = EventFlags.nsBefore
        withUnsafeMutableBytes(of: &u.ns) { p in
            p.storeBytes(of: 4_026_532_693, toByteOffset: 0, as: UInt32.self)
            p.storeBytes(of: 4_026_532_696, toByteOffset: 4, as: UInt32.self)
        }

        var s = base(.setns)
        setArgs(&s, [3, 0x4000_0000])
        setAux(&s, [0x4000_0000, 4_026_532_700, 0, 0])
        s.flags = EventFlags.nsBefore
        s.ret = -1

        var c = base(.clone)
        setArgs(&c, [0x2400_0011])
        setAux(&c, [0, 0, 31_338, 0])
        c.ret = 31_338
        c.flags = EventFlags.nsBefore | EventFlags.childNs
        withUnsafeMutableBytes(of: &c.ns) { p in
            p.storeBytes(of: 4_026_532_900, toByteOffset: 8, as: UInt32.self)
            p.storeBytes(of: 4_026_532_901, toByteOffset: 12, as: UInt32.self)
        }

        var m = base(.mount)
        setArgs(&m, [0x7000_0000, 0x7000_1000, 0x7000_2000, 0xC0ED_0000 | 0x2 | 0x4 | 0x8, 0x7000_3000])
        let mountStrings = ["overlay", "/run/containerd/io.containerd.runtime.v2.task/k8s.io/3f2a9c/rootfs", "overlay",
                            "lowerdir=/var/lib/containerd/snapshots/41/fs:/var/lib/containerd/snapshots/40/fs,upperdir=/var/lib/containerd/snapshots/42/fs,workdir=/var/lib/containerd/snapshots/42/work"]

        var um = base(.umount)
        setArgs(&um, [0x7000_0000, 2])
        return [bytes(u), bytes(s), bytes(c), bytes(m, strings: mountStrings), bytes(um, strings: ["/run/netns/cni-1234"])]
    }
}
