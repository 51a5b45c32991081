#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why `OutputBuffer.flush(fd:)` stopped.
public enum OutputError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The reader went away (EPIPE): e.g. piped into `head`. Exit quietly. (The process must
    /// ignore SIGPIPE — `signal(SIGPIPE, SIG_IGN)` — or it dies before seeing this.)
    case brokenPipe
    /// write(2) failed with this errno.
    case writeFailed(errno: Int32)

    public var description: String {
        switch self {
        case .brokenPipe: return "broken pipe"
        case .writeFailed(let e): return "write failed: \(Errno.name(e) ?? String(e))"
        }
    }
}

/// A reusable output byte buffer. Appending never allocates once the buffer has grown to its
/// working size; there is no String interpolation anywhere on these paths. Escaping of
/// untrusted strings (terminal text, JSON) is in Escaping.swift.
public struct OutputBuffer: ~Copyable {
    // Noncopyable: the buffer is one owned allocation, written through a raw pointer with no
    // copy-on-write uniqueness checks on the per-event path. Pass it `inout`; keep it in a
    // class property or a local `var`.
    private var base: UnsafeMutablePointer<UInt8>
    private var cap: Int
    public private(set) var count: Int

    public init(capacity: Int = 1 << 16) {
        cap = Swift.max(capacity, 256)
        base = .allocate(capacity: cap)
        count = 0
    }

    deinit { base.deallocate() }

    public var isEmpty: Bool { count == 0 }
    public var capacity: Int { cap }

    /// Forgets the content, keeps the memory.
    public mutating func removeAll() { count = 0 }

    /// Drops the content after the first `newCount` bytes (e.g. to undo a partial line).
    public mutating func truncate(to newCount: Int) {
        precondition(newCount >= 0 && newCount <= count)
        count = newCount
    }

