/// A comm (at most 16 bytes) packed into two words, as it sits in a record (zero-padded):
/// comparing two comms is comparing two pairs of words, without a String or a hash.
struct CommKey: Equatable {
    var a: UInt64 = 0, b: UInt64 = 0

    init(_ comm: UnsafeRawBufferPointer) {
        var words: (UInt64, UInt64) = (0, 0)
        let n = min(comm.count, 16)
        if n > 0 {
            withUnsafeMutableBytes(of: &words) { $0.baseAddress!.copyMemory(from: comm.baseAddress!, byteCount: n) }
        }
        // the bytes in memory order: byte i is bits 8i… of its word (little-endian load)
        a = UInt64(littleEndian: words.0)
        b = UInt64(littleEndian: words.1)
    }

    init(_ name: String) {
        var name = name
        self = name.withUTF8 { CommKey(UnsafeRawBufferPointer($0)) }
    }
}

/// A fixed set of process names (comms of fewer than 16 bytes), looked up for every event.
struct CommNames {
    private let keys: [CommKey]
    /// One bit per name, at `bit(key)`: a comm whose bit is clear is none of them, told without
    /// comparing it with each (nearly every comm on a host).
    private let bits: UInt64

    init(_ names: Set<String>) {
        precondition(names.allSatisfy { $0.utf8.count < 16 && !$0.utf8.contains(0) })
        keys = names.sorted().map(CommKey.init)
        bits = keys.reduce(0) { $0 | Self.bit($1) }
    }

    /// A bit chosen by a multiplicative hash of both words.
    private static func bit(_ key: CommKey) -> UInt64 {
        let mixed = (key.a ^ (key.b &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9
        return UInt64(1) << (mixed >> 58) // the top six bits: 0…63
    }

    /// `comm` as `EventView.comm` gives it (up to its NUL): a comm of 16 bytes has no NUL,
    /// so it can equal no name here, which all end in one.
    func contains(_ comm: UnsafeRawBufferPointer) -> Bool {
        contains(CommKey(comm))
    }

    func contains(_ key: CommKey) -> Bool {
        guard bits & Self.bit(key) != 0 else { return false }
        for k in keys where k.a == key.a && k.b == key.b { return true }
        return false
    }
}

extension CommKey {
    /// `CommKey(ev.comm)` without scanning for the NUL a byte at a time: the record's 16 comm
    /// bytes loaded as two words, every byte from the first zero on cleared (a trace file may
    /// hold anything after it).
    init(event ev: EventView) {
        let a = UInt64(littleEndian: ev.bytes.loadUnaligned(fromByteOffset: EventLayout.comm, as: UInt64.self))
        let b = UInt64(littleEndian: ev.bytes.loadUnaligned(fromByteOffset: EventLayout.comm + 8, as: UInt64.self))
        if let keep = Self.bytesBeforeZero(a) {
            self.a = keep == 0 ? 0 : a & ((UInt64(1) << UInt64(8 * keep)) &- 1)
            self.b = 0
        } else {
            self.a = a
            self.b = Self.bytesBeforeZero(b).map { $0 == 0 ? 0 : b & ((UInt64(1) << UInt64(8 * $0)) &- 1) } ?? b
        }
    }

    /// The index of the first zero byte of `w` (byte i is bits 8i…8i+7), nil when it has none.
    /// The lowest bit `zeroBytes` sets is exact (only bits above a zero byte can be false).
    private static func bytesBeforeZero(_ w: UInt64) -> Int? {
        let t = zeroBytes(w)
        return t == 0 ? nil : t.trailingZeroBitCount / 8
    }
}
