/// Why a trace file could not be written or read. `description` is one line and names the
/// byte offset in the file where the problem is (the CLI prefixes the file name).
public enum TraceFileError: Error, Equatable, Sendable, CustomStringConvertible {
    // opening and I/O
    /// open(2) failed.
    case openFailed(path: String, errno: Int32)
    /// An output file was not created: it exists, is a link, is the input... (names the file).
    case unsafeOutput(SafeOutputError)
    /// read(2) failed at this offset.
    case readFailed(offset: Int, errno: Int32)
    /// write(2) failed (ENOSPC, EPIPE, ...) at this offset: the file holds every block before it.
    case writeFailed(offset: Int, errno: Int32)

    // reading: what the bytes are not
    /// The file has no bytes at all.
    case empty
    /// The first bytes (up to 8, in `leading`) are not the nstrace magic; `detected` names
    /// what they look like.
    case notTraceFile(leading: [UInt8], detected: String?)
    /// The file ends inside the 16-byte preamble or the header block: nothing can be read.
    case truncated(offset: Int, length: Int, what: String)
    /// The format's major version is newer than this reader.
    case unsupportedVersion(major: UInt16, minor: UInt16)
    /// The header describes event records this build cannot decode (another ABI version or
    /// record layout).
    case unsupportedABI(offset: Int, detail: String)
    /// A checksum does not match: the bytes at `offset` were damaged after writing.
    case checksumMismatch(offset: Int, what: String, stored: UInt32, computed: UInt32)
    /// No valid block header at `offset` (bad sync marker or header checksum).
    case badBlockHeader(offset: Int)
    /// A block whose checksums match but whose content breaks the format (lengths out of
    /// range, bad records, undecodable compression).
    case malformedBlock(offset: Int, type: String, detail: String)

    // writing
    /// A record passed to the writer does not decode as an nst_event.
    case invalidRecord(EventDecodeError)
    /// A metadata record cannot be stored (kind, size, encoding).
    case invalidMetadata(String)
    /// A metadata payload does not decode as the requested type.
    case metadataDecodeFailed(kind: String, detail: String)
    /// zlib failed (only on out-of-memory in practice).
    case compressionFailed(code: Int32)
    /// The writer was used after `finish()` or after a write error.
    case writerClosed

    public var description: String {
        switch self {
        case .openFailed(let path, let e):
            return "cannot open \(path): \(Errno.name(e) ?? "errno \(e)")"
        case .unsafeOutput(let e):
            return e.description
        case .readFailed(let offset, let e):
            return "read failed at offset \(offset): \(Errno.name(e) ?? "errno \(e)")"
        case .writeFailed(let offset, let e):
            return "write failed at offset \(offset): \(Errno.name(e) ?? "errno \(e)")"
        case .empty:
            return "empty file (0 bytes): not an nstrace trace file"
        case .notTraceFile(let leading, let detected):
            let what = detected.map { " (it looks like \($0))" } ?? ""
            return "not an nstrace trace file: offset 0 holds \(Self.hexBytes(leading)), not the magic \(Self.hexBytes(TraceFormat.magic))\(what)"
        case .truncated(let offset, let length, let what):
            return "file cut at offset \(length) inside the \(what) starting at offset \(offset): nothing to read"
        case .unsupportedVersion(let major, let minor) where major < TraceFormat.majorVersion:
            return "trace file format \(major).\(minor) (offset 8) is not a format nstrace writes (\(TraceFormat.majorVersion).x)"
        case .unsupportedVersion(let major, let minor):
            return "trace file format \(major).\(minor) (offset 8) is newer than this nstrace reads (\(TraceFormat.majorVersion).x): upgrade nstrace"
        case .unsupportedABI(let offset, let detail):
            return "header block at offset \(offset): \(detail)"
        case .checksumMismatch(let offset, let what, let stored, let computed):
            return "\(what) at offset \(offset) is damaged (checksum \(Self.hex(computed)), stored \(Self.hex(stored)))"
        case .badBlockHeader(let offset):
            return "no valid block header at offset \(offset) (bad sync marker or header checksum)"
        case .malformedBlock(let offset, let type, let detail):
            return "\(type) block at offset \(offset) is malformed: \(detail)"
        case .invalidRecord(let e):
            return "invalid event record: \(e)"
        case .invalidMetadata(let detail):
            return "invalid metadata record: \(detail)"
        case .metadataDecodeFailed(let kind, let detail):
            return "metadata record '\(kind)' does not decode: \(detail)"
        case .compressionFailed(let code):
            return "zlib failed (code \(code))"
        case .writerClosed:
            return "trace file writer already finished or failed"
        }
    }

    /// The byte offset the error is about, when there is one.
    public var offset: Int? {
        switch self {
        case .readFailed(let o, _), .writeFailed(let o, _), .truncated(let o, _, _),
             .unsupportedABI(let o, _), .checksumMismatch(let o, _, _, _), .badBlockHeader(let o),
             .malformedBlock(let o, _, _):
            return o
        case .notTraceFile, .empty: return 0
        case .unsupportedVersion: return 8
        default: return nil
        }
    }

    static func hexBytes(_ b: [UInt8]) -> String {
        b.map { let s = String($0, radix: 16); return $0 < 16 ? "0" + s : s }.joined(separator: " ")
    }

    static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - s.count) + s
    }
}

/// Something the reader noticed and got past: the file was cut, a damaged block was skipped,
/// bytes after the trailer. One line, naming the offset.
public struct TraceFileWarning: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The file ends without a trailer (cleanly after a block, or inside one).
        case cut
        /// A damaged or malformed block was skipped (`TraceReadOptions.onCorruption = .skip`).
        case skipped
        /// The trailer's totals differ from what was read, a sequence number jumped, data
        /// follows the trailer.
        case inconsistent
    }

    public var kind: Kind
    public var offset: Int
    public var message: String

    public var description: String { message }
}
