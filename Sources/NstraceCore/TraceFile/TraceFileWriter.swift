#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where a trace file goes.
public enum TraceFileSink: Sendable {
    /// Created exclusively (mode 0600, never an existing file or link: `SafeOutputFile`);
    /// closed by the writer.
    case path(String)
    /// An open descriptor (`-w -`: standard output); closed by the writer only if asked.
    case fileDescriptor(Int32, closeWhenDone: Bool)
}

/// How a `TraceFileWriter` writes.
public struct TraceWriteOptions: Sendable {
    /// zlib-compress each block (a block that does not shrink is stored plain).
    public var compress: Bool
    /// zlib level, 1 (fastest) ... 9.
    public var compressionLevel: Int32
    /// Record bytes (string slots already cut to their length) collected per EVENTS block
    /// before it is encoded and written (4 KiB ... 8 MiB). A kill -9 loses at most the block
    /// being filled: whatever the caller did not `flush()`.
    public var blockBytes: Int
    /// Store records compact: of the 256-byte header only the 8-byte words that differ from
    /// the previous record's, and of each string slot only its `str_len` bytes (the bytes
    /// after them are undefined in the ABI and read back as zeros). Off: records verbatim.
    public var compactRecords: Bool
    /// Order each block's events by ts_ns (stable). The ring buffer delivers them in
    /// reservation order, which can differ from ts_ns order across CPUs by microseconds.
    public var sortWithinBlock: Bool
    /// Start a new file (see `TraceFileWriter.rotationHandler`) once the current one has this
    /// many bytes. Rotation happens at block boundaries: a file can exceed the limit by one
    /// block plus the metadata retained for rotation.
    public var maxFileBytes: Int?

    public init(compress: Bool = false, compressionLevel: Int32 = 1, blockBytes: Int = 1 << 20,
                compactRecords: Bool = true, sortWithinBlock: Bool = true, maxFileBytes: Int? = nil) {
        self.compress = compress
        self.compressionLevel = compressionLevel
        self.blockBytes = blockBytes
        self.compactRecords = compactRecords
        self.sortWithinBlock = sortWithinBlock
        self.maxFileBytes = maxFileBytes
    }
}

/// Writes a trace file (docs/format.md): the preamble and HEADER block at once, then events
/// buffered into EVENTS blocks, METADATA records as they come, a TRAILER on `finish`.
///
/// `append` is the hot path: it copies the record into the block buffer and allocates
/// nothing; a full block is checksummed (and compressed) and written with one write(2).
/// Every byte on disk is part of a complete block except, after a crash, the last one.
/// Not thread-safe: use it from one thread.
public final class TraceFileWriter {
    /// Called when `maxFileBytes` is reached, with the index of the next file (1, 2, ...);
    /// returns where it goes. Without a handler, files are not rotated.
    public typealias RotationHandler = (_ fileIndex: Int) -> TraceFileSink

    public let options: TraceWriteOptions
    /// The header of the current file.
    public private(set) var header: TraceFileHeader
    /// Loss counters for the trailer; keep them current (e.g. when writing `lost` metadata).
    public var lostCounts = TraceLostCounts()
    public var rotationHandler: RotationHandler?

    /// Index of the current file (0 for the first).
    public private(set) var fileIndex = 0
    /// Bytes written to the current file, and to all files.
    public private(set) var bytesWritten = 0
    public private(set) var totalBytesWritten = 0
    /// Events appended to the current file (written or pending), and to all files.
    public private(set) var eventsInFile: UInt64 = 0
    public private(set) var totalEvents: UInt64 = 0
    /// Event payload bytes before compaction and compression (for bytes-per-event figures).
    public private(set) var totalRecordBytes: UInt64 = 0
    /// Events waiting in the block buffer.
    public var pendingEvents: Int { count }

    private enum State { case open, finished, failed }
    private var state = State.open

    private var fd: Int32 = -1
    private var closeFD = false
    private var sequence: UInt32 = 0
    private var blocksInFile: UInt32 = 0
    private var metadataInFile: UInt64 = 0
    private var fileMinTs = UInt64.max
    private var fileMaxTs: UInt64 = 0
    private var startupBytes = 0

