/// Loss counters the recorder passes to the writer for the trailer (cumulative since the
/// recording started, as the BPF side counts them).
public struct TraceLostCounts: Sendable, Equatable {
    public var ringbuf: UInt64
    public var pending: UInt64

    public init(ringbuf: UInt64 = 0, pending: UInt64 = 0) {
        self.ringbuf = ringbuf
        self.pending = pending
    }

    public var total: UInt64 { ringbuf &+ pending }
}

/// The TRAILER block: totals of the file. Its presence means the file was closed cleanly.
public struct TraceTrailer: Sendable, Equatable {
    /// Blocks before the trailer, the header block included.
    public var blocks: UInt32
    /// Event records in this file.
    public var events: UInt64
    /// Metadata records in this file.
    public var metadataRecords: UInt64
    /// Loss counters at the end of this file (cumulative for the recording).
    public var lost: TraceLostCounts
    /// Smallest and largest ts_ns of the file's events (0, 0 without events).
    public var firstTsNs: UInt64
    public var lastTsNs: UInt64
    /// CLOCK_BOOTTIME ns when the file was finished.
    public var endBootNs: UInt64

    public init(blocks: UInt32 = 0, events: UInt64 = 0, metadataRecords: UInt64 = 0,
                lost: TraceLostCounts = TraceLostCounts(), firstTsNs: UInt64 = 0, lastTsNs: UInt64 = 0,
                endBootNs: UInt64 = 0) {
        self.blocks = blocks
        self.events = events
        self.metadataRecords = metadataRecords
        self.lost = lost
        self.firstTsNs = firstTsNs
        self.lastTsNs = lastTsNs
        self.endBootNs = endBootNs
    }

    // MARK: encoding (docs/format.md, "TRAILER")

    static let fixedSize = 64

    func encode() -> [UInt8] {
        var w = ByteWriter()
        w.u16(UInt16(Self.fixedSize))
        w.u16(0)
        w.u32(blocks)
        w.u64(events)
        w.u64(metadataRecords)
        w.u64(lost.ringbuf)
        w.u64(lost.pending)
        w.u64(firstTsNs)
        w.u64(lastTsNs)
        w.u64(endBootNs)
        return w.bytes
    }

    static func decode(_ p: UnsafeRawPointer, count: Int) -> Result<TraceTrailer, TraceFileHeader.DecodeFailure> {
        var r = ByteReader(p, count: count)
        guard let n = r.u16(), Int(n) >= fixedSize, Int(n) == count else {
            return .failure(.malformed("trailer length \(count) does not match its fixed part"))
        }
        _ = r.u16()
        let t = TraceTrailer(blocks: r.u32()!, events: r.u64()!, metadataRecords: r.u64()!,
                             lost: TraceLostCounts(ringbuf: r.u64()!, pending: r.u64()!),
                             firstTsNs: r.u64()!, lastTsNs: r.u64()!, endBootNs: r.u64()!)
        return .success(t)
    }
}
