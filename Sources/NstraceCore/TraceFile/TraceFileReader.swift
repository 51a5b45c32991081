#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One thing read from a trace file, in file order.
public enum TraceItem {
    /// An event; the view is valid only during the `forEach` call that passes it
    /// (copy it with `Event(view)` to keep it).
    case event(EventView)
    case metadata(TraceMetadata)
}

/// How a `TraceFileReader` reads.
public struct TraceReadOptions: Sendable {
    public enum CorruptionPolicy: Sendable {
        /// Throw the error (naming the offset) after everything before the damaged block.
        case stop
        /// Warn, skip the damaged block (or scan for the next valid block header), go on.
        case skip
    }

    /// What to do with a damaged or malformed block. Default `.stop`.
    public var onCorruption: CorruptionPolicy
    /// False: EVENTS blocks are skipped unread (no checksum, no decompression): a fast pass
    /// over the metadata; `eventsRead` then counts the blocks' stated event counts.
    public var decodeEvents: Bool
    /// Warnings kept in `warnings`; more are only counted (`suppressedWarnings`).
    public var maxWarnings: Int

    public init(onCorruption: CorruptionPolicy = .stop, decodeEvents: Bool = true, maxWarnings: Int = 100) {
        self.onCorruption = onCorruption
        self.decodeEvents = decodeEvents
        self.maxWarnings = maxWarnings
    }
}

/// Reads a trace file front to back, as a stream (never seeks: standard input works), in
/// bounded memory (blocks are at most 16 MiB; every length is checked before it is used).
///
/// `init` reads the preamble and the HEADER block and throws if the file cannot be read at
/// all (empty, not a trace file, newer format, cut or damaged before its first block).
/// `forEach` then passes every event and metadata record; at its end `trailer` is set if the
/// file was closed cleanly, otherwise `wasCut` is true and `warnings` says where it ends.
public final class TraceFileReader {
    public let header: TraceFileHeader
    public let options: TraceReadOptions

    /// The TRAILER block, if the file has one (read by `forEach`).
    public private(set) var trailer: TraceTrailer?
    /// `forEach` reached the end of the file without a trailer: the recorder was killed, the
    /// disk filled, or the file was cut.
    public private(set) var wasCut = false
    /// With `wasCut`: the offset where the readable part ends (the start of the incomplete
    /// block, or the end of the file when it ends between blocks).
    public private(set) var cutOffset: Int?
    public private(set) var warnings: [TraceFileWarning] = []
    public private(set) var suppressedWarnings = 0

    public private(set) var eventsRead: UInt64 = 0
    public private(set) var metadataRead: UInt64 = 0
    /// Blocks read (header and trailer included), and damaged blocks skipped.
    public private(set) var blocksRead = 0
    public private(set) var blocksSkipped = 0
    /// Blocks of unknown types (from a newer minor version), skipped.
    public private(set) var unknownBlocks = 0
    /// Smallest and largest ts_ns of the events read (0 when none).
    public var firstTsNs: UInt64 { minTs == .max ? 0 : minTs }
    public private(set) var lastTsNs: UInt64 = 0
    /// Bytes consumed so far.
    public var bytesRead: Int { source.offset }

    private let source: ByteSource
    private var minTs = UInt64.max
    private var expectedSequence: UInt32 = 0
    private var started = false
    private var inflater: Inflater?
    private var raw: UnsafeMutableRawPointer?
    private var rawCapacity = 0
    /// One record restored from its compact form (at most 65535 bytes), and the reference
    /// header of the validation pass.
    private let scratch: UnsafeMutableRawPointer
    private let refHeader: UnsafeMutableRawPointer
    /// Per string slot of `scratch`: past this many bytes the slot holds only zeros. A
    /// restored string is mostly a few dozen bytes of a 512-byte slot: zeroing only what the
    /// record before left there, not the whole slot, saves a memset of about 2 KB per record.
    private let slotEnds: UnsafeMutablePointer<Int>

