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
/// working size; there is no String interpolation anywhere on these paths.
///
/// Escaping, both total over arbitrary bytes:
/// - `appendTextEscaped`: for terminals. Printable ASCII and valid UTF-8 pass through; every
///   control byte (< 0x20, 0x7f), every C1 control (U+0080...U+009F, which some terminals
///   obey as escape introducers), backslash, and every byte that is not part of a valid
///   UTF-8 sequence is written as `\n`, `\t`, `\r`, `\\` or `\xNN`. With `quote: true` also
///   `"` → `\"`. Nothing that reaches the terminal can start an escape sequence.
/// - `appendJSONString`: always a valid JSON string (RFC 8259), with the quotes. `"` and `\`
///   are escaped, controls use `\b \f \n \r \t` or `\u00XX`, and 0x7f, C1 controls, U+2028
///   and U+2029 are written as `\uXXXX` too. Valid UTF-8 passes through unchanged; each byte
///   that is not part of a valid UTF-8 sequence (stray continuation bytes, overlong forms,
///   surrogates, code points above U+10FFFF, sequences cut short) becomes one U+FFFD.
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

    // MARK: escaping

    /// Appends `bytes` for a terminal (see the type's documentation). With `quote`, also
    /// escapes `"` (for text inside double quotes).
    public mutating func appendTextEscaped(_ bytes: UnsafeRawBufferPointer, quote: Bool = false) {
        let n = bytes.count
        guard n > 0 else { return }
        let src = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        write(maxBytes: 4 * n) { dst in
            var o = 0
            var i = 0
            while i < n {
                // a run of plain printable ASCII is copied in one go
                var j = i
                while j < n {
                    let c = src[j]
                    if c < 0x20 || c >= 0x7F || c == 0x5C || c == 0x22 { break }
                    j += 1
                }
                if j > i {
                    (dst + o).update(from: src + i, count: j - i)
                    o += j - i
                    i = j
                    if i == n { break }
                }
                let b = src[i]
                if b >= 0x20 && b < 0x7F {
                    if b == 0x5C || (quote && b == 0x22) {
                        dst[o] = 0x5C; dst[o + 1] = b; o += 2
                    } else {
                        dst[o] = b; o += 1
                    }
                    i += 1
                } else if b < 0x80 {
                    switch b {
                    case 0x0A: dst[o] = 0x5C; dst[o + 1] = 0x6E; o += 2
                    case 0x09: dst[o] = 0x5C; dst[o + 1] = 0x74; o += 2
                    case 0x0D: dst[o] = 0x5C; dst[o + 1] = 0x72; o += 2
                    default: o += writeHexEscape(b, dst + o)
                    }
                    i += 1
                } else {
                    let len = utf8SequenceLength(src, i, n)
                    if len == 0 || (len == 2 && b == 0xC2 && src[i + 1] < 0xA0) {
                        // not UTF-8, or a C1 control: escape every byte of it
                        let k = len == 0 ? 1 : 2
                        for j in 0..<k { o += writeHexEscape(src[i + j], dst + o) }
                        i += k
                    } else {
                        for j in 0..<len { dst[o + j] = src[i + j] }
                        o += len
                        i += len
                    }
                }
            }
            return o
        }
    }

    /// Appends `bytes` as a JSON string, quotes included (see the type's documentation).
    public mutating func appendJSONString(_ bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        guard n > 0 else { append("\"\""); return }
        let src = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        write(maxBytes: 6 * n + 2) { dst in
            dst[0] = 0x22
            var o = 1
            var i = 0
            while i < n {
                // a run of plain printable ASCII is copied in one go
                var j = i
                while j < n {
                    let c = src[j]
                    if c < 0x20 || c >= 0x7F || c == 0x5C || c == 0x22 { break }
                    j += 1
                }
                if j > i {
                    (dst + o).update(from: src + i, count: j - i)
                    o += j - i
                    i = j
                    if i == n { break }
                }
                let b = src[i]
                if b >= 0x20 && b < 0x7F {
                    if b == 0x22 || b == 0x5C {
                        dst[o] = 0x5C; dst[o + 1] = b; o += 2
                    } else {
                        dst[o] = b; o += 1
                    }
                    i += 1
                } else if b < 0x80 {
                    switch b {
                    case 0x0A: dst[o] = 0x5C; dst[o + 1] = 0x6E; o += 2
                    case 0x09: dst[o] = 0x5C; dst[o + 1] = 0x74; o += 2
                    case 0x0D: dst[o] = 0x5C; dst[o + 1] = 0x72; o += 2
                    case 0x08: dst[o] = 0x5C; dst[o + 1] = 0x62; o += 2
                    case 0x0C: dst[o] = 0x5C; dst[o + 1] = 0x66; o += 2
                    default: o += writeUnicodeEscape(UInt16(b), dst + o)
                    }
                    i += 1
                } else {
                    let len = utf8SequenceLength(src, i, n)
                    if len == 0 {
                        dst[o] = 0xEF; dst[o + 1] = 0xBF; dst[o + 2] = 0xBD; o += 3
                        i += 1
                    } else if len == 2 && b == 0xC2 && src[i + 1] < 0xA0 {
                        o += writeUnicodeEscape(UInt16(src[i + 1]), dst + o)
                        i += 2
                    } else if len == 3 && b == 0xE2 && src[i + 1] == 0x80 && (src[i + 2] == 0xA8 || src[i + 2] == 0xA9) {
                        o += writeUnicodeEscape(src[i + 2] == 0xA8 ? 0x2028 : 0x2029, dst + o)
                        i += 3
                    } else {
                        for j in 0..<len { dst[o + j] = src[i + j] }
                        o += len
                        i += len
                    }
                }
            }
            dst[o] = 0x22
            return o + 1
        }
    }

    public mutating func appendJSONString(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { appendJSONString($0) }
    }

    /// `"s"` for names known to need no escaping (static tables).
    public mutating func appendQuoted(_ s: StaticString) {
        append(byte: 0x22)
        append(s)
        append(byte: 0x22)
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

/// `\xNN` (upper-case hex, as in escaped text); returns 4.
@inline(__always)
func writeHexEscape(_ b: UInt8, _ p: UnsafeMutablePointer<UInt8>) -> Int {
    p[0] = 0x5C; p[1] = 0x78
    p[2] = upperHexDigit(b >> 4); p[3] = upperHexDigit(b & 0xF)
    return 4
}

@inline(__always)
func upperHexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x41 + v - 10 }