    // the EVENTS block being filled: payload at buf + 48, entries' ts and offsets alongside
    private let blockLimit: Int
    private let bufCapacity: Int
    private let buf: UnsafeMutableRawPointer
    private var length = 0
    private var count = 0
    private let maxEntries: Int
    private let entryTs: UnsafeMutablePointer<UInt64>
    private let entryOffset: UnsafeMutablePointer<UInt32>
    private var inOrder = true
    private var lastTs: UInt64 = 0
    private var blockMinTs = UInt64.max
    private var blockMaxTs: UInt64 = 0
    // allocated on first use
    private var encBuf: UnsafeMutableRawPointer?
    private var perm: UnsafeMutableBufferPointer<Int32>?
    private let zeroHeader: UnsafeMutableRawPointer
    private var deflater: Deflater?
    private var zbuf: UnsafeMutableRawPointer?
    private var zcap = 0

    private var retained: [(key: String, meta: TraceMetadata)] = []

    /// Opens the sink and writes the preamble and the HEADER block.
    public init(sink: TraceFileSink, header: TraceFileHeader, options: TraceWriteOptions = TraceWriteOptions()) throws(TraceFileError) {
        self.options = options
        self.header = header
        self.header.fileIndex = 0
        blockLimit = min(max(options.blockBytes, 4 << 10), 8 << 20)
        bufCapacity = blockLimit + TraceFormat.entryHeaderSize + Int(UInt16.max)
        buf = .allocate(byteCount: TraceFormat.blockHeaderSize + bufCapacity, alignment: 16)
        maxEntries = bufCapacity / (TraceFormat.entryHeaderSize + EventLayout.headerSize) + 1
        entryTs = .allocate(capacity: maxEntries)
        entryOffset = .allocate(capacity: maxEntries)
        zeroHeader = .allocate(byteCount: EventLayout.headerSize, alignment: 16)
        zeroHeader.initializeMemory(as: UInt8.self, repeating: 0, count: EventLayout.headerSize)
        if options.compress {
            deflater = try Deflater(level: min(max(options.compressionLevel, 1), 9))
        }
        try open(sink)
        try startFile()
    }

    public convenience init(path: String, header: TraceFileHeader, options: TraceWriteOptions = TraceWriteOptions()) throws(TraceFileError) {
        try self.init(sink: .path(path), header: header, options: options)
    }

    public convenience init(fileDescriptor: Int32, header: TraceFileHeader, options: TraceWriteOptions = TraceWriteOptions()) throws(TraceFileError) {
        try self.init(sink: .fileDescriptor(fileDescriptor, closeWhenDone: false), header: header, options: options)
    }

    deinit {
        // Dropped without finish(): write what is pending (no trailer: the file reads as cut).
        if state == .open { try? flushEvents(allowRotation: false) }
        if closeFD && fd >= 0 { close(fd) }
        buf.deallocate()
        entryTs.deallocate()
        entryOffset.deallocate()
        encBuf?.deallocate()
        perm?.deallocate()
        zeroHeader.deallocate()
        zbuf?.deallocate()
    }

    // MARK: events

    /// Appends one ring-buffer record (validated as `EventView` does).
    @inline(__always)
    public func append(record: UnsafeRawBufferPointer) throws(TraceFileError) {
        let ev: EventView
        do { ev = try EventView(bytes: record) } catch { throw .invalidRecord(error) }
        try append(ev)
    }