    /// Reads the file at `path` ("-": standard input).
    public convenience init(path: String, options: TraceReadOptions = TraceReadOptions()) throws(TraceFileError) {
        if path == "-" {
            try self.init(source: ByteSource(fd: 0, owned: false), options: options)
            return
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .openFailed(path: path, errno: errno) }
        try self.init(source: ByteSource(fd: fd, owned: true), options: options)
    }

    /// Reads from an open descriptor (a pipe works), which the reader does not close.
    public convenience init(fileDescriptor: Int32, options: TraceReadOptions = TraceReadOptions()) throws(TraceFileError) {
        try self.init(source: ByteSource(fd: fileDescriptor, owned: false), options: options)
    }

    /// Reads a file held in memory (tests, fuzzing).
    public convenience init(bytes: [UInt8], options: TraceReadOptions = TraceReadOptions()) throws(TraceFileError) {
        try self.init(source: ByteSource(bytes: bytes), options: options)
    }

    private init(source: ByteSource, options: TraceReadOptions) throws(TraceFileError) {
        self.source = source
        self.options = options
        scratch = .allocate(byteCount: Int(UInt16.max) + 1, alignment: 16)
        refHeader = .allocate(byteCount: EventLayout.headerSize, alignment: 16)
        slotEnds = .allocate(capacity: EventLayout.stringSlots)
        slotEnds.initialize(repeating: EventLayout.stringSlotSize, count: EventLayout.stringSlots)   // unknown: all dirty
        do {
            header = try Self.readStart(source, &expectedSequence, &inflater, &raw, &rawCapacity)
        } catch {
            scratch.deallocate()
            refHeader.deallocate()
            slotEnds.deallocate()
            raw?.deallocate()
            throw error
        }
        blocksRead = 1
    }

    deinit {
        scratch.deallocate()
        refHeader.deallocate()
        slotEnds.deallocate()
        raw?.deallocate()
    }

    // MARK: reading

    /// Passes every event and metadata record to `body`, in file order. Errors thrown by
    /// `body` end the reading and are rethrown; file errors are `TraceFileError`s (with
    /// `onCorruption = .stop`). The file is read once: a second call does nothing.
    public func forEach(_ body: (TraceItem) throws -> Void) throws {
        guard !started else { return }
        started = true
        let hs = TraceFormat.blockHeaderSize
        while true {
            let offset = source.offset
            let avail = try source.ensure(hs)
            if avail == 0 {
                endCut(at: offset, "file ends at offset \(offset) after a complete block but without a trailer: the recording did not finish (killed, or the disk filled)")
                return
            }
            if avail < hs {
                endCut(at: offset, "file cut at offset \(offset + avail) inside the header of the block at offset \(offset) (\(avail) of \(hs) bytes); no trailer: the recording did not finish")
                return
            }
            guard let h = BlockHeader.load(source.pointer) else {
                try corrupt(.badBlockHeader(offset: offset))
                if try !resync(from: offset) { return }
                continue
            }
            let typeName = TraceBlockType.name(h.type)
            if let problem = Self.check(h) {
                try corrupt(.malformedBlock(offset: offset, type: typeName, detail: problem))
                if h.storedLength <= TraceFormat.maxBlockPayload {
                    let got = try source.ensure(hs + h.storedLength)
                    if got < hs + h.storedLength { endCut(at: offset, "file cut inside the skipped block at offset \(offset)"); return }
                    source.consume(hs + h.storedLength)
                } else if try !resync(from: offset) {
                    return
                }
                continue
            }
            let total = hs + h.storedLength
            let got = try source.ensure(total)
            if got < total {
                endCut(at: offset, "file cut at offset \(offset + got) inside the \(typeName) block at offset \(offset) (\(got) of \(total) bytes); no trailer: the recording did not finish")
                return
            }
            if h.sequence != expectedSequence {
                warn(.inconsistent, offset, "block at offset \(offset) has sequence number \(h.sequence), expected \(expectedSequence): blocks are missing or out of order")
            }
            expectedSequence = h.sequence &+ 1
            blocksRead += 1

            if h.type == TraceBlockType.events.rawValue && !options.decodeEvents {
                eventsRead += UInt64(h.count)
                source.consume(total)
                continue
            }
            let stored = source.pointer + hs
            let computed = traceCRC32(stored, h.storedLength)
            if computed != h.payloadCRC {
                try corrupt(.checksumMismatch(offset: offset, what: "\(typeName) block", stored: h.payloadCRC, computed: computed))
                source.consume(total)
                continue
            }
            var payload = stored
            if h.compressed {
                if let problem = inflate(stored, h.storedLength, h.rawLength) {
                    try corrupt(.malformedBlock(offset: offset, type: typeName, detail: problem))
                    source.consume(total)
                    continue
                }
                payload = UnsafeRawPointer(raw!)
            }

            switch TraceBlockType(rawValue: h.type) {
            case .events:
                if let problem = validateEvents(payload, h.rawLength, count: Int(h.count)) {
                    try corrupt(.malformedBlock(offset: offset, type: typeName, detail: problem))
                } else {
                    try yieldEvents(payload, count: Int(h.count), body)
                }
            case .metadata:
                switch TraceMetadata.decode(payload, count: h.rawLength) {
                case .success(let m):
                    metadataRead += 1
                    try body(.metadata(m))
                case .failure(.malformed(let why)), .failure(.abi(let why)):
                    try corrupt(.malformedBlock(offset: offset, type: typeName, detail: why))
                }
            case .trailer:
                switch TraceTrailer.decode(payload, count: h.rawLength) {
                case .success(let t):
                    source.consume(total)
                    trailer = t
                    try checkTrailer(t, at: offset)
                    return
                case .failure(.malformed(let why)), .failure(.abi(let why)):
                    try corrupt(.malformedBlock(offset: offset, type: typeName, detail: why))
                }
            case .header:
                warn(.inconsistent, offset, "a second HEADER block at offset \(offset) was ignored")
            case nil:
                unknownBlocks += 1
            }
            source.consume(total)
        }
    }

