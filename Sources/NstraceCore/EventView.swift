import NstraceABI

/// Why a ring-buffer record could not be decoded. `description` is one line naming the
/// offending byte offset and value.
public enum EventDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The record is shorter than the 256-byte `struct nst_event`.
    case tooShort(length: Int)
    /// `size` (byte 222) is smaller than the event header.
    case sizeTooSmall(size: Int)
    /// `size` (byte 222) claims more bytes than the record has.
    case sizeExceedsRecord(size: Int, length: Int)
    /// `type` (byte 220) is not an NST_EV_* value.
    case unknownType(UInt16)
    /// A string event's `size` does not cover the 2048 bytes of `struct nst_strings`.
    case missingStrings(type: EventType, size: Int)
    /// `str_len[slot]` (byte 224 + 2*slot) is longer than a string slot can hold (511).
    case stringLengthOutOfRange(slot: Int, length: Int)

    public var description: String {
        switch self {
        case .tooShort(let length):
            return "record of \(length) bytes is shorter than the \(EventLayout.headerSize)-byte nst_event header"
        case .sizeTooSmall(let size):
            return "nst_event.size (byte \(EventLayout.size)) is \(size), smaller than the \(EventLayout.headerSize)-byte header"
        case .sizeExceedsRecord(let size, let length):
            return "nst_event.size (byte \(EventLayout.size)) is \(size) but the record has only \(length) bytes"
        case .unknownType(let t):
            return "nst_event.type (byte \(EventLayout.type)) is \(t), not a known NST_EV_* value (1...\(NST_EV_MAX))"
        case .missingStrings(let type, let size):
            return "\(type.name) event has nst_event.size (byte \(EventLayout.size)) \(size), needs at least \(EventLayout.recordSizeWithStrings) for its strings"
        case .stringLengthOutOfRange(let slot, let length):
            return "nst_event.str_len[\(slot)] (byte \(EventLayout.strLen + 2 * slot)) is \(length), more than \(EventLayout.stringSlotSize - 1)"
        }
    }
}

/// Byte offsets of struct nst_event's fields (checked against the C layout in ABILayoutTests)
/// and sizes of the record parts.
public enum EventLayout {
    public static let tsNs = 0
    public static let latencyNs = 8
    public static let cgroupId = 16
    public static let ret = 24
    public static let args = 32          // 6 × u64
    public static let aux = 80           // 4 × u64
    public static let pid = 112
    public static let tid = 116
    public static let ppid = 120
    public static let nsPid = 124
    public static let uid = 128
    public static let gid = 132
    public static let ns = 136           // 10 × u32
    public static let nsBefore = 176     // 10 × u32
    public static let flags = 216
    public static let type = 220
    public static let size = 222
    public static let strLen = 224       // 4 × u16
    public static let cpu = 232
    public static let lineage = 236
    public static let comm = 240         // 16 bytes
    public static let headerSize = 256
    public static let stringSlots = Int(NST_STR_SLOTS)
    public static let stringSlotSize = Int(NST_STR_LEN)
    /// Offset of struct nst_strings in a string event's record.
    public static let strings = 256
    public static let recordSizeWithStrings = 256 + Int(NST_STR_SLOTS) * Int(NST_STR_LEN)
    public static let commSize = Int(NST_COMM_LEN)
}

/// NST_F_* bits of nst_event.flags.
public enum EventFlags {
    public static let nsBefore = UInt32(NST_F_NS_BEFORE)
    public static let childNs = UInt32(NST_F_CHILD_NS)
    @inlinable public static func truncated(_ slot: Int) -> UInt32 { UInt32(1) << UInt32(slot) }
    @inlinable public static func fault(_ slot: Int) -> UInt32 { UInt32(1) << UInt32(8 + slot) }
}

/// A non-owning, zero-copy view of one ring-buffer record (struct nst_event, followed for
/// string events by struct nst_strings). Valid only while the bytes it was made from are:
/// inside the ring-buffer callback, or inside `Event.withView`.
///
/// The view is a pointer, a length and the type: every header field is loaded from the bytes
/// when asked for. (It used to carry a copy of the 256-byte header, which every pass of a
/// view by value copied again: a tenth of `nstrace analyze`'s time on host events.)
public struct EventView {
    /// The record, cut to `header.size` bytes.
    public let bytes: UnsafeRawBufferPointer
    public let type: EventType

    /// A copy of the fixed header (tests, debugging: the accessors below read single fields).
    public var header: nst_event { bytes.loadUnaligned(as: nst_event.self) }