    /// Appends one event. No allocation; writes a block when the buffer is full.
    public func append(_ ev: EventView) throws(TraceFileError) {
        guard state == .open else { throw .writerClosed }
        let size = ev.size
        let src = ev.bytes.baseAddress!
        // staged as [u32 length] then the record, its string slots cut to str_len
        // when compact; the header words are delta-encoded when the block is written
        let trim = options.compactRecords && ev.type.hasStrings
        var entry = size
        if trim {
            entry = EventLayout.headerSize + (size - EventLayout.recordSizeWithStrings)
            for s in 0..<EventLayout.stringSlots { entry += ev.stringLength(s) }
        }
        if length + TraceFormat.entryHeaderSize + entry > blockLimit && count > 0 {
            try flushEvents(allowRotation: true)
        }
        let p = buf + TraceFormat.blockHeaderSize + length
        put32(p, 0, UInt32(entry))
        let d = p + TraceFormat.entryHeaderSize
        if trim {
            d.copyMemory(from: src, byteCount: EventLayout.headerSize)
            var o = EventLayout.headerSize
            for s in 0..<EventLayout.stringSlots {
                let n = ev.stringLength(s)
                if n > 0 {
                    (d + o).copyMemory(from: src + EventLayout.strings + s * EventLayout.stringSlotSize, byteCount: n)
                    o += n
                }
            }
            let tail = size - EventLayout.recordSizeWithStrings
            if tail > 0 { (d + o).copyMemory(from: src + EventLayout.recordSizeWithStrings, byteCount: tail) }
        } else {
            d.copyMemory(from: src, byteCount: size)
        }
        let ts = ev.tsNs
        entryTs[count] = ts
        entryOffset[count] = UInt32(length)
        if ts < lastTs { inOrder = false }
        lastTs = ts
        if ts < blockMinTs { blockMinTs = ts }
        if ts > blockMaxTs { blockMaxTs = ts }
        count += 1
        length += TraceFormat.entryHeaderSize + entry
        eventsInFile += 1
        totalEvents += 1
        totalRecordBytes += UInt64(size)
    }

    /// Writes the pending events as a block (call it regularly, e.g. after each ring-buffer
    /// poll that found events, or once a second: a kill -9 loses only what is unflushed).
    public func flush() throws(TraceFileError) {
        guard state == .open else { throw .writerClosed }
        try flushEvents(allowRotation: true)
    }

    // MARK: metadata

    /// Writes a METADATA record (after the events appended before it, so the file keeps the
    /// order of the calls). With `retainAs`, the record is also kept and written again at the
    /// start of every file rotation begins; a later record with the same key replaces it.
    public func appendMetadata(_ meta: TraceMetadata, retainAs key: String? = nil) throws(TraceFileError) {
        guard state == .open else { throw .writerClosed }
        let payload = try meta.encode()
        try flushEvents(allowRotation: false)
        if let key {
            if let i = retained.firstIndex(where: { $0.key == key }) {
                retained[i].meta = meta
            } else {
                retained.append((key, meta))
            }
        }
        try writeMetadataBlock(payload, tsNs: meta.tsNs)
        try maybeRotate()
    }

    /// Typed convenience for `appendMetadata(TraceMetadata(payload, tsNs:), retainAs:)`.
    public func appendMetadata<T: TraceMetadataPayload>(_ payload: T, tsNs: UInt64 = 0, retainAs key: String? = nil) throws(TraceFileError) {
        try appendMetadata(try TraceMetadata(payload, tsNs: tsNs), retainAs: key)
    }

    // MARK: ending and rotating

    /// Writes the pending events and the trailer, and closes the sink if the writer owns it.
    /// Returns the trailer written.
    @discardableResult
    public func finish(lost: TraceLostCounts? = nil) throws(TraceFileError) -> TraceTrailer {
        guard state == .open else { throw .writerClosed }
        if let lost { lostCounts = lost }
        try flushEvents(allowRotation: false)
        let t = try writeTrailer()
        closeCurrent()
        state = .finished
        return t
    }

    /// Ends the current file (pending events, trailer) and starts `sink` with the same
    /// header (next file index, current start time) and the retained metadata.
    public func rotate(to sink: TraceFileSink) throws(TraceFileError) {
        guard state == .open else { throw .writerClosed }
        try flushEvents(allowRotation: false)
        _ = try writeTrailer()
        closeCurrent()
        fileIndex += 1
        header.fileIndex = UInt32(truncatingIfNeeded: fileIndex)
        let (boot, real) = TraceFileHeader.currentClocks()
        header.startBootNs = boot
        header.startRealtimeNs = real
        do {
            try open(sink)
            try startFile()
        } catch {
            state = .failed
            throw error
        }
    }

    // MARK: internals

    private func open(_ sink: TraceFileSink) throws(TraceFileError) {
        switch sink {
        case .path(let path):
            // never a planted link or someone else's file; 0600 (SafeOutputFile)
            do {
                fd = try SafeOutputFile(path, placement: .inPlace).takeDescriptor()
            } catch {
                state = .failed
                throw .unsafeOutput(error)
            }
            closeFD = true
        case .fileDescriptor(let f, let closeWhenDone):
            fd = f
            closeFD = closeWhenDone
        }
        bytesWritten = 0
        sequence = 0
        blocksInFile = 0
        metadataInFile = 0
        eventsInFile = 0
        fileMinTs = .max
        fileMaxTs = 0
    }