    /// Reads the whole file and returns its events and metadata (tests; a big file needs
    /// memory in proportion).
    public func readAll() throws -> [TraceOwnedItem] {
        var items: [TraceOwnedItem] = []
        try forEach { item in
            switch item {
            case .event(let v): items.append(.event(Event(v)))
            case .metadata(let m): items.append(.metadata(m))
            }
        }
        return items
    }

    // MARK: start: preamble and header block

    private static func readStart(_ src: ByteSource, _ seq: inout UInt32, _ inflater: inout Inflater?,
                                  _ raw: inout UnsafeMutableRawPointer?, _ rawCap: inout Int) throws(TraceFileError) -> TraceFileHeader {
        let pre = TraceFormat.preambleSize
        let avail = try src.ensure(pre)
        if avail == 0 { throw .empty }
        let p = src.pointer
        let m = min(avail, 8)
        let leading = Array(UnsafeRawBufferPointer(start: p, count: m))
        guard leading == Array(TraceFormat.magic.prefix(m)) else {
            throw .notTraceFile(leading: leading, detected: detectFormat(UnsafeRawBufferPointer(start: p, count: avail)))
        }
        if avail < pre { throw .truncated(offset: 0, length: avail, what: "16-byte preamble") }
        let crc = traceCRC32(p, 12)
        guard crc == le32(p, 12) else {
            throw .checksumMismatch(offset: 0, what: "preamble", stored: le32(p, 12), computed: crc)
        }
        let major = le16(p, 8), minor = le16(p, 10)
        guard major == TraceFormat.majorVersion else { throw .unsupportedVersion(major: major, minor: minor) }
        src.consume(pre)

        let hs = TraceFormat.blockHeaderSize
        let off = src.offset
        let a = try src.ensure(hs)
        if a < hs { throw .truncated(offset: off, length: off + a, what: "header block") }
        guard let h = BlockHeader.load(src.pointer) else { throw .badBlockHeader(offset: off) }
        guard h.type == TraceBlockType.header.rawValue else {
            throw .malformedBlock(offset: off, type: TraceBlockType.name(h.type), detail: "the first block must be HEADER")
        }
        if let problem = check(h) { throw .malformedBlock(offset: off, type: "HEADER", detail: problem) }
        let total = hs + h.storedLength
        let got = try src.ensure(total)
        if got < total { throw .truncated(offset: off, length: off + got, what: "header block") }
        let stored = src.pointer + hs
        let computed = traceCRC32(stored, h.storedLength)
        guard computed == h.payloadCRC else {
            throw .checksumMismatch(offset: off, what: "HEADER block", stored: h.payloadCRC, computed: computed)
        }
        var payload = stored
        if h.compressed {
            if inflater == nil { inflater = try Inflater() }
            if raw == nil || rawCap < h.rawLength {
                raw?.deallocate()
                rawCap = max(h.rawLength, 1)
                raw = .allocate(byteCount: rawCap, alignment: 16)
            }
            if let problem = inflater!.decompress(stored, h.storedLength, into: raw!, expected: h.rawLength) {
                throw .malformedBlock(offset: off, type: "HEADER", detail: problem)
            }
            payload = UnsafeRawPointer(raw!)
        }
        var header: TraceFileHeader
        switch TraceFileHeader.decode(payload, count: h.rawLength) {
        case .success(let hd): header = hd
        case .failure(.malformed(let why)): throw .malformedBlock(offset: off, type: "HEADER", detail: why)
        case .failure(.abi(let why)): throw .unsupportedABI(offset: off, detail: why)
        }
        header.formatMajor = major
        header.formatMinor = minor
        seq = h.sequence &+ 1
        src.consume(total)
        return header
    }

