/// The bytes of a trace file (docs/format.md), without the file: the preamble, and blocks
/// (header, checksum, zlib) of events staged one by one, of metadata, of the header and the
/// trailer. It owns no descriptor, reads no clock and keeps no file state but the block
/// sequence number; `TraceFileWriter` is the file sink that writes what it returns.
///
/// Staging is the hot path: it copies the record into the block buffer and allocates
/// nothing. Encoding a block compacts the records (header words that differ from the
/// previous record's, strings cut to their length), orders them by ts_ns, and compresses.
///
/// Every method that returns bytes returns a view of the encoder's own buffers: valid until
/// the next call on the encoder. Not thread-safe.
public final class TraceBlockEncoder {
    /// The EVENTS block `encodePendingEvents` made: its bytes and what the trailer counts.
    public struct EventsBlock {
        public let bytes: UnsafeRawBufferPointer
        public let count: Int
        /// ts_ns of its earliest and latest event.
        public let firstTs: UInt64
        public let lastTs: UInt64
    }

    public let options: TraceWriteOptions
    /// The sequence number of the next block in the current file (blocks encoded so far).
    public private(set) var sequence: UInt32 = 0
    /// Events staged and not yet encoded.
    public var pendingEvents: Int { count }

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
    // header, metadata and trailer blocks are built here
    private var scratch: UnsafeMutableRawPointer?
    private var scratchCapacity = 0

    public init(options: TraceWriteOptions = TraceWriteOptions()) throws(TraceFileError) {
        self.options = options
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
    }

    deinit {
        buf.deallocate()
        entryTs.deallocate()
        entryOffset.deallocate()
        encBuf?.deallocate()
        perm?.deallocate()
        zeroHeader.deallocate()
        zbuf?.deallocate()
        scratch?.deallocate()
    }

    // MARK: a file's start and end

    /// The preamble and the HEADER block of a new file; the block sequence starts again at 0.
    /// Events still staged stay staged (they go to whichever file encodes them).
    public func encodeFileStart(_ header: TraceFileHeader) throws(TraceFileError) -> UnsafeRawBufferPointer {
        sequence = 0
        let payload = header.encode()
        let pre = TraceFormat.preambleSize
        let p = scratchBuffer(pre + TraceFormat.blockHeaderSize + payload.count)
        for i in 0..<8 { p.storeBytes(of: TraceFormat.magic[i], toByteOffset: i, as: UInt8.self) }
        put16(p, 8, TraceFormat.majorVersion)
        put16(p, 10, TraceFormat.minorVersion)
        put32(p, 12, traceCRC32(UnsafeRawPointer(p), 12))
        let block = try encodeBlock(type: .header, payload: payload, at: p + pre, count: 1,
                                firstTs: header.startBootNs, lastTs: header.startBootNs)
        if block.baseAddress == UnsafeRawPointer(p + pre) {
            return UnsafeRawBufferPointer(start: p, count: pre + block.count)
        }
        // compressed into zbuf: put the preamble in front of it there
        let all = scratchBuffer(pre + block.count, keeping: pre)
        (all + pre).copyMemory(from: block.baseAddress!, byteCount: block.count)
        return UnsafeRawBufferPointer(start: all, count: pre + block.count)
    }

    /// A METADATA block.
    public func encodeMetadata(_ meta: TraceMetadata) throws(TraceFileError) -> UnsafeRawBufferPointer {
        let payload = try meta.encode()
        let p = scratchBuffer(TraceFormat.blockHeaderSize + payload.count)
        return try encodeBlock(type: .metadata, payload: payload, at: p, count: 1, firstTs: meta.tsNs, lastTs: meta.tsNs)
    }

    /// The TRAILER block.
    public func encodeTrailer(_ trailer: TraceTrailer) throws(TraceFileError) -> UnsafeRawBufferPointer {
        let payload = trailer.encode()
        let p = scratchBuffer(TraceFormat.blockHeaderSize + payload.count)
        return try encodeBlock(type: .trailer, payload: payload, at: p, count: 1, firstTs: 0, lastTs: 0)
    }

    // MARK: events

