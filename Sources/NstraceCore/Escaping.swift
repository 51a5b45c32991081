/// The one place where untrusted strings (comm, paths, fstype, mount data, container names and
/// images, host names) are made safe for their medium. Two named policies, both total over
/// arbitrary bytes:
///
/// - `EscapePolicy.terminalText`: printable ASCII and valid UTF-8 pass through; every C0
///   control (< 0x20), DEL, C1 control (U+0080...U+009F, which some terminals obey as escape
///   introducers), backslash, and every byte that is not part of a valid UTF-8 sequence is
///   written as `\n`, `\t`, `\r`, `\\` or `\xNN`; the bidirectional and invisible format
///   characters (U+200B...U+200F, U+2028, U+2029, U+202A...U+202E, U+2066...U+2069, U+FEFF),
///   which reorder or hide what a terminal shows, are written as `\u{XXXX}`. With
///   `quote: true` also `"` → `\"`. Nothing that reaches the terminal can start an escape
///   sequence or make text read differently from what it is.
/// - `EscapePolicy.json`: always a valid JSON string (RFC 8259), with the quotes. `"` and `\`
///   are escaped, controls use `\b \f \n \r \t` or `\u00XX`, and DEL, C1 controls and the same
///   format characters as above are written as `\uXXXX` too. Valid UTF-8 passes through
///   unchanged; each byte that is not part of a valid UTF-8 sequence (stray continuation
///   bytes, overlong forms, surrogates, code points above U+10FFFF, sequences cut short)
///   becomes one U+FFFD.
/// - `EscapePolicy.html`: for HTML text and quoted attribute values (the `analyze -o html`
///   report): `& < > " '` become character references and C0 controls other than tab and
///   newline, and DEL, become U+FFFD, so that no byte can open markup or end an attribute. It is
///   applied to strings already escaped as terminal text (the analysis keeps them so), which
///   holds no invalid UTF-8, C1 control or format character.
///
/// Per event these run on `OutputBuffer` (no allocation); `Escape` wraps them for Strings
/// (table cells, messages on stderr), off the per-event path.
public enum EscapePolicy: Sendable {
    case terminalText
    case json
    case html
}

/// Escaping for Strings (not the per-event path): table cells, messages, error lines.
public enum Escape {
    /// `s` as terminal text.
    public static func text(_ s: String, quote: Bool = false) -> String {
        var out = OutputBuffer(capacity: s.utf8.count + 16)
        out.appendTextEscaped(s, quote: quote)
        return out.string
    }

    /// `bytes` as terminal text.
    public static func text(bytes: [UInt8]) -> String {
        var out = OutputBuffer(capacity: bytes.count + 16)
        bytes.withUnsafeBytes { out.appendTextEscaped($0) }
        return out.string
    }

    /// `s` as a JSON string, quotes included.
    public static func json(_ s: String) -> String {
        var out = OutputBuffer(capacity: s.utf8.count + 16)
        out.appendJSONString(s)
        return out.string
    }
}

extension OutputBuffer {
    /// Appends `bytes` under `policy` (JSON: with the quotes).
    public mutating func append(_ bytes: UnsafeRawBufferPointer, escaping policy: EscapePolicy) {
        switch policy {
        case .terminalText: appendTextEscaped(bytes)
        case .json: appendJSONString(bytes)
        case .html: appendHTMLEscaped(bytes)
        }
    }

    /// Appends `bytes` for HTML text or a quoted attribute value: `& < > " '` become
    /// character references, other control bytes become U+FFFD, so that no byte from a traced
    /// process (a container name, a mount path) can open markup or end an attribute.
    public mutating func appendHTMLEscaped(_ bytes: UnsafeRawBufferPointer) {
        // most strings need nothing: copy them in one go
        if !needsHTMLEscaping(bytes) {
            append(bytes: bytes)
            return
        }
        for b in bytes {
            switch b {
            case 0x26: append("&amp;")
            case 0x3C: append("&lt;")
            case 0x3E: append("&gt;")
            case 0x22: append("&quot;")
            case 0x27: append("&#39;")
            case 0x09, 0x0A: append(byte: b)
            case 0..<0x20, 0x7F: append("\u{FFFD}")
            default: append(byte: b)
            }
        }
    }

    public mutating func appendHTMLEscaped(_ s: String) {
        var s = s
        s.withUTF8 { appendHTMLEscaped(UnsafeRawBufferPointer($0)) }
    }

    public mutating func appendTextEscaped(_ s: String, quote: Bool = false) {
        var s = s
        s.withUTF8 { appendTextEscaped(UnsafeRawBufferPointer($0), quote: quote) }
    }