    /// Lengths and flags a block header must satisfy before anything is allocated or read.
    private static func check(_ h: BlockHeader) -> String? {
        let maxLen = TraceFormat.maxBlockPayload
        if h.flags & ~TraceFormat.knownFlags != 0 { return "unknown flags 0x\(String(h.flags, radix: 16))" }
        if h.storedLength > maxLen { return "stored length \(h.storedLength) above the \(maxLen)-byte limit" }
        if h.rawLength > maxLen { return "length \(h.rawLength) above the \(maxLen)-byte limit" }
        if !h.compressed && h.rawLength != h.storedLength {
            return "uncompressed block with length \(h.rawLength) ≠ stored length \(h.storedLength)"
        }
        if h.type == TraceBlockType.events.rawValue {
            let minEntry = TraceFormat.entryHeaderSize + 4   // a compact record equal to the one before
            if h.count == 0 || Int(h.count) > h.rawLength / minEntry {
                return "\(h.count) events cannot fit in \(h.rawLength) bytes"
            }
        }
        return nil
    }

    // MARK: events

    /// Checks every entry of an EVENTS payload against the format and `EventView`'s rules,
    /// before any is passed on (a bad block yields nothing).
    private func validateEvents(_ p: UnsafeRawPointer, _ len: Int, count: Int) -> String? {
        let eh = TraceFormat.entryHeaderSize
        let ref = refHeader
        ref.initializeMemory(as: UInt8.self, repeating: 0, count: EventLayout.headerSize)
        var off = 0
        var n = 0
        while off < len {
            if n == count { return "more than the \(count) events the block header says" }
            guard len - off >= eh else { return "event \(n) at payload offset \(off): entry header cut" }
            let elen = Int(le16(p, off))
            let enc = p.load(fromByteOffset: off + 2, as: UInt8.self)
            guard elen <= len - off - eh else { return "event \(n) at payload offset \(off): length \(elen) runs past the block" }
            let e = p + off + eh
            switch enc {
            case TraceFormat.encodingVerbatim:
                do {
                    let v = try EventView(bytes: UnsafeRawBufferPointer(start: e, count: elen))
                    if v.size != elen { return "event \(n) at payload offset \(off): \(elen) bytes stored for an nst_event.size of \(v.size)" }
                } catch {
                    return "event \(n) at payload offset \(off): \(error)"
                }
                if elen >= EventLayout.headerSize { ref.copyMemory(from: e, byteCount: EventLayout.headerSize) }
            case TraceFormat.encodingCompact:
                guard elen >= 4 else { return "event \(n) at payload offset \(off): compact record without its mask" }
                let mask = le32(e, 0)
                let words = mask.nonzeroBitCount
                guard 4 + 8 * words <= elen else { return "event \(n) at payload offset \(off): \(words) header words do not fit in \(elen) bytes" }
                Self.patchHeader(ref, mask: mask, words: e + 4)
                let type = le16(ref, EventLayout.type)
                let size = Int(le16(ref, EventLayout.size))
                guard let t = EventType(rawValue: type) else {
                    return "event \(n) at payload offset \(off): \(EventDecodeError.unknownType(type))"
                }
                var want = 4 + 8 * words
                if t.hasStrings {
                    guard size >= EventLayout.recordSizeWithStrings else {
                        return "event \(n) at payload offset \(off): \(EventDecodeError.missingStrings(type: t, size: size))"
                    }
                    want += size - EventLayout.recordSizeWithStrings
                    for s in 0..<EventLayout.stringSlots {
                        let l = Int(le16(ref, EventLayout.strLen + 2 * s))
                        if l > EventLayout.stringSlotSize - 1 {
                            return "event \(n) at payload offset \(off): \(EventDecodeError.stringLengthOutOfRange(slot: s, length: l))"
                        }
                        want += l
                    }
                } else {
                    guard size >= EventLayout.headerSize else {
                        return "event \(n) at payload offset \(off): \(EventDecodeError.sizeTooSmall(size: size))"
                    }
                    want += size - EventLayout.headerSize
                }
                if want != elen { return "event \(n) at payload offset \(off): \(elen) bytes stored, its lengths say \(want)" }
            default:
                return "event \(n) at payload offset \(off): unknown record encoding \(enc)"
            }
            off += eh + elen
            n += 1
        }
        if n != count { return "\(n) events, the block header says \(count)" }
        return nil
    }

