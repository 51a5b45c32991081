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

    init(_ names: Set<String>) {
        precondition(names.allSatisfy { $0.utf8.count < 16 && !$0.utf8.contains(0) })
        keys = names.sorted().map(CommKey.init)
    }

    /// `comm` as `EventView.comm` gives it (up to its NUL): a comm of 16 bytes has no NUL,
    /// so it can equal no name here, which all end in one.
    func contains(_ comm: UnsafeRawBufferPointer) -> Bool {
        contains(CommKey(comm))
    }

    func contains(_ key: CommKey) -> Bool {
        for k in keys where k.a == key.a && k.b == key.b { return true }
        return false
    }
}