/// `\uXXXX` (lower-case hex); returns 6.
@inline(__always)
func writeUnicodeEscape(_ u: UInt16, _ p: UnsafeMutablePointer<UInt8>) -> Int {
    p[0] = 0x5C; p[1] = 0x75
    p[2] = hexDigit(UInt8(truncatingIfNeeded: u >> 12))
    p[3] = hexDigit(UInt8(truncatingIfNeeded: (u >> 8) & 0xF))
    p[4] = hexDigit(UInt8(truncatingIfNeeded: (u >> 4) & 0xF))
    p[5] = hexDigit(UInt8(truncatingIfNeeded: u & 0xF))
    return 6
}

/// Length (2...4) of the well-formed UTF-8 sequence starting at src[i] (a byte ≥ 0x80), or 0
/// when it is not one (Unicode Table 3-7: no overlongs, surrogates, or > U+10FFFF).
@inline(__always)
func utf8SequenceLength(_ src: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> Int {
    let b0 = src[i]
    if b0 < 0xC2 { return 0 }
    if b0 < 0xE0 {
        return i + 1 < n && src[i + 1] & 0xC0 == 0x80 ? 2 : 0
    }
    if b0 < 0xF0 {
        guard i + 2 < n else { return 0 }
        let b1 = src[i + 1]
        let lo: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80
        let hi: UInt8 = b0 == 0xED ? 0x9F : 0xBF
        return b1 >= lo && b1 <= hi && src[i + 2] & 0xC0 == 0x80 ? 3 : 0
    }
    if b0 < 0xF5 {
        guard i + 3 < n else { return 0 }
        let b1 = src[i + 1]
        let lo: UInt8 = b0 == 0xF0 ? 0x90 : 0x80
        let hi: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
        return b1 >= lo && b1 <= hi && src[i + 2] & 0xC0 == 0x80 && src[i + 3] & 0xC0 == 0x80 ? 4 : 0
    }
    return 0
}

/// The buffer owns its memory exclusively (it is noncopyable), so moving it to another
/// thread is safe.
extension OutputBuffer: @unchecked Sendable {}