    /// Header words of a compact record: the set bits of `mask`, in order, from `words`.
    @inline(__always)
    static func patchHeader(_ h: UnsafeMutableRawPointer, mask: UInt32, words: UnsafeRawPointer) {
        var m = mask
        var w = words
        while m != 0 {
            let k = m.trailingZeroBitCount
            h.storeBytes(of: w.loadUnaligned(as: UInt64.self), toByteOffset: 8 * k, as: UInt64.self)
            w += 8
            m &= m - 1
        }
    }

    /// Passes a validated EVENTS payload's events on, restoring compact records into
    /// `scratch` (whose first 256 bytes always hold the previous record's header).
    private func yieldEvents(_ p: UnsafeRawPointer, count: Int, _ body: (TraceItem) throws -> Void) throws {
        let eh = TraceFormat.entryHeaderSize
        let d = scratch
        d.initializeMemory(as: UInt8.self, repeating: 0, count: EventLayout.headerSize)
        var off = 0
        for _ in 0..<count {
            let elen = Int(le16(p, off))
            let e = p + off + eh
            let view: EventView
            if p.load(fromByteOffset: off + 2, as: UInt8.self) == TraceFormat.encodingVerbatim {
                view = EventView(validated: UnsafeRawBufferPointer(start: e, count: elen))
                d.copyMemory(from: e, byteCount: EventLayout.headerSize)
            } else {
                let mask = le32(e, 0)
                Self.patchHeader(d, mask: mask, words: e + 4)
                var src = e + 4 + 8 * mask.nonzeroBitCount
                let size = Int(le16(d, EventLayout.size))
                let type = EventType(rawValue: le16(d, EventLayout.type))!
                if type.hasStrings {
                    for s in 0..<EventLayout.stringSlots {
                        let l = Int(le16(d, EventLayout.strLen + 2 * s))
                        let slot = d + EventLayout.strings + s * EventLayout.stringSlotSize
                        if l > 0 { slot.copyMemory(from: src, byteCount: l) }
                        if slotEnds[s] > l { (slot + l).initializeMemory(as: UInt8.self, repeating: 0, count: slotEnds[s] - l) }
                        slotEnds[s] = l
                        src += l
                    }
                    let tail = size - EventLayout.recordSizeWithStrings
                    if tail > 0 { (d + EventLayout.recordSizeWithStrings).copyMemory(from: src, byteCount: tail) }
                } else if size > EventLayout.headerSize {
                    (d + EventLayout.headerSize).copyMemory(from: src, byteCount: size - EventLayout.headerSize)
                    // that body lies where string slots are: mark what it covered as not zero
                    for s in 0..<EventLayout.stringSlots {
                        let covered = size - EventLayout.strings - s * EventLayout.stringSlotSize
                        if covered > 0 { slotEnds[s] = max(slotEnds[s], min(covered, EventLayout.stringSlotSize)) }
                    }
                }
                view = EventView(validated: UnsafeRawBufferPointer(start: d, count: size))
            }
            let ts = view.tsNs
            if ts < minTs { minTs = ts }
            if ts > lastTsNs { lastTsNs = ts }
            eventsRead += 1
            try body(.event(view))
            off += eh + elen
        }
    }

