import NstraceCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NstraceABI
import EventRecords

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

    /// The benchmark's records (also usable as smoke-test input): from containerd-shim, pid
    /// 31337 in cgroup 12345.
    static func syntheticRecords() -> [[UInt8]] {
        func base(_ t: EventType) -> EventRecordBuilder {
            var r = EventRecordBuilder(t, comm: "containerd-shim")
            r.e.latency_ns = 4_321
            r.e.cgroup_id = 12_345
            r.e.pid = 31_337
            r.e.tid = 31_337
            r.e.ns_pid = 1
            r.e.cpu = 0
            return r
        }

        var u = base(.unshare)
        u.setArg(0, 0x4002_0000)
        u.e.flags = EventFlags.nsBefore
        u.setNs(NamespaceSlot.mnt.index, 4_026_532_693)
        u.setNs(NamespaceSlot.net.index, 4_026_532_696)

        var s = base(.setns)
        s.setArg(0, 3)
        s.setArg(1, 0x4000_0000)
        s.setAux(0, 0x4000_0000)
        s.setAux(1, 4_026_532_700)
        s.e.flags = EventFlags.nsBefore
        s.e.ret = -1

        var c = base(.clone)
        c.setArg(0, 0x2400_0011)
        c.setAux(2, 31_338)
        c.e.ret = 31_338
        c.e.flags = EventFlags.nsBefore | EventFlags.childNs
        c.setNs(NamespaceSlot.pid.index, 4_026_532_900)
        c.setNs(NamespaceSlot.uts.index, 4_026_532_901)

        var m = base(.mount)
        m.setString(0, "overlay")
        m.setString(1, "/run/containerd/io.containerd.runtime.v2.task/k8s.io/3f2a9c/rootfs")
        m.setString(2, "overlay")
        m.setString(3, "lowerdir=/var/lib/containerd/snapshots/41/fs:/var/lib/containerd/snapshots/40/fs,upperdir=/var/lib/containerd/snapshots/42/fs,workdir=/var/lib/containerd/snapshots/42/work")
        let mountArgs: [UInt64] = [0x7000_0000, 0x7000_1000, 0x7000_2000, 0xC0ED_0000 | 0x2 | 0x4 | 0x8, 0x7000_3000]
        for (i, v) in mountArgs.enumerated() { m.setArg(i, v) }

        var um = base(.umount)
        um.setString(0, "/run/netns/cni-1234")
        um.setArg(0, 0x7000_0000)
        um.setArg(1, 2)
        return [u.bytes, s.bytes, c.bytes, m.bytes, um.bytes]
    }
}
