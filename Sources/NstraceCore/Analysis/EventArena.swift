#if canImport(Glibc)
import Glibc
#endif

/// Where a stored event's variable bytes are: an offset and a length in its `EventArena`.
/// A stored event holds these instead of Strings, so that keeping, copying and dropping it
/// touches no reference count and no allocator (issue 9: those were a third of `analyze`'s
/// time on container starts).
struct ByteSpan: Equatable, Sendable {
    var offset: UInt32
    var count: UInt32

    /// No value (a NULL pointer in the call; an optional field left nil).
    static let absent = ByteSpan(offset: .max, count: 0)
    static let empty = ByteSpan(offset: 0, count: 0)

    var isAbsent: Bool { offset == .max }
}

/// The variable bytes of stored events (text-escaped strings, argv, namespace lists, the raw
/// record a detail line is formatted from), back to back in one growing allocation: one
/// allocation amortised over many events instead of one String per field. An arena belongs to
/// one owner (a container start's builder, a batch of events in flight); spans into it mean
/// nothing in another arena (`StoredEvent.copied(from:into:)` moves an event between two).
///
/// A value: copies share the memory until one of them appends (copy on write).
struct EventArena: Sendable {
    private var storage: EventArenaStorage

    init(capacity: Int = 0) { storage = EventArenaStorage(capacity: capacity) }

    var count: Int { storage.count }

    /// Room for `n` more bytes in memory of this arena's own.
    private mutating func reserve(_ n: Int) {
        let unique = isKnownUniquelyReferenced(&storage)
        if !unique || storage.capacity - storage.count < n {
            storage = storage.copy(capacity: max(storage.count + n, unique ? storage.capacity * 2 : storage.capacity))
        }
    }

    /// Appends `raw` as it is, with one memcpy (Array's append of a buffer went through a
    /// generic copy costing several hundred instructions per call: issue 9).
    mutating func append(_ raw: UnsafeRawBufferPointer) -> ByteSpan {
        let span = ByteSpan(offset: UInt32(storage.count), count: UInt32(raw.count))
        guard raw.count > 0 else { return span }
        reserve(raw.count)
        (storage.base + storage.count).copyMemory(from: raw.baseAddress!, byteCount: raw.count)
        storage.count += raw.count
        return span
    }

    /// Appends `n` bytes that `fill` writes from the pointer it is given: one reservation
    /// for bytes of several parts (an event's raw record: its header and strings).
    mutating func append(count n: Int, _ fill: (UnsafeMutableRawPointer) -> Void) -> ByteSpan {
        let span = ByteSpan(offset: UInt32(storage.count), count: UInt32(n))
        guard n > 0 else { return span }
        reserve(n)
        fill(storage.base + storage.count)
        storage.count += n
        return span
    }

    mutating func append(_ s: StaticString) -> ByteSpan {
        s.withUTF8Buffer { append(UnsafeRawBufferPointer($0)) }
    }

    mutating func append(byte: UInt8) {
        reserve(1)
        storage.base.storeBytes(of: byte, toByteOffset: storage.count, as: UInt8.self)
        storage.count += 1
    }