    // MARK: helpers

    private func inflate(_ src: UnsafeRawPointer, _ n: Int, _ expected: Int) -> String? {
        if inflater == nil {
            do { inflater = try Inflater() } catch { return error.description }
        }
        if raw == nil || rawCapacity < expected {
            raw?.deallocate()
            rawCapacity = max(expected, 1 << 20)
            raw = .allocate(byteCount: rawCapacity, alignment: 16)
        }
        return inflater!.decompress(src, n, into: raw!, expected: expected)
    }

    private func corrupt(_ e: TraceFileError) throws(TraceFileError) {
        switch options.onCorruption {
        case .stop:
            throw e
        case .skip:
            blocksSkipped += 1
            warn(.skipped, e.offset ?? source.offset, "skipped: \(e.description)")
        }
    }

    /// After a bad block header at `from`: finds the next offset holding a valid block header.
    /// False when the file ends first (then the reading is over).
    private func resync(from: Int) throws(TraceFileError) -> Bool {
        let hs = TraceFormat.blockHeaderSize
        source.consume(1)
        while true {
            let avail = try source.ensure(hs)
            if avail < hs {
                source.consume(avail)
                endCut(at: from, "no valid block after offset \(from) up to the end of the file at offset \(source.offset)")
                return false
            }
            let p = source.pointer
            var i = 0
            while i + hs <= avail {
                if p.load(fromByteOffset: i, as: UInt8.self) == 0x4E, le32(p, i) == TraceFormat.blockSync,
                   BlockHeader.load(p + i) != nil {
                    source.consume(i)
                    warn(.skipped, from, "skipped \(source.offset - from) bytes from offset \(from) to the next valid block at offset \(source.offset)")
                    return true
                }
                i += 1
            }
            source.consume(avail - hs + 1)
        }
    }

    private func endCut(at offset: Int, _ message: String) {
        wasCut = true
        cutOffset = offset
        warn(.cut, offset, message)
    }

    private func checkTrailer(_ t: TraceTrailer, at offset: Int) throws(TraceFileError) {
        if blocksSkipped == 0 {
            if t.events != eventsRead {
                warn(.inconsistent, offset, "the trailer at offset \(offset) counts \(t.events) events, the file holds \(eventsRead)")
            }
            if Int(t.blocks) != blocksRead - 1 {
                warn(.inconsistent, offset, "the trailer at offset \(offset) counts \(t.blocks) blocks before it, the file holds \(blocksRead - 1)")
            }
        }
        let more = try source.ensure(1)
        if more > 0 {
            warn(.inconsistent, source.offset, "data after the trailer at offset \(source.offset) was not read")
        }
    }

    private func warn(_ kind: TraceFileWarning.Kind, _ offset: Int, _ message: String) {
        if warnings.count < options.maxWarnings {
            warnings.append(TraceFileWarning(kind: kind, offset: offset, message: message))
        } else {
            suppressedWarnings += 1
        }
    }