    public mutating func appendJSONString(_ s: String) {
        var s = s
        s.withUTF8 { appendJSONString(UnsafeRawBufferPointer($0)) }
    }

    /// Appends `s` as a JSON string (`EscapePolicy.json`) that may sit inside an HTML
    /// `<script>` element (the `analyze -o html` data block): `<`, `>` and `&` are written as
    /// `\u003c`, `\u003e`, `\u0026`, so no string can close the element (`</script`) or open a
    /// comment (`<!--`). JSON.parse reads the same string back.
    public mutating func appendJSONStringForHTMLScript(_ s: String) {
        var s = s
        s.withUTF8 { appendJSONStringForHTMLScript(UnsafeRawBufferPointer($0)) }
    }

    public mutating func appendJSONStringForHTMLScript(_ bytes: UnsafeRawBufferPointer) {
        // nearly every string of the HTML report's table has nothing to escape: one check of
        // eight bytes at a time, then one copy (the two general passes cost twice as much)
        if isPlainForScriptJSON(bytes) {
            append(byte: 0x22); append(bytes: bytes); append(byte: 0x22)
            return
        }
        guard containsScriptSpecial(bytes) else {
            appendJSONString(bytes)
            return
        }
        // in a JSON string these bytes only ever stand for themselves: replace them after
        var json = OutputBuffer(capacity: bytes.count * 6 + 8)
        json.appendJSONString(bytes)
        for i in 0..<json.count {
            switch json[i] {
            case 0x3C: append("\\u003c")
            case 0x3E: append("\\u003e")
            case 0x26: append("\\u0026")
            default: append(byte: json[i])
            }
        }
    }