    mutating func append(_ s: String) -> ByteSpan {
        var s = s
        return s.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// Appends untrusted bytes in nstrace's text-escaped form (`OutputBuffer.appendTextEscaped`):
    /// printable, lossless, and equal to the bytes themselves in the common case
    /// (printable ASCII without a backslash), which is then a plain copy.
    mutating func appendText(_ raw: UnsafeRawBufferPointer) -> ByteSpan {
        if isPlainText(raw) { return append(raw) }
        var out = OutputBuffer(capacity: raw.count * 4 + 4)
        out.appendTextEscaped(raw)
        return out.withUnsafeBytes { append($0) }
    }

    /// Appends a little-endian UInt32 (namespace lists), unaligned.
    mutating func append(uint32 v: UInt32) {
        withUnsafeBytes(of: v.littleEndian) { _ = append($0) }
    }

    /// The bytes of `span` (empty when absent or empty, wherever it points), valid only inside `body`.
    func withBytes<R>(_ span: ByteSpan, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard !span.isAbsent, span.count > 0 else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        precondition(Int(span.offset) + Int(span.count) <= storage.count, "a span outside its arena")
        return try withExtendedLifetime(storage) {
            try body(UnsafeRawBufferPointer(start: storage.base + Int(span.offset), count: Int(span.count)))
        }
    }

    /// The little-endian UInt32 at byte `offset`.
    func uint32(at offset: Int) -> UInt32 {
        precondition(offset >= 0 && offset + 4 <= storage.count, "a namespace entry outside its arena")
        return withExtendedLifetime(storage) {
            UInt32(littleEndian: UnsafeRawPointer(storage.base).loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        }
    }

    /// A String of `span`'s bytes (already text-escaped: valid UTF-8), nil when absent. Made
    /// only when a report shows the field.
    func string(_ span: ByteSpan) -> String? {
        guard !span.isAbsent else { return nil }
        return withBytes(span) { String(decoding: $0, as: UTF8.self) }
    }

    /// Whether `span` holds exactly `s` (absent never does): comparisons without making a String.
    func equals(_ span: ByteSpan, _ s: String) -> Bool {
        guard !span.isAbsent, Int(span.count) == s.utf8.count else { return false }
        return withBytes(span) { Self.same($0, s) }
    }

    /// Whether `s` begins with `b`'s bytes, by memcmp (String.utf8's iterator goes a byte at a
    /// time through the string's representation).
    private static func same(_ b: UnsafeRawBufferPointer, _ s: String) -> Bool {
        var s = s
        return s.withUTF8 { UTF8Search.hasPrefix(UnsafeRawBufferPointer($0), bytes: b) }
    }

    /// Whether two spans hold the same bytes (absent never does).
    func equals(_ x: ByteSpan, _ y: ByteSpan) -> Bool {
        guard !x.isAbsent, !y.isAbsent, x.count == y.count else { return false }
        return withBytes(x) { bx in withBytes(y) { by in UTF8Search.equals(bx, by) } }
    }

    func hasPrefix(_ span: ByteSpan, _ s: String) -> Bool {
        guard !span.isAbsent, Int(span.count) >= s.utf8.count else { return false }
        return withBytes(span) { Self.same(UnsafeRawBufferPointer(rebasing: $0.prefix(s.utf8.count)), s) }
    }

    func hasSuffix(_ span: ByteSpan, _ s: String) -> Bool {
        guard !span.isAbsent, Int(span.count) >= s.utf8.count else { return false }
        return withBytes(span) { Self.same(UnsafeRawBufferPointer(rebasing: $0.suffix(s.utf8.count)), s) }
    }

    /// Forgets the bytes from `count` on (an event stored in place, then not kept: its bytes
    /// go). Spans into them mean nothing afterwards.
    mutating func truncate(to count: Int) {
        precondition(count >= 0 && count <= storage.count, "a truncation outside the arena")
        reserve(0)  // memory of this arena's own before it changes
        storage.count = count
    }

    /// Forgets the content, keeps the memory (a scratch arena reused for every event).
    mutating func removeAll() {
        if isKnownUniquelyReferenced(&storage) {
            storage.count = 0
        } else {
            storage = EventArenaStorage(capacity: storage.capacity)
        }
    }
}

/// An `EventArena`'s memory. Mutated only through an arena that holds the one reference
/// (`isKnownUniquelyReferenced`), so that sharing it between threads is safe.
final class EventArenaStorage: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let capacity: Int
    var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(byteCount: self.capacity, alignment: 8)
    }

    deinit { base.deallocate() }

    /// A new storage of `capacity` bytes holding these bytes.
    func copy(capacity: Int) -> EventArenaStorage {
        let other = EventArenaStorage(capacity: capacity)
        other.base.copyMemory(from: base, byteCount: count)
        other.count = count
        return other
    }
}