    /// Validates the record: at least 256 bytes, `size` within the record, a known type,
    /// string events long enough for their strings and with every str_len ≤ 511.
    @inlinable
    public init(bytes: UnsafeRawBufferPointer) throws(EventDecodeError) {
        guard bytes.count >= EventLayout.headerSize else { throw .tooShort(length: bytes.count) }
        let size = Int(bytes.loadUnaligned(fromByteOffset: EventLayout.size, as: UInt16.self))
        guard size >= EventLayout.headerSize else { throw .sizeTooSmall(size: size) }
        guard size <= bytes.count else { throw .sizeExceedsRecord(size: size, length: bytes.count) }
        let rawType = bytes.loadUnaligned(fromByteOffset: EventLayout.type, as: UInt16.self)
        guard let t = EventType(rawValue: rawType) else { throw .unknownType(rawType) }
        if t.hasStrings {
            guard size >= EventLayout.recordSizeWithStrings else { throw .missingStrings(type: t, size: size) }
            for slot in 0..<EventLayout.stringSlots {
                let length = Int(bytes.loadUnaligned(fromByteOffset: EventLayout.strLen + 2 * slot, as: UInt16.self))
                if length > EventLayout.stringSlotSize - 1 { throw .stringLengthOutOfRange(slot: slot, length: length) }
            }
        }
        self.bytes = UnsafeRawBufferPointer(rebasing: bytes[0..<size])
        self.type = t
    }

    /// For records already validated (Event's storage).
    @usableFromInline
    init(validated bytes: UnsafeRawBufferPointer) {
        let size = Int(bytes.loadUnaligned(fromByteOffset: EventLayout.size, as: UInt16.self))
        self.bytes = UnsafeRawBufferPointer(rebasing: bytes[0..<size])
        self.type = EventType(rawValue: bytes.loadUnaligned(fromByteOffset: EventLayout.type, as: UInt16.self))!
    }

    // MARK: strings

    /// Bytes in string slot `slot` (0...3), NUL excluded. Empty for events without strings.
    @inlinable
    public func string(_ slot: Int) -> UnsafeRawBufferPointer {
        precondition(slot >= 0 && slot < EventLayout.stringSlots, "string slot out of range")
        guard type.hasStrings else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let start = EventLayout.strings + slot * EventLayout.stringSlotSize
        return UnsafeRawBufferPointer(rebasing: bytes[start ..< start + stringLength(slot)])
    }

    /// str_len[slot].
    @inlinable
    public func stringLength(_ slot: Int) -> Int {
        Int(bytes.loadUnaligned(fromByteOffset: EventLayout.strLen + 2 * slot, as: UInt16.self))
    }

    /// The string in `slot` was cut to 511 bytes (NST_F_STRn_TRUNC).
    @inlinable
    public func isTruncated(slot: Int) -> Bool { flags & EventFlags.truncated(slot) != 0 }

    /// The string in `slot` could not be read from user memory (NST_F_STRn_FAULT).
    @inlinable
    public func stringFault(slot: Int) -> Bool { flags & EventFlags.fault(slot) != 0 }

    /// The string in `slot` came from a NULL pointer (its argument is 0), or the event has
    /// no such slot.
    @inlinable
    public func stringIsNull(slot: Int) -> Bool {
        guard let a = type.stringSlotArgIndex(slot) else { return true }
        return arg(a) == 0
    }

    // MARK: header fields

    // One line per field of the ABI header, by its offset: a table of the same shape on
    // purpose (duplicates lists it); each reads its field in place, nothing else.
    @inlinable public var tsNs: UInt64 { field(EventLayout.tsNs) }
    @inlinable public var latencyNs: UInt64 { field(EventLayout.latencyNs) }
    @inlinable public var cgroupId: UInt64 { field(EventLayout.cgroupId) }
    @inlinable public var ret: Int64 { field(EventLayout.ret) }
    @inlinable public var pid: UInt32 { field(EventLayout.pid) }
    @inlinable public var tid: UInt32 { field(EventLayout.tid) }
    @inlinable public var ppid: UInt32 { field(EventLayout.ppid) }
    @inlinable public var nsPid: UInt32 { field(EventLayout.nsPid) }
    @inlinable public var uid: UInt32 { field(EventLayout.uid) }
    @inlinable public var gid: UInt32 { field(EventLayout.gid) }
    @inlinable public var flags: UInt32 { field(EventLayout.flags) }
    @inlinable public var cpu: UInt32 { field(EventLayout.cpu) }
    @inlinable public var size: Int { bytes.count }

    /// One header field, read in place (the view is at least the 256-byte header).
    @inlinable
    func field<T: FixedWidthInteger>(_ offset: Int) -> T {
        bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
    }