    /// Appends `bytes` for a terminal (see the type's documentation). With `quote`, also
    /// escapes `"` (for text inside double quotes).
    public mutating func appendTextEscaped(_ bytes: UnsafeRawBufferPointer, quote: Bool = false) {
        let n = bytes.count
        guard n > 0 else { return }
        let src = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        // The same loop shape as appendJSONString, on purpose: the policies differ in every
        // branch, and one walker taking the differences as closures would cost per byte.
        write(maxBytes: 4 * n) { dst in
            var o = 0, i = 0
            while i < n {
                copyPlainASCII(src, &i, n, dst, &o)
                if i == n { break }
                let b = src[i]
                if b >= 0x20 && b < 0x7F {   // `"` or `\`
                    if b == 0x5C || quote { o += writeBackslashEscape(b, dst + o) } else { dst[o] = b; o += 1 }
                    i += 1
                } else if b < 0x80 {
                    let k = writeBackslashEscape(b, dst + o)
                    o += k != 0 ? k : writeHexEscape(b, dst + o)
                    i += 1
                } else {
                    let len = utf8SequenceLength(src, i, n)
                    if len == 0 || (len == 2 && b == 0xC2 && src[i + 1] < 0xA0) {
                        // not UTF-8, or a C1 control: escape every byte of it
                        let k = len == 0 ? 1 : 2
                        for j in 0..<k { o += writeHexEscape(src[i + j], dst + o) }
                        i += k
                    } else if len == 3, let u = formatCharacter(src + i) {
                        o += writeBracedUnicodeEscape(u, dst + o)
                        i += 3
                    } else {   // valid UTF-8 passes
                        for j in 0..<len { dst[o + j] = src[i + j] }
                        o += len; i += len
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
            var o = 1, i = 0
            while i < n {
                copyPlainASCII(src, &i, n, dst, &o)
                if i == n { break }
                let b = src[i]
                if b >= 0x20 && b < 0x7F {   // `"` or `\`
                    o += writeBackslashEscape(b, dst + o)
                    i += 1
                } else if b < 0x80 {
                    switch b {
                    case 0x08: dst[o] = 0x5C; dst[o + 1] = 0x62; o += 2
                    case 0x0C: dst[o] = 0x5C; dst[o + 1] = 0x66; o += 2
                    default:
                        let k = writeBackslashEscape(b, dst + o)
                        o += k != 0 ? k : writeUnicodeEscape(UInt16(b), dst + o)
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
                    } else if len == 3, let u = formatCharacter(src + i) {
                        // U+2028/U+2029 end a line in JavaScript; the others reorder or hide text
                        o += writeUnicodeEscape(u, dst + o)
                        i += 3
                    } else {   // valid UTF-8 passes
                        for j in 0..<len { dst[o + j] = src[i + j] }
                        o += len; i += len
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

}


/// `\xNN` (upper-case hex, as in escaped text); returns 4.
@inline(__always)
func writeHexEscape(_ b: UInt8, _ p: UnsafeMutablePointer<UInt8>) -> Int {
    p[0] = 0x5C; p[1] = 0x78
    p[2] = upperHexDigit(b >> 4); p[3] = upperHexDigit(b & 0xF)
    return 4
}

@inline(__always)
func upperHexDigit(_ v: UInt8) -> UInt8 { v < 10 ? 0x30 + v : 0x41 + v - 10 }

/// Copies the run of printable ASCII other than `"` and `\` at src[i...] in one go (both
/// policies pass it unchanged), advancing `i` and `o`.
@inline(__always)
func copyPlainASCII(_ src: UnsafePointer<UInt8>, _ i: inout Int, _ n: Int, _ dst: UnsafeMutablePointer<UInt8>, _ o: inout Int) {
    var j = i
    // eight bytes at a time while all eight are plain (most of a path or a detail line), then
    // byte by byte up to the first that is not
    while j + 8 <= n && plainASCIIWord(UnsafeRawPointer(src + j).loadUnaligned(as: UInt64.self)) { j += 8 }
    // fewer than eight bytes left: the last eight as one word, when they are all of this run
    // (those before j are plain already); the bytes one at a time cost more than the words
    if j < n && j + 8 > n && n - 8 >= i && plainASCIIWord(UnsafeRawPointer(src + n - 8).loadUnaligned(as: UInt64.self)) { j = n }
    while j < n {
        let c = src[j]
        if c < 0x20 || c >= 0x7F || c == 0x5C || c == 0x22 { break }
        j += 1
    }
    if j > i {
        (dst + o).update(from: src + i, count: j - i)
        o += j - i
        i = j
    }
}

/// Whether the eight bytes of `w` are all printable ASCII other than `\` and, unless
/// `quoteIsPlain`, `"` (what `copyPlainASCII` copies as is; with `quoteIsPlain`, what
/// text-escaping leaves as is), tested together with the word tricks of "Bit Twiddling
/// Hacks" (each exact for the word as a whole): no byte with the high bit, none below 0x20,
/// and none equal to 0x7F, `"` or `\` (a zero byte in `w` XOR that byte repeated).
@inline(__always)
func plainASCIIWord(_ w: UInt64, quoteIsPlain: Bool = false) -> Bool {
    let high: UInt64 = 0x8080_8080_8080_8080
    let below20 = (w &- 0x2020_2020_2020_2020) & ~w & high
    let quote = quoteIsPlain ? 0 : zeroBytes(w ^ 0x2222_2222_2222_2222)
    let special = zeroBytes(w ^ 0x7F7F_7F7F_7F7F_7F7F) | quote | zeroBytes(w ^ 0x5C5C_5C5C_5C5C_5C5C)
    return (w & high) | below20 | special == 0
}

/// The high bit of a byte set where `x`'s byte is zero (exact for "any byte is zero": the
/// word trick of "Bit Twiddling Hacks"); `zeroBytes(w ^ c)` finds a byte of `w` equal to `c`'s.
@inline(__always)
func zeroBytes(_ x: UInt64) -> UInt64 {
    (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
}

/// Whether every byte of `raw` passes, tested eight bytes at a time by `word` (which must
/// agree with `byte` on each of its eight), and byte by byte only in a string of fewer than
/// eight; the last bytes of a longer one are its last eight read again as one word (those it
/// overlaps passed already). The escaping checks below all run on it: nearly every path,
/// comm and name of a report needs no escaping, and a byte-by-byte test of that was most of
/// the cost of storing or writing them (issue 9).
@inline(__always)
func allBytes(_ raw: UnsafeRawBufferPointer, word: (UInt64) -> Bool, byte: (UInt8) -> Bool) -> Bool {
    let n = raw.count
    guard n >= 8 else { return raw.allSatisfy(byte) }
    var i = 0
    while i + 8 <= n {
        if !word(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { return false }
        i += 8
    }
    return i == n || word(raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self))
}

/// Whether `raw` holds a `<`, `>` or `&` (what a JSON string inside a `<script>` element must
/// not hold as is).
func containsScriptSpecial(_ raw: UnsafeRawBufferPointer) -> Bool {
    !allBytes(raw, word: { !hasScriptSpecial($0) }, byte: { $0 != 0x3C && $0 != 0x3E && $0 != 0x26 })
}

@inline(__always)
private func hasScriptSpecial(_ w: UInt64) -> Bool {
    zeroBytes(w ^ 0x3C3C_3C3C_3C3C_3C3C) | zeroBytes(w ^ 0x3E3E_3E3E_3E3E_3E3E) | zeroBytes(w ^ 0x2626_2626_2626_2626) != 0
}

/// Whether `appendHTMLEscaped` changes a byte of `raw`: a control byte, DEL, `&`, `<`, `>`,
/// `"` or `'`; bytes from 0x80 up pass, as they do there.
func needsHTMLEscaping(_ raw: UnsafeRawBufferPointer) -> Bool {
    !allBytes(raw, word: { w in
        // below 0x20 (bytes from 0x80 up excluded: `~w`), or equal to one of the six
        let below20 = (w &- 0x2020_2020_2020_2020) & ~w & 0x8080_8080_8080_8080
        let equal = zeroBytes(w ^ 0x7F7F_7F7F_7F7F_7F7F) | zeroBytes(w ^ 0x2626_2626_2626_2626) | zeroBytes(w ^ 0x3C3C_3C3C_3C3C_3C3C)
            | zeroBytes(w ^ 0x3E3E_3E3E_3E3E_3E3E) | zeroBytes(w ^ 0x2222_2222_2222_2222) | zeroBytes(w ^ 0x2727_2727_2727_2727)
        return below20 | equal == 0
    }, byte: { b in
        !(b < 0x20 || b == 0x7F || b == 0x26 || b == 0x3C || b == 0x3E || b == 0x22 || b == 0x27)
    })
}

/// Whether `raw` goes into a JSON string inside a `<script>` element as it is
/// (`appendJSONStringForHTMLScript`): printable ASCII other than `"`, `\`, `<`, `>` and `&`.
func isPlainForScriptJSON(_ raw: UnsafeRawBufferPointer) -> Bool {
    allBytes(raw, word: { plainASCIIWord($0) && !hasScriptSpecial($0) }, byte: { b in
        !(b < 0x20 || b >= 0x7F || b == 0x22 || b == 0x5C || b == 0x3C || b == 0x3E || b == 0x26)
    })
}

/// Whether text-escaping (`OutputBuffer.appendTextEscaped`) leaves every byte of `raw` as it
/// is: printable ASCII other than a backslash, the common case of a path or a comm, which a
/// stored event then keeps as a plain copy.
func isPlainText(_ raw: UnsafeRawBufferPointer) -> Bool {
    allBytes(raw, word: { plainASCIIWord($0, quoteIsPlain: true) }, byte: { $0 >= 0x20 && $0 < 0x7F && $0 != 0x5C })
}

/// `\n`, `\t`, `\r`, `\"`, `\\`, written the same by both policies; returns 2, or 0 (nothing
/// written) for any other byte.
@inline(__always)
func writeBackslashEscape(_ b: UInt8, _ p: UnsafeMutablePointer<UInt8>) -> Int {
    let c: UInt8
    switch b {
    case 0x0A: c = 0x6E
    case 0x09: c = 0x74
    case 0x0D: c = 0x72
    case 0x22, 0x5C: c = b
    default: return 0
    }
    p[0] = 0x5C; p[1] = c
    return 2
}

/// The bidirectional and invisible format characters both policies escape, from a
/// well-formed 3-byte UTF-8 sequence: U+200B...U+200F (zero-width, LRM, RLM), U+2028, U+2029
/// (line and paragraph separators), U+202A...U+202E (embeddings and overrides),
/// U+2066...U+2069 (isolates), U+FEFF (zero-width no-break space). nil for anything else.
@inline(__always)
func formatCharacter(_ p: UnsafePointer<UInt8>) -> UInt16? {
    let b0 = p[0], b1 = p[1], b2 = p[2]
    if b0 == 0xE2 {
        if b1 == 0x80 && ((b2 >= 0x8B && b2 <= 0x8F) || (b2 >= 0xA8 && b2 <= 0xAE)) { return 0x2000 | UInt16(b2 & 0x3F) }
        if b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA9 { return 0x2040 | UInt16(b2 & 0x3F) }
        return nil
    }
    return b0 == 0xEF && b1 == 0xBB && b2 == 0xBF ? 0xFEFF : nil
}

/// `\u{XXXX}` (upper-case hex, four digits), for terminal text; returns 8.
@inline(__always)
func writeBracedUnicodeEscape(_ u: UInt16, _ p: UnsafeMutablePointer<UInt8>) -> Int {
    p[0] = 0x5C; p[1] = 0x75; p[2] = 0x7B
    p[3] = upperHexDigit(UInt8(truncatingIfNeeded: u >> 12))
    p[4] = upperHexDigit(UInt8(truncatingIfNeeded: (u >> 8) & 0xF))
    p[5] = upperHexDigit(UInt8(truncatingIfNeeded: (u >> 4) & 0xF))
    p[6] = upperHexDigit(UInt8(truncatingIfNeeded: u & 0xF))
    p[7] = 0x7D
    return 8
}

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

