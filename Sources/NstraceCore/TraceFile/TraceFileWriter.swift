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

/// Writes a trace file (docs/format.md) through a `TraceBlockEncoder`: the file sink. It owns
/// the descriptor (created safely: `SafeOutputFile`), writes the preamble and HEADER block
/// at once, then events in EVENTS blocks as they fill, METADATA records as they come, a
/// TRAILER on `finish`; it rotates files, keeps the metadata retained across rotations and
/// the counts the trailer reports.
///
/// `append` is the hot path: the encoder stages the record and nothing is allocated; a full
/// block is encoded and written with one write(2). Every byte on disk is part of a complete
/// block except, after a crash, the last one. Not thread-safe: use it from one thread.
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
    public var pendingEvents: Int { encoder.pendingEvents }

    private enum State { case open, finished, failed }
    private var state = State.open

    private let encoder: TraceBlockEncoder
    private var fd: Int32 = -1
    private var closeFD = false
    private var metadataInFile: UInt64 = 0
    private var fileMinTs = UInt64.max
    private var fileMaxTs: UInt64 = 0
    private var startupBytes = 0

    private var retained: [(key: String, meta: TraceMetadata)] = []

    /// Opens the sink and writes the preamble and the HEADER block.
    public init(sink: TraceFileSink, header: TraceFileHeader, options: TraceWriteOptions = TraceWriteOptions()) throws(TraceFileError) {
        self.options = options
        self.header = header
        self.header.fileIndex = 0
        encoder = try TraceBlockEncoder(options: options)
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
        if !encoder.stage(ev) {
            try flushEvents(allowRotation: true)
            _ = encoder.stage(ev)   // an empty block takes any record
        }
        eventsInFile += 1
        totalEvents += 1
        totalRecordBytes += UInt64(ev.size)
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
        _ = try meta.encode()   // an invalid record is refused before anything is written
        try flushEvents(allowRotation: false)
        if let key {
            if let i = retained.firstIndex(where: { $0.key == key }) {
                retained[i].meta = meta
            } else {
                retained.append((key, meta))
            }
        }
        try writeMetadata(meta)
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
        try writeAll(try encoder.encodeFileStart(header))
        for r in retained { try writeMetadata(r.meta) }
        startupBytes = bytesWritten
    }

    private func writeMetadata(_ meta: TraceMetadata) throws(TraceFileError) {
        try writeAll(try encoder.encodeMetadata(meta))
        metadataInFile += 1
    }

    @discardableResult
    private func writeTrailer() throws(TraceFileError) -> TraceTrailer {
        let (end, _) = TraceFileHeader.currentClocks()
        let t = TraceTrailer(blocks: encoder.sequence, events: eventsInFile, metadataRecords: metadataInFile,
                             lost: lostCounts, firstTsNs: fileMinTs == .max ? 0 : fileMinTs,
                             lastTsNs: fileMaxTs, endBootNs: end)
        try writeAll(try encoder.encodeTrailer(t))
        return t
    }

    private func maybeRotate() throws(TraceFileError) {
        guard let max = options.maxFileBytes, let handler = rotationHandler,
              bytesWritten >= max, bytesWritten > startupBytes else { return }
        try rotate(to: handler(fileIndex + 1))
    }

    private func flushEvents(allowRotation: Bool) throws(TraceFileError) {
        guard let block = try encoder.encodePendingEvents() else { return }
        if block.firstTs < fileMinTs { fileMinTs = block.firstTs }
        if block.lastTs > fileMaxTs { fileMaxTs = block.lastTs }
        try writeAll(block.bytes)
        if allowRotation { try maybeRotate() }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(TraceFileError) {
        guard let p = bytes.baseAddress else { return }
        let n = bytes.count
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