    /// Stages one event for the next EVENTS block; no allocation. Returns false, staging
    /// nothing, when the block is full: encode the pending events, then stage it again (an
    /// empty block takes any record).
    @inline(__always)
    public func stage(_ ev: EventView) -> Bool {
        let size = ev.size
        let src = ev.bytes.baseAddress!
        // staged as [u32 length] then the record, its string slots cut to str_len
        // when compact; the header words are delta-encoded when the block is encoded
        let trim = options.compactRecords && ev.type.hasStrings
        var entry = size
        if trim {
            entry = EventLayout.headerSize + (size - EventLayout.recordSizeWithStrings)
            for s in 0..<EventLayout.stringSlots { entry += ev.stringLength(s) }
        }
        if length + TraceFormat.entryHeaderSize + entry > blockLimit && count > 0 { return false }
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
        return true
    }

    /// The staged events as one EVENTS block, and the staging emptied; nil when nothing is staged.
    public func encodePendingEvents() throws(TraceFileError) -> EventsBlock? {
        guard count > 0 else { return nil }
        let sorted = !inOrder && options.sortWithinBlock
        var base = buf
        var len = length
        if options.compactRecords || sorted {
            (base, len) = encodeEntries(sorted: sorted)
        }
        let n = count, lo = blockMinTs, hi = blockMaxTs
        count = 0
        length = 0
        inOrder = true
        lastTs = 0
        blockMinTs = .max
        blockMaxTs = 0
        let bytes = try finishBlock(type: .events, base: base, rawLength: len, count: UInt32(n), firstTs: lo, lastTs: hi)
        return EventsBlock(bytes: bytes, count: n, firstTs: lo, lastTs: hi)
    }

    // MARK: internals

    /// The staged entries as an EVENTS payload in `encBuf` (after 48 bytes of room for the
    /// block header): in ts order if `sorted`, compact-encoded if `compactRecords`.
    private func encodeEntries(sorted: Bool) -> (UnsafeMutableRawPointer, Int) {
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

    /// A block of `payload` built at `p` (room for the header and the payload).
    private func encodeBlock(type: TraceBlockType, payload: [UInt8], at p: UnsafeMutableRawPointer, count: UInt32,
                             firstTs: UInt64, lastTs: UInt64) throws(TraceFileError) -> UnsafeRawBufferPointer {
        payload.withUnsafeBytes { if $0.count > 0 { (p + TraceFormat.blockHeaderSize).copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        return try finishBlock(type: type, base: p, rawLength: payload.count, count: count, firstTs: firstTs, lastTs: lastTs)
    }

    /// `base` has 48 bytes of room for the block header, then `rawLength` payload bytes:
    /// compressed when that shrinks it, then the header stored in front.
    private func finishBlock(type: TraceBlockType, base: UnsafeMutableRawPointer, rawLength: Int, count: UInt32,
                             firstTs: UInt64, lastTs: UInt64) throws(TraceFileError) -> UnsafeRawBufferPointer {
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
                return storeHeader(type: type, flags: TraceFormat.flagZlib, at: zbuf!, stored: n, rawLength: rawLength,
                                   count: count, firstTs: firstTs, lastTs: lastTs)
            }
        }
        return storeHeader(type: type, flags: 0, at: base, stored: rawLength, rawLength: rawLength, count: count,
                           firstTs: firstTs, lastTs: lastTs)
    }

    private func storeHeader(type: TraceBlockType, flags: UInt16, at out: UnsafeMutableRawPointer, stored: Int,
                             rawLength: Int, count: UInt32, firstTs: UInt64, lastTs: UInt64) -> UnsafeRawBufferPointer {
        let h = BlockHeader(type: type.rawValue, flags: flags, storedLength: stored, rawLength: rawLength,
                            count: count, sequence: sequence,
                            firstTs: firstTs == .max ? 0 : firstTs, lastTs: lastTs,
                            payloadCRC: traceCRC32(out + TraceFormat.blockHeaderSize, stored))
        h.store(at: out)
        sequence &+= 1
        return UnsafeRawBufferPointer(start: out, count: TraceFormat.blockHeaderSize + stored)
    }

    /// The scratch buffer, at least `bytes` long; its first `keeping` bytes survive a growth.
    private func scratchBuffer(_ bytes: Int, keeping: Int = 0) -> UnsafeMutableRawPointer {
        if bytes > scratchCapacity {
            let grown = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 4096), alignment: 16)
            if keeping > 0, let old = scratch { grown.copyMemory(from: old, byteCount: keeping) }
            scratch?.deallocate()
            scratch = grown
            scratchCapacity = max(bytes, 4096)
        }
        return scratch!
    }
}
