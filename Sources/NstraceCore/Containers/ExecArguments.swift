/// The arguments of an exec event, keeping only what is known whole.
///
/// The BPF side copies the first 511 bytes of argv; when argv is longer (NST_F_STR1_TRUNC) it
/// also copies the last 511 bytes into string slot 2. The last argument of the head and the
/// first of the tail may be cut: both are dropped, so every argument here is whole, and
/// anything in between is missing. A runtime puts the container id last: with the tail it is
/// still known in full; without one (an older trace file) it is unknown, never a prefix.
public struct ExecArguments: Equatable, Sendable {
    /// Whole arguments from the start of argv.
    public var head: [String]
    /// Whole arguments from the end of argv (empty unless argv was cut).
    public var tail: [String]
    /// argv was longer than the BPF side copies: arguments may be missing between head and tail.
    public var cut: Bool

    public init(head: [String], tail: [String] = [], cut: Bool = false) {
        self.head = head
        self.tail = tail
        self.cut = cut
    }

    /// An argv known in full.
    public init(_ argv: [String]) { self.init(head: argv) }

    /// The last argument, if it is known to be the last one and whole.
    public var last: String? { cut ? tail.last : head.last }

    /// `--flag value` or `--flag=value`, never pairing a flag with a value across the gap.
    public func value(of flags: [StaticString]) -> String? {
        ArgvBytes.with(filename: "", self) { $0.value(of: flags).map(ArgvBytes.string) }
    }

    /// Every whole argument, head then tail.
    public var all: [String] { head + tail }
}

extension EventView {
    /// exec: its arguments, whole ones only (see `ExecArguments`).
    public var execArguments: ExecArguments {
        guard type == .exec else { return ExecArguments([]) }
        let a = ArgvBytes(exec: self)
        return ExecArguments(head: a.head.map(ArgvBytes.string), tail: a.tail.map(ArgvBytes.string), cut: a.cut)
    }
}

/// `ExecArguments` as byte slices of the bytes they are in (an exec record, or the bytes of
/// Strings): the runtime command line parser reads these, so parsing an exec makes no String
/// per argument, only for what it keeps (issue 9: Strings for every runtime exec's argv were
/// most of what attributing it cost). Valid while those bytes are.
struct ArgvBytes {
    /// The executed file's path (exec's string slot 0).
    var filename: UnsafeRawBufferPointer
    var head: [UnsafeRawBufferPointer] = []
    var tail: [UnsafeRawBufferPointer] = []
    var cut = false

    /// The rules of `ExecArguments`, on exec `ev`'s record.
    init(exec ev: EventView) {
        filename = ev.string(0)
        head.reserveCapacity(32) // a runtime's argv has some twenty arguments: one allocation
        Self.forEachPiece(ev.string(1)) { head.append($0) }
        guard ev.isTruncated(slot: 1) else { return }
        cut = true
        if !head.isEmpty { head.removeLast() }
        Self.forEachPiece(ev.string(2)) { tail.append($0) }
        if !tail.isEmpty { tail.removeFirst() }
    }

    private init(filename: UnsafeRawBufferPointer, head: [UnsafeRawBufferPointer], tail: [UnsafeRawBufferPointer], cut: Bool) {
        self.filename = filename
        self.head = head
        self.tail = tail
        self.cut = cut
    }

    /// `body` given the bytes of `filename` and `arguments`.
    static func with<R>(filename: String, _ arguments: ExecArguments, _ body: (ArgvBytes) -> R) -> R {
        var buffer = Array(filename.utf8)
        var ends: [Int] = [buffer.count]
        for a in arguments.head + arguments.tail {
            buffer += a.utf8
            ends.append(buffer.count)
        }
        return buffer.withUnsafeBytes { raw in
            var pieces: [UnsafeRawBufferPointer] = []
            for i in 1..<ends.count { pieces.append(UnsafeRawBufferPointer(rebasing: raw[ends[i - 1]..<ends[i]])) }
            let n = arguments.head.count
            return body(ArgvBytes(filename: UnsafeRawBufferPointer(rebasing: raw[0..<ends[0]]), head: Array(pieces[..<n]),
                                  tail: Array(pieces[n...]), cut: arguments.cut))
        }
    }

    /// `--flag value` or `--flag=value`, never pairing a flag with a value across the gap.
    func value(of flags: [StaticString]) -> UnsafeRawBufferPointer? {
        Self.value(of: flags, in: head[...]) ?? Self.value(of: flags, in: tail[...])
    }

    /// `--flag value` or `--flag=value`; every flag starts with `-`.
    static func value(of flags: [StaticString], in args: ArraySlice<UnsafeRawBufferPointer>) -> UnsafeRawBufferPointer? {
        var i = args.startIndex
        while i < args.endIndex {
            let a = args[i]
            // only an option can match: most arguments are dismissed by their first byte
            if a.first == 0x2D {
                for f in flags {
                    if UTF8Search.equals(a, f), i + 1 < args.endIndex { return args[i + 1] }
                    let n = f.utf8CodeUnitCount
                    if a.count > n, a[n] == 0x3D, UTF8Search.hasPrefix(a, f) {
                        return UnsafeRawBufferPointer(rebasing: a[(n + 1)...])
                    }
                }
            }
            i += 1
        }
        return nil
    }

    /// Whether `a` is exactly one of `names`.
    static func isOne(of names: [StaticString], _ a: UnsafeRawBufferPointer) -> Bool {
        names.contains { UTF8Search.equals(a, $0) }
    }

    static func string(_ a: UnsafeRawBufferPointer) -> String { String(decoding: a, as: UTF8.self) }

    /// The NUL-separated pieces of `bytes` (as /proc/PID/cmdline), the last one also when no
    /// NUL ends it.
    static func forEachPiece(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        for i in 0..<bytes.count where bytes[i] == 0 {
            body(UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
            start = i + 1
        }
        if start < bytes.count { body(UnsafeRawBufferPointer(rebasing: bytes[start..<bytes.count])) }
    }
}