    private func closeCurrent() {
        if closeFD { close(fd) }
        fd = -1
        closeFD = false
    }

    private func startFile() throws(TraceFileError) {
        var pre = [UInt8](repeating: 0, count: TraceFormat.preambleSize)
        for i in 0..<8 { pre[i] = TraceFormat.magic[i] }
        pre.withUnsafeMutableBytes { p in
            put16(p.baseAddress!, 8, TraceFormat.majorVersion)
            put16(p.baseAddress!, 10, TraceFormat.minorVersion)
            put32(p.baseAddress!, 12, traceCRC32(UnsafeRawPointer(p.baseAddress!), 12))
        }
        let tmp = UnsafeMutableRawPointer.allocate(byteCount: pre.count, alignment: 8)
        defer { tmp.deallocate() }
        pre.withUnsafeBytes { tmp.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        try writeAll(tmp, pre.count)
        try writeBlock(type: .header, payload: header.encode(), count: 1, firstTs: header.startBootNs, lastTs: header.startBootNs)
        for r in retained {
            try writeMetadataBlock(try r.meta.encode(), tsNs: r.meta.tsNs)
        }
        startupBytes = bytesWritten
    }

    private func writeMetadataBlock(_ payload: [UInt8], tsNs: UInt64) throws(TraceFileError) {
        try writeBlock(type: .metadata, payload: payload, count: 1, firstTs: tsNs, lastTs: tsNs)
        metadataInFile += 1
    }

    @discardableResult
    private func writeTrailer() throws(TraceFileError) -> TraceTrailer {
        let (end, _) = TraceFileHeader.currentClocks()
        let t = TraceTrailer(blocks: blocksInFile, events: eventsInFile, metadataRecords: metadataInFile,
                             lost: lostCounts, firstTsNs: fileMinTs == .max ? 0 : fileMinTs,
                             lastTsNs: fileMaxTs, endBootNs: end)
        try writeBlock(type: .trailer, payload: t.encode(), count: 1, firstTs: 0, lastTs: 0)
        return t
    }

    private func maybeRotate() throws(TraceFileError) {
        guard let max = options.maxFileBytes, let handler = rotationHandler,
              bytesWritten >= max, bytesWritten > startupBytes else { return }
        try rotate(to: handler(fileIndex + 1))
    }

    private func flushEvents(allowRotation: Bool) throws(TraceFileError) {
        guard count > 0 else { return }
        let sorted = !inOrder && options.sortWithinBlock
        var base = buf
        var len = length
        if options.compactRecords || sorted {
            (base, len) = encodeBlock(sorted: sorted)
        }
        let n = count, lo = blockMinTs, hi = blockMaxTs
        if lo < fileMinTs { fileMinTs = lo }
        if hi > fileMaxTs { fileMaxTs = hi }
        count = 0
        length = 0
        inOrder = true
        lastTs = 0
        blockMinTs = .max
        blockMaxTs = 0
        try writeBlock(type: .events, base: base, rawLength: len, count: UInt32(n), firstTs: lo, lastTs: hi)
        if allowRotation { try maybeRotate() }
    }

    /// The staged entries as an EVENTS payload in `encBuf` (after 48 bytes of room for the
    /// block header): in ts order if `sorted`, compact-encoded if `compactRecords`.
    private func encodeBlock(sorted: Bool) -> (UnsafeMutableRawPointer, Int) {
        if encBuf == nil {
            encBuf = .allocate(byteCount: TraceFormat.blockHeaderSize + bufCapacity + 8 * maxEntries, alignment: 16)
            perm = .allocate(capacity: maxEntries)
        }
        let out = encBuf!
        var idx = UnsafeMutableBufferPointer(rebasing: perm![0..<count])
        for i in 0..<count { idx[i] = Int32(i) }
        if sorted {
            let ts = entryTs
            idx.sort { a, b in
                let ta = ts[Int(a)], tb = ts[Int(b)]
                return ta < tb || (ta == tb && a < b)
            }
        }
        let src = buf + TraceFormat.blockHeaderSize
        let eh = TraceFormat.entryHeaderSize
        let compact = options.compactRecords
        var o = TraceFormat.blockHeaderSize
        var prev = UnsafeRawPointer(zeroHeader)
        for i in idx {
            let e = src + Int(entryOffset[Int(i)])
            let n = Int(le32(e, 0))
            let rec = UnsafeRawPointer(e + eh)
            let d = out + o
            let rest = n - EventLayout.headerSize
            if compact && 8 + TraceFormat.headerWords * 8 + rest <= Int(UInt16.max) {
                // [u16 len][u8 1][u8 0][u32 mask][changed words][rest of the record]
                var mask: UInt32 = 0
                var w = d + 8
                for k in 0..<TraceFormat.headerWords {
                    let v = rec.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self)
                    if v != prev.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self) {
                        mask |= UInt32(1) << UInt32(k)
                        w.storeBytes(of: v, as: UInt64.self)
                        w += 8
                    }
                }
                if rest > 0 { w.copyMemory(from: rec + EventLayout.headerSize, byteCount: rest) }
                let len = 4 + (w - (d + 8)) + rest
                put16(d, 0, UInt16(len))
                d.storeBytes(of: TraceFormat.encodingCompact, toByteOffset: 2, as: UInt8.self)
                d.storeBytes(of: 0, toByteOffset: 3, as: UInt8.self)
                put32(d, 4, mask)
                o += eh + len
            } else {
                // verbatim (also a compact-mode record too large for a u16 length: never in ABI 1/2)
                put16(d, 0, UInt16(n))
                put16(d, 2, 0)
                (d + eh).copyMemory(from: rec, byteCount: n)
                o += eh + n
            }
            prev = rec
        }
        return (out, o - TraceFormat.blockHeaderSize)
    }

    private func writeBlock(type: TraceBlockType, payload: [UInt8], count: UInt32, firstTs: UInt64, lastTs: UInt64) throws(TraceFileError) {
        let b = UnsafeMutableRawPointer.allocate(byteCount: TraceFormat.blockHeaderSize + payload.count, alignment: 16)
        defer { b.deallocate() }
        payload.withUnsafeBytes { if $0.count > 0 { (b + TraceFormat.blockHeaderSize).copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        try writeBlock(type: type, base: b, rawLength: payload.count, count: count, firstTs: firstTs, lastTs: lastTs)
    }

    /// `base` has 48 bytes of room for the block header, then `rawLength` payload bytes.
    private func writeBlock(type: TraceBlockType, base: UnsafeMutableRawPointer, rawLength: Int, count: UInt32,
                            firstTs: UInt64, lastTs: UInt64) throws(TraceFileError) {
        var out = base
        var stored = rawLength
        var flags: UInt16 = 0
        if let z = deflater, rawLength > 0 {
            let need = TraceFormat.blockHeaderSize + z.bound(rawLength)
            if need > zcap {
                zbuf?.deallocate()
                zcap = max(need, TraceFormat.blockHeaderSize + z.bound(bufCapacity))
                zbuf = .allocate(byteCount: zcap, alignment: 16)
            }
            let n = try z.compress(base + TraceFormat.blockHeaderSize, rawLength,
                                   into: zbuf! + TraceFormat.blockHeaderSize, capacity: zcap - TraceFormat.blockHeaderSize)
            if n < rawLength {
                out = zbuf!
                stored = n
                flags = TraceFormat.flagZlib
            }
        }
        let h = BlockHeader(type: type.rawValue, flags: flags, storedLength: stored, rawLength: rawLength,
                            count: count, sequence: sequence,
                            firstTs: firstTs == .max ? 0 : firstTs, lastTs: lastTs,
                            payloadCRC: traceCRC32(out + TraceFormat.blockHeaderSize, stored))
        h.store(at: out)
        try writeAll(out, TraceFormat.blockHeaderSize + stored)
        sequence &+= 1
        blocksInFile &+= 1
    }

    private func writeAll(_ p: UnsafeRawPointer, _ n: Int) throws(TraceFileError) {
        var off = 0
        while off < n {
            let r = write(fd, p + off, n - off)
            if r > 0 {
                off += r
                bytesWritten += r
                totalBytesWritten += r
                continue
            }
            let e = r < 0 ? errno : ENOSPC
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK {
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&pfd, 1, -1)
                continue
            }
            state = .failed
            throw .writeFailed(offset: bytesWritten, errno: e)
        }
    }
}