    /// What foreign bytes look like, for the "not a trace file" error.
    static func detectFormat(_ b: UnsafeRawBufferPointer) -> String? {
        func starts(_ s: [UInt8]) -> Bool { b.count >= s.count && zip(b, s).allSatisfy { $0 == $1 } }
        if starts([0x7F, 0x45, 0x4C, 0x46]) { return "an ELF executable or object" }
        if starts([0x89, 0x50, 0x4E, 0x47]) { return "a PNG image" }
        if starts([0x1F, 0x8B]) { return "gzip data: decompress it first" }
        if starts([0x28, 0xB5, 0x2F, 0xFD]) { return "zstd data: decompress it first" }
        if starts([0xFD, 0x37, 0x7A, 0x58, 0x5A]) { return "xz data: decompress it first" }
        if starts([0x42, 0x5A, 0x68]) { return "bzip2 data: decompress it first" }
        if starts([0x50, 0x4B, 0x03, 0x04]) { return "a zip archive" }
        if starts([0x0A, 0x0D, 0x0D, 0x0A]) { return "a pcapng capture or sysdig .scap file" }
        if starts([0xD4, 0xC3, 0xB2, 0xA1]) || starts([0xA1, 0xB2, 0xC3, 0xD4]) { return "a pcap capture" }
        if starts(Array("PERFILE2".utf8)) { return "a perf.data file" }
        if starts(Array("SQLite format 3".utf8)) { return "an SQLite database" }
        if starts([0x89, 0x4E, 0x53, 0x54]) { return "a damaged nstrace file (its magic number is altered)" }
        let text = b.prefix(64)
        let printable = text.allSatisfy { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 || $0 >= 0x80 }
        if printable {
            if let first = text.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }), first == 0x7B || first == 0x5B {
                return "JSON text: `nstrace show` reads files written by `nstrace record -w`"
            }
            return "text"
        }
        return nil
    }
}

/// An owned item (`TraceFileReader.readAll`).
public enum TraceOwnedItem: Sendable, Equatable {
    case event(Event)
    case metadata(TraceMetadata)
}

/// Buffered sequential reading from a descriptor or from memory (internal to the reader).
final class ByteSource {
    private let fd: Int32
    private let ownsFD: Bool
    private var buf: UnsafeMutableRawPointer
    private var cap: Int
    private var lo = 0
    private var hi = 0
    private var atEOF = false
    /// File offset of the first available byte.
    private(set) var offset = 0

    static let maxCapacity = TraceFormat.blockHeaderSize + TraceFormat.maxBlockPayload + (1 << 16)

    init(fd: Int32, owned: Bool) {
        self.fd = fd
        self.ownsFD = owned
        cap = 1 << 20
        buf = .allocate(byteCount: cap, alignment: 16)
    }

    init(bytes: [UInt8]) {
        fd = -1
        ownsFD = false
        cap = max(bytes.count, 1)
        buf = .allocate(byteCount: cap, alignment: 16)
        bytes.withUnsafeBytes { if $0.count > 0 { buf.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        hi = bytes.count
        atEOF = true
    }

    deinit {
        buf.deallocate()
        if ownsFD { close(fd) }
    }

    var pointer: UnsafeRawPointer { UnsafeRawPointer(buf + lo) }

    /// Makes `n` bytes available if the input has them (n ≤ maxCapacity); returns how many
    /// are available (fewer only at the end of the input). Moves the window: pointers taken
    /// before are invalid after.
    func ensure(_ n: Int) throws(TraceFileError) -> Int {
        if hi - lo >= n || atEOF { return hi - lo }
        if lo + n > cap {
            if lo > 0 {
                if hi > lo { buf.copyMemory(from: buf + lo, byteCount: hi - lo) }
                hi -= lo
                lo = 0
            }
            if n > cap {
                let newCap = min(max(n, cap * 2), Self.maxCapacity)
                let nb = UnsafeMutableRawPointer.allocate(byteCount: newCap, alignment: 16)
                if hi > 0 { nb.copyMemory(from: buf, byteCount: hi) }
                buf.deallocate()
                buf = nb
                cap = newCap
            }
        }
        while hi - lo < n {
            let r = read(fd, buf + hi, cap - hi)
            if r > 0 { hi += r; continue }
            if r == 0 { atEOF = true; break }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK {
                var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&pfd, 1, -1)
                continue
            }
            throw .readFailed(offset: offset + (hi - lo), errno: e)
        }
        return hi - lo
    }

    func consume(_ n: Int) {
        lo += n
        offset += n
        if lo == hi && !atEOF {
            lo = 0
            hi = 0
        }
    }
}