    // args[] and aux[] mean something different per event type: only the decoder's named
    // fields (EventCalls.swift, MountCalls.swift) read them by position.

    /// Raw syscall argument `i` (0...5).
    @inlinable
    func arg(_ i: Int) -> UInt64 {
        precondition(i >= 0 && i < 6, "arg index out of range")
        return bytes.loadUnaligned(fromByteOffset: EventLayout.args + 8 * i, as: UInt64.self)
    }

    /// Kernel-derived value `i` (0...3); meaning per event type, see nstrace_abi.h.
    @inlinable
    func aux(_ i: Int) -> UInt64 {
        precondition(i >= 0 && i < 4, "aux index out of range")
        return bytes.loadUnaligned(fromByteOffset: EventLayout.aux + 8 * i, as: UInt64.self)
    }

    /// Argument `i` as the C `int` the syscall takes (fds, dfds: low 32 bits, signed).
    @inlinable
    func intArg(_ i: Int) -> Int32 { Int32(truncatingIfNeeded: arg(i)) }

    /// Namespace inode in slot `slot` after the call (for clone*: the child's).
    @inlinable
    public func ns(_ slot: Int) -> UInt32 {
        precondition(slot >= 0 && slot < NamespaceSlot.count, "ns slot out of range")
        return bytes.loadUnaligned(fromByteOffset: EventLayout.ns + 4 * slot, as: UInt32.self)
    }

    /// Namespace inode in slot `slot` before the call (for clone*: the caller's); meaningful
    /// only when `hasNsBefore`.
    @inlinable
    public func nsBefore(_ slot: Int) -> UInt32 {
        precondition(slot >= 0 && slot < NamespaceSlot.count, "ns slot out of range")
        return bytes.loadUnaligned(fromByteOffset: EventLayout.nsBefore + 4 * slot, as: UInt32.self)
    }

    /// Every slot after the call, as one value (for clone*: the child's).
    public var namespaces: NamespaceSet {
        var set = NamespaceSet()
        for slot in NamespaceSlot.allCases { set[slot] = ns(slot.index) }
        return set
    }

    /// Every slot before the call (for clone*: the caller's); empty without ns_before.
    public var namespacesBefore: NamespaceSet {
        var set = NamespaceSet()
        guard hasNsBefore else { return set }
        for slot in NamespaceSlot.allCases { set[slot] = nsBefore(slot.index) }
        return set
    }

    /// ns_before[] is filled (NST_F_NS_BEFORE).
    @inlinable public var hasNsBefore: Bool { flags & EventFlags.nsBefore != 0 }

    /// clone*: ns[] holds the child's namespaces (NST_F_CHILD_NS).
    @inlinable public var hasChildNs: Bool { flags & EventFlags.childNs != 0 }

    /// Bit (1 << slot) set for each slot whose namespace changed; 0 without ns_before.
    @inlinable
    public var changedSlots: UInt16 {
        guard hasNsBefore else { return 0 }
        var m: UInt16 = 0
        for s in 0..<NamespaceSlot.count where ns(s) != nsBefore(s) { m |= UInt16(1) << UInt16(s) }
        return m
    }

    /// comm, up to its first NUL (at most 16 bytes).
    @inlinable
    public var comm: UnsafeRawBufferPointer {
        var n = 0
        while n < EventLayout.commSize && bytes[EventLayout.comm + n] != 0 { n += 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[EventLayout.comm ..< EventLayout.comm + n])
    }

    /// ret is -errno (-4095...-1).
    @inlinable public var failed: Bool { ret < 0 && ret >= -4095 }

    /// The errno of a failed call, 0 on success.
    @inlinable public var errno: Int32 { failed ? Int32(-ret) : 0 }
}

extension EventView {
    /// The arguments of an exec event's argv slot (NUL-separated, as /proc/PID/cmdline), in order.
    public func forEachArgument(_ body: (UnsafeRawBufferPointer) -> Void) {
        guard type == .exec else { return }
        let argv = string(1)
        var start = 0
        for i in 0..<argv.count where argv[i] == 0 {
            body(UnsafeRawBufferPointer(rebasing: argv[start..<i]))
            start = i + 1
        }
        if start < argv.count { body(UnsafeRawBufferPointer(rebasing: argv[start..<argv.count])) }
    }

    /// exec: the argv as Strings (for attribution, not the per-event output path).
    public var arguments: [String] {
        var result: [String] = []
        forEachArgument { result.append(String(decoding: $0, as: UTF8.self)) }
        return result
    }
}