    /// The content (valid only inside `body`).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// A copy of the content (tests, not the hot path).
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// The content decoded as UTF-8 (tests, not the hot path).
    public var string: String { String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self) }

    /// Byte at `i` of the content.
    public subscript(i: Int) -> UInt8 {
        precondition(i >= 0 && i < count)
        return base[i]
    }

    // MARK: raw writing

    /// Makes room for `maxBytes`, lets `body` write at most that many at the end, and keeps
    /// what it says it wrote.
    @inline(__always)
    public mutating func write(maxBytes: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        if count + maxBytes > cap { grow(count + maxBytes) }
        let n = body(base + count)
        count += n
    }

    /// Makes room for `n` bytes in all, at once (a writer that knows about how much it will
    /// write: fewer doublings, each a copy of the content into new memory).
    public mutating func reserveCapacity(_ n: Int) {
        if n > cap { grow(n) }
    }

    private mutating func grow(_ needed: Int) {
        var newCap = cap
        while newCap < needed { newCap *= 2 }
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: newCap)
        p.update(from: base, count: count)
        base.deallocate()
        base = p
        cap = newCap
    }

    // MARK: plain appends

    @inline(__always)
    public mutating func append(byte: UInt8) {
        write(maxBytes: 1) { p in p[0] = byte; return 1 }
    }

    /// Appends `s` as is (names, punctuation: no escaping).
    @inline(__always)
    public mutating func append(_ s: StaticString) {
        if s.hasPointerRepresentation {
            let n = s.utf8CodeUnitCount
            let src = s.utf8Start
            write(maxBytes: n) { p in p.update(from: src, count: n); return n }
        } else {
            s.withUTF8Buffer { b in append(bytes: UnsafeRawBufferPointer(b)) }
        }
    }

    /// Appends bytes as is.
    public mutating func append(bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        guard n > 0 else { return }
        write(maxBytes: n) { p in
            UnsafeMutableRawPointer(p).copyMemory(from: bytes.baseAddress!, byteCount: n)
            return n
        }
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append(bytes: $0) }
    }

    public mutating func append(contentsOf other: borrowing OutputBuffer) {
        other.withUnsafeBytes { append(bytes: $0) }
    }

    /// `n` spaces.
    public mutating func appendSpaces(_ n: Int) {
        guard n > 0 else { return }
        write(maxBytes: n) { p in p.update(repeating: 0x20, count: n); return n }
    }

    /// Pads with spaces so that the text appended since byte offset `start` is `width`
    /// columns wide (one column per UTF-8 character; ANSI sequences must not be in range).
    public mutating func padColumns(since start: Int, width: Int) {
        var cols = 0
        for i in start..<count where base[i] & 0xC0 != 0x80 { cols += 1 }
        appendSpaces(width - cols)
    }

    // MARK: numbers

    @inline(__always)
    static func decimalDigits(_ v: UInt64) -> Int {
        if v < 10 { return 1 }
        if v < 100 { return 2 }
        if v < 1000 { return 3 }
        if v < 10_000 { return 4 }
        if v < 100_000 { return 5 }
        if v < 1_000_000 { return 6 }
        if v < 10_000_000 { return 7 }
        if v < 100_000_000 { return 8 }
        if v < 1_000_000_000 { return 9 }
        if v < 10_000_000_000 { return 10 }
        var n = 11
        var x = v / 100_000_000_000
        while x != 0 { x /= 10; n += 1 }
        return n
    }

    /// Writes the `n` decimal digits of `v` ending at p[n-1], two at a time. Values that fit
    /// 32 bits (pids, inodes, ids: nearly all) take a 32-bit path split in two independent
    /// halves, which the CPU overlaps.
    @inline(__always)
    static func writeDigits(_ v: UInt64, _ n: Int, _ p: UnsafeMutablePointer<UInt8>) {
        let table: StaticString = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
        let pairs = table.utf8Start
        if v <= UInt64(UInt32.max) {
            var x = UInt32(truncatingIfNeeded: v)
            var i = n
            if i > 5 {
                let lo = x % 100_000
                x /= 100_000
                let q = lo / 1000, r = lo % 1000
                let q2 = r / 10
                p[i - 5] = pairs[Int(2 * q)]
                p[i - 4] = pairs[Int(2 * q + 1)]
                p[i - 3] = pairs[Int(2 * q2)]
                p[i - 2] = pairs[Int(2 * q2 + 1)]
                p[i - 1] = 0x30 + UInt8(truncatingIfNeeded: r % 10)
                i -= 5
            }
            while i >= 2 {
                let r = Int(x % 100)
                x /= 100
                i -= 2
                p[i] = pairs[2 * r]
                p[i + 1] = pairs[2 * r + 1]
            }
            if i == 1 { p[0] = 0x30 + UInt8(truncatingIfNeeded: x) }
            return
        }
        var x = v
        var i = n
        while i >= 2 {
            let r = Int(x % 100)
            x /= 100
            i -= 2
            p[i] = pairs[2 * r]
            p[i + 1] = pairs[2 * r + 1]
        }
        if i == 1 { p[0] = 0x30 + UInt8(truncatingIfNeeded: x) }
    }

    public mutating func appendDecimal(_ v: UInt64) {
        let n = Self.decimalDigits(v)
        write(maxBytes: n) { p in
            Self.writeDigits(v, n, p)
            return n
        }
    }

    public mutating func appendDecimal(_ v: Int64) {
        if v < 0 {
            append(byte: 0x2D)
            appendDecimal(UInt64(bitPattern: 0 &- v))   // also right for Int64.min
        } else {
            appendDecimal(UInt64(v))
        }
    }

    @inlinable public mutating func appendDecimal(_ v: UInt32) { appendDecimal(UInt64(v)) }
    @inlinable public mutating func appendDecimal(_ v: Int32) { appendDecimal(Int64(v)) }
    @inlinable public mutating func appendDecimal(_ v: Int) { appendDecimal(Int64(v)) }
    @inlinable public mutating func appendDecimal(_ v: UInt16) { appendDecimal(UInt64(v)) }

    /// Right-aligned in `width` columns (wider numbers are not cut).
    public mutating func appendDecimal(_ v: UInt64, width: Int) {
        appendSpaces(width - Self.decimalDigits(v))
        appendDecimal(v)
    }

    /// Exactly `digits` decimal digits, zero-padded (v must fit).
    public mutating func appendZeroPadded(_ v: UInt64, digits: Int) {
        write(maxBytes: digits) { p in
            Self.writeDigits(v, digits, p)
            return digits
        }
    }

    /// Lower-case hex, with "0x" unless `prefix` is false.
    public mutating func appendHex(_ v: UInt64, prefix: Bool = true) {
        var digits = 1
        var x = v >> 4
        while x != 0 { digits += 1; x >>= 4 }
        let total = digits + (prefix ? 2 : 0)
        write(maxBytes: total) { p in
            var q = p
            if prefix { q[0] = 0x30; q[1] = 0x78; q += 2 }
            var y = v
            var i = digits
            while i > 0 {
                i -= 1
                q[i] = hexDigit(UInt8(truncatingIfNeeded: y & 0xF))
                y >>= 4
            }
            return total
        }
    }

    // MARK: output

    /// Writes the whole content to `fd` with write(2) — retrying on EINTR, continuing after
    /// short writes, waiting with poll(2) on EAGAIN — and empties the buffer (also on error).
    public mutating func flush(fd: Int32) throws(OutputError) {
        defer { count = 0 }
        guard count > 0 else { return }
        let n = count
        let p = base
        let err: Int32 = {
            var off = 0
            while off < n {
                let r = Glibc.write(fd, p + off, n - off)
                if r >= 0 { off += r; continue }
                let e = Glibc.errno
                if e == EINTR { continue }
                if e == EAGAIN || e == EWOULDBLOCK {
                    var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&pfd, 1, -1)
                    continue
                }
                return e
            }
            return 0
        }()
        if err == EPIPE { throw .brokenPipe }
        if err != 0 { throw .writeFailed(errno: err) }
    }
}

@inline(__always)
func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x61 + v - 10 }

/// The buffer owns its memory exclusively (it is noncopyable), so moving it to another
/// thread is safe.
extension OutputBuffer: @unchecked Sendable {}
