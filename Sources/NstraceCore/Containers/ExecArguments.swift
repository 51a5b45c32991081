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
    public func value(of flags: [String]) -> String? {
        RuntimeCommandLine.value(of: flags, in: head[...]) ?? RuntimeCommandLine.value(of: flags, in: tail[...])
    }

    /// Every whole argument, head then tail.
    public var all: [String] { head + tail }
}

extension EventView {
    /// exec: its arguments, whole ones only (see `ExecArguments`).
    public var execArguments: ExecArguments {
        guard type == .exec else { return ExecArguments([]) }
        var head = arguments
        guard isTruncated(slot: 1) else { return ExecArguments(head) }
        if !head.isEmpty { head.removeLast() }
        var tail: [String] = []
        let bytes = string(2)
        if bytes.count > 0 {
            var start = 0
            for i in 0..<bytes.count where bytes[i] == 0 {
                tail.append(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self))
                start = i + 1
            }
            if start < bytes.count {
                tail.append(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<bytes.count]), as: UTF8.self))
            }
            if !tail.isEmpty { tail.removeFirst() }
        }
        return ExecArguments(head: head, tail: tail, cut: true)
    }
}
