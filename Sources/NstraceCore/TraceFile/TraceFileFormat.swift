import CZlib

/// Constants of the trace file format (docs/format.md is the specification). Every integer
/// in the file is little-endian; the event records are `struct nst_event` exactly as the
/// ring buffer delivers them (little-endian on every architecture nstrace supports).
public enum TraceFormat {
    /// Bytes 0..7 of every trace file: `\x89 N S T R \r \n \x1a`. The high first byte and the
    /// CR LF / ^Z catch 7-bit transfers and text-mode line-ending damage (as PNG's magic does).
    public static let magic: [UInt8] = [0x89, 0x4E, 0x53, 0x54, 0x52, 0x0D, 0x0A, 0x1A]
    /// The format version this code writes. A reader accepts every minor version of its own
    /// major version (minor versions only add block types, metadata kinds, header fields),
    /// and refuses a newer major version.
    public static let majorVersion: UInt16 = 1
    public static let minorVersion: UInt16 = 0

    /// magic (8) + major (2) + minor (2) + CRC32 of bytes 0..11 (4).
    public static let preambleSize = 16
    /// Every block starts with this 48-byte header.
    public static let blockHeaderSize = 48
    /// `NSBK` — the first four bytes of every block header; lets a reader find the next
    /// block after a damaged one.
    public static let blockSync: UInt32 = 0x4B42_534E   // "NSBK" little-endian
    /// Largest payload (stored or decompressed) a block may have. Readers refuse larger
    /// lengths before allocating anything.
    public static let maxBlockPayload = 16 << 20
    /// Bytes before each record in an EVENTS payload: u16 length, u8 encoding, u8 reserved.
    public static let entryHeaderSize = 4

    /// Block `flags` bits.
    public static let flagZlib: UInt16 = 1 << 0
    public static let knownFlags: UInt16 = flagZlib

    /// Record encodings in an EVENTS payload: the record as is, or compact (the header's
    /// 8-byte words that differ from the previous record's, and string slots cut to str_len).
    public static let encodingVerbatim: UInt8 = 0
    public static let encodingCompact: UInt8 = 1
    /// nst_event is 32 little-endian 8-byte words; a compact record's mask has a bit per word.
    static let headerWords = 32
}

/// The block types. Unknown types are skipped by readers (after their checksum is checked).
public enum TraceBlockType: UInt16, Sendable, CustomStringConvertible {
    case header = 1
    case events = 2
    case metadata = 3
    case trailer = 4

    public var description: String {
        switch self {
        case .header: "HEADER"
        case .events: "EVENTS"
        case .metadata: "METADATA"
        case .trailer: "TRAILER"
        }
    }

    static func name(_ raw: UInt16) -> String {
        TraceBlockType(rawValue: raw)?.description ?? "type \(raw)"
    }
}

// MARK: - little-endian access and CRC (internal)

@inline(__always)
func le16(_ p: UnsafeRawPointer, _ o: Int) -> UInt16 {
    UInt16(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt16.self))
}

@inline(__always)
func le32(_ p: UnsafeRawPointer, _ o: Int) -> UInt32 {
    UInt32(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt32.self))
}

@inline(__always)
func le64(_ p: UnsafeRawPointer, _ o: Int) -> UInt64 {
    UInt64(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt64.self))
}

@inline(__always)
func put16(_ p: UnsafeMutableRawPointer, _ o: Int, _ v: UInt16) {
    p.storeBytes(of: v.littleEndian, toByteOffset: o, as: UInt16.self)
}

@inline(__always)
func put32(_ p: UnsafeMutableRawPointer, _ o: Int, _ v: UInt32) {
    p.storeBytes(of: v.littleEndian, toByteOffset: o, as: UInt32.self)
}

@inline(__always)
func put64(_ p: UnsafeMutableRawPointer, _ o: Int, _ v: UInt64) {
    p.storeBytes(of: v.littleEndian, toByteOffset: o, as: UInt64.self)
}

/// CRC-32 (ISO-HDLC, zlib's `crc32`, Python's `zlib.crc32`) of `count` bytes: zlib's values,
/// computed faster where the CPU can (`czlib_crc32` in CZlib's shim.h).
@inline(__always)
func traceCRC32(_ p: UnsafeRawPointer, _ count: Int) -> UInt32 {
    guard count > 0 else { return 0 }
    return UInt32(truncatingIfNeeded: czlib_crc32(0, p.assumingMemoryBound(to: UInt8.self), count))
}

func traceCRC32(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBytes { traceCRC32($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, $0.count) }
}

/// The parsed 48-byte block header (see docs/format.md, "Blocks").
struct BlockHeader {
    var type: UInt16
    var flags: UInt16
    var storedLength: Int
    var rawLength: Int
    var count: UInt32
    var sequence: UInt32
    var firstTs: UInt64
    var lastTs: UInt64
    var payloadCRC: UInt32

    var compressed: Bool { flags & TraceFormat.flagZlib != 0 }

    /// Writes the header (its own CRC included) at `p`.
    func store(at p: UnsafeMutableRawPointer) {
        put32(p, 0, TraceFormat.blockSync)
        put16(p, 4, type)
        put16(p, 6, flags)
        put32(p, 8, UInt32(storedLength))
        put32(p, 12, UInt32(rawLength))
        put32(p, 16, count)
        put32(p, 20, sequence)
        put64(p, 24, firstTs)
        put64(p, 32, lastTs)
        put32(p, 40, payloadCRC)
        put32(p, 44, traceCRC32(UnsafeRawPointer(p), 44))
    }

    /// Nil unless `p` holds the sync marker and a matching header CRC.
    static func load(_ p: UnsafeRawPointer) -> BlockHeader? {
        guard le32(p, 0) == TraceFormat.blockSync, le32(p, 44) == traceCRC32(p, 44) else { return nil }
        return BlockHeader(type: le16(p, 4), flags: le16(p, 6), storedLength: Int(le32(p, 8)),
                           rawLength: Int(le32(p, 12)), count: le32(p, 16), sequence: le32(p, 20),
                           firstTs: le64(p, 24), lastTs: le64(p, 32), payloadCRC: le32(p, 40))
    }
}

/// Appends little-endian values and length-prefixed strings to a growable byte array
/// (header, metadata and trailer payloads: cold paths).
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func i32(_ v: Int32) { u32(UInt32(bitPattern: v)) }
    mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    mutating func raw(_ b: [UInt8]) { bytes += b }
}

/// Reads little-endian values from a bounded byte range; every read is checked and a short
/// read returns nil (hostile payloads).
struct ByteReader {
    let base: UnsafeRawPointer
    let count: Int
    var position = 0

    init(_ base: UnsafeRawPointer, count: Int) {
        self.base = base
        self.count = count
    }

    var remaining: Int { count - position }

    mutating func u16() -> UInt16? {
        guard remaining >= 2 else { return nil }
        defer { position += 2 }
        return le16(base, position)
    }

    mutating func u32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        defer { position += 4 }
        return le32(base, position)
    }

    mutating func u64() -> UInt64? {
        guard remaining >= 8 else { return nil }
        defer { position += 8 }
        return le64(base, position)
    }

    mutating func bytes(_ n: Int) -> [UInt8]? {
        guard n >= 0, remaining >= n else { return nil }
        defer { position += n }
        return Array(UnsafeRawBufferPointer(start: base + position, count: n))
    }

    mutating func skip(_ n: Int) -> Bool {
        guard n >= 0, remaining >= n else { return false }
        position += n
        return true
    }
}
