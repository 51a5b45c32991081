import NstraceCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Trace file throughput on synthetic records (for `make bench`): the five records of
/// `FormatBenchmark.syntheticRecords()` (unshare, setns, clone, mount with four strings,
/// umount) in rotation, with advancing timestamps and varying pids, written to a temporary
/// file in /tmp and read back.
enum TraceFileBenchmark {
    struct Result: Sendable {
        var events: Int
        /// Events per second appended + written (uncompressed, then compressed).
        var writePerSec: Double
        var compressedWritePerSec: Double
        /// Events per second read back and decoded to EventViews.
        var readPerSec: Double
        var compressedReadPerSec: Double
        /// File bytes per event (all blocks included).
        var bytesPerEvent: Double
        var compressedBytesPerEvent: Double
        /// Ring-buffer bytes per event of the input, for comparison.
        var recordBytesPerEvent: Double
    }

    /// The figures the issue asks for.
    static func run(events: Int = 2_000_000) -> (writePerSec: Double, readPerSec: Double, bytesPerEvent: Double, compressedBytesPerEvent: Double) {
        let r = detailed(events: events)
        return (r.writePerSec, r.readPerSec, r.bytesPerEvent, r.compressedBytesPerEvent)
    }

    static func detailed(events: Int = 2_000_000, directory: String = "/tmp") -> Result {
        let plain = measure(events: events, compress: false, directory: directory)
        let z = measure(events: events, compress: true, directory: directory)
        return Result(events: events, writePerSec: plain.write, compressedWritePerSec: z.write,
                      readPerSec: plain.read, compressedReadPerSec: z.read,
                      bytesPerEvent: plain.bytesPerEvent, compressedBytesPerEvent: z.bytesPerEvent,
                      recordBytesPerEvent: plain.recordBytes)
    }

    static func measure(events: Int, compress: Bool, directory: String) -> (write: Double, read: Double, bytesPerEvent: Double, recordBytes: Double) {
        var template = Array("\(directory)/nstrace-bench-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return (0, 0, 0, 0) }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { unlink(path) }

        let records = FormatBenchmark.syntheticRecords()
        let ptrs: [UnsafeMutableRawBufferPointer] = records.map { r in
            let p = UnsafeMutableRawBufferPointer.allocate(byteCount: r.count, alignment: 8)
            p.copyBytes(from: r)
            return p
        }
        defer { for p in ptrs { p.deallocate() } }

        let header = TraceFileHeader(hostname: "bench", kernelRelease: "6.1.0", nstraceVersion: "bench",
                                     clock: WallClock(bootToRealtimeNs: 1_795_938_001_000_000_000, utcOffsetSeconds: 0),
                                     startBootNs: 1_000_000_000_000, startRealtimeNs: 0)
        var ts: UInt64 = 1_000_000_000_000
        var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
        let start = FormatBenchmark.monotonicNs()
        var recordBytes = 0
        do {
            let w = try TraceFileWriter(sink: .fileDescriptor(fd, closeWhenDone: true), header: header,
                                        options: TraceWriteOptions(compress: compress))
            var i = 0
            let n = ptrs.count
            while i < events {
                let p = ptrs[i % n]
                // a ring-buffer-like stream: time advances by 1...4096 ns, pids change
                rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17
                ts &+= 1 + (rng & 0xFFF)
                p.storeBytes(of: ts, toByteOffset: EventLayout.tsNs, as: UInt64.self)
                let pid = 1000 + UInt32(truncatingIfNeeded: (rng >> 20) & 0xFF)
                p.storeBytes(of: pid, toByteOffset: EventLayout.pid, as: UInt32.self)
                p.storeBytes(of: pid, toByteOffset: EventLayout.tid, as: UInt32.self)
                try w.append(record: UnsafeRawBufferPointer(p))
                recordBytes &+= p.count
                i += 1
            }
            try w.finish()
        } catch {
            return (0, 0, 0, 0)
        }
        let writeNs = FormatBenchmark.monotonicNs() - start
        var st = stat()
        stat(path, &st)
        let size = Double(st.st_size)

        let rstart = FormatBenchmark.monotonicNs()
        var seen = 0
        var sum: UInt64 = 0
        do {
            let r = try TraceFileReader(path: path)
            try r.forEach { item in
                if case .event(let v) = item {
                    seen += 1
                    sum &+= v.tsNs
                }
            }
        } catch {
            return (0, 0, 0, 0)
        }
        let readNs = FormatBenchmark.monotonicNs() - rstart
        FormatBenchmark.blackHole(Int(truncatingIfNeeded: sum))
        guard seen == events else { return (0, 0, 0, 0) }
        return (Double(events) * 1e9 / Double(max(writeNs, 1)), Double(events) * 1e9 / Double(max(readNs, 1)),
                size / Double(events), Double(recordBytes) / Double(events))
    }
}
