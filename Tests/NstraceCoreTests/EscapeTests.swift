import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import NstraceCore

final class EscapeTests: XCTestCase {
    private func text(_ b: [UInt8], quote: Bool = false) -> String {
        var o = OutputBuffer(capacity: 16)
        b.withUnsafeBytes { o.appendTextEscaped($0, quote: quote) }
        return o.string
    }

    private func jsonRaw(_ b: [UInt8]) -> String {
        var o = OutputBuffer(capacity: 16)
        o.appendJSONString(b)
        return o.string
    }

    /// Decodes the JSON string the buffer produced (proves it is valid JSON).
    private func jsonDecoded(_ b: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> String? {
        let raw = jsonRaw(b)
        guard let arr = try? JSONSerialization.jsonObject(with: Data(("[" + raw + "]").utf8)) as? [String] else {
            XCTFail("invalid JSON: \(raw)", file: file, line: line)
            return nil
        }
        return arr.first
    }

    func testTextEscapes() {
        XCTAssertEqual(text(Array("/mnt/plain path".utf8)), "/mnt/plain path")
        XCTAssertEqual(text([0x0A, 0x09, 0x0D, 0x5C]), "\\n\\t\\r\\\\")
        XCTAssertEqual(text([0x00, 0x01, 0x1B, 0x7F]), "\\x00\\x01\\x1B\\x7F")
        XCTAssertEqual(text(Array("\u{1B}[2J".utf8)), "\\x1B[2J")
        XCTAssertEqual(text(Array("a\"b".utf8)), "a\"b")
        XCTAssertEqual(text(Array("a\"b".utf8), quote: true), "a\\\"b")
        // valid UTF-8 passes, C1 controls (U+0080...U+009F) and invalid bytes do not
        XCTAssertEqual(text(Array("é€😀".utf8)), "é€😀")
        XCTAssertEqual(text([0xC2, 0x9B, 0x32, 0x4A]), "\\xC2\\x9B2J")
        XCTAssertEqual(text([0xC2, 0xA0]), "\u{A0}")
        XCTAssertEqual(text([0x9B]), "\\x9B")
        XCTAssertEqual(text([0xFF, 0xFE]), "\\xFF\\xFE")
        XCTAssertEqual(text([0xC0, 0xAF]), "\\xC0\\xAF")            // overlong '/'
        XCTAssertEqual(text([0xED, 0xA0, 0x80]), "\\xED\\xA0\\x80")  // surrogate
        XCTAssertEqual(text([0xE2, 0x82]), "\\xE2\\x82")            // cut short
        XCTAssertEqual(text([0xF4, 0x90, 0x80, 0x80]), "\\xF4\\x90\\x80\\x80")
        XCTAssertEqual(text([0xF0, 0x9F, 0x98, 0x80]), "😀")
        XCTAssertEqual(text([]), "")
    }

    /// The word-at-a-time paths (eight bytes at once, the last eight overlapping bytes already
    /// checked) write what a byte-by-byte rule writes: every ASCII value at every position of
    /// words and tails, after an escaped byte and next to printable neighbours. Text: printable
    /// bytes as they are, the rest escaped one by one; JSON for a `<script>`: the general JSON
    /// string with `<`, `>`, `&` replaced afterwards.
    func testWordAtATimePathsAgreeWithTheByteRules() {
        func slowText(_ b: [UInt8], quote: Bool) -> String {
            var s = ""
            for c in b {
                switch c {
                case 0x0A: s += "\\n"
                case 0x09: s += "\\t"
                case 0x0D: s += "\\r"
                case 0x5C: s += "\\\\"
                case 0x22 where quote: s += "\\\""
                case 0x20 ..< 0x7F: s += String(UnicodeScalar(c))
                default: s += "\\x" + String(c, radix: 16, uppercase: true).leftPadded(to: 2)
                }
            }
            return s
        }
        func slowScript(_ b: [UInt8]) -> String {
            jsonRaw(b).replacingOccurrences(of: "<", with: "\\u003c").replacingOccurrences(of: ">", with: "\\u003e")
                .replacingOccurrences(of: "&", with: "\\u0026")
        }
        var checked = 0
        for fill: UInt8 in [0x61, 0x2F] {
            for length in [1, 7, 8, 9, 15, 16, 17, 23] {
                for at in 0 ..< length {
                    for value in 0 ... 127 {
                        var b = [UInt8](repeating: fill, count: length)
                        b[at] = UInt8(value)
                        for bytes in [b, [0x0A] + b] {
                            XCTAssertEqual(text(bytes), slowText(bytes, quote: false), "\(bytes)")
                            XCTAssertEqual(text(bytes, quote: true), slowText(bytes, quote: true), "\(bytes)")
                            var o = OutputBuffer(capacity: 16)
                            bytes.withUnsafeBytes { o.appendJSONStringForHTMLScript($0) }
                            XCTAssertEqual(o.string, slowScript(bytes), "\(bytes)")
                            checked += 1
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(checked, 30_000)
    }

    /// `appendHTMLEscaped`'s eight-bytes-at-a-time test of whether anything needs escaping
    /// against its byte-by-byte rule: every byte value at every position of words and tails.
    func testHTMLEscapingAgreesWithTheByteRule() {
        func slow(_ b: [UInt8]) -> [UInt8] {
            var out: [UInt8] = []
            for c in b {
                switch c {
                case 0x26: out += Array("&amp;".utf8)
                case 0x3C: out += Array("&lt;".utf8)
                case 0x3E: out += Array("&gt;".utf8)
                case 0x22: out += Array("&quot;".utf8)
                case 0x27: out += Array("&#39;".utf8)
                case 0x09, 0x0A: out.append(c)
                case 0 ..< 0x20, 0x7F: out += Array("\u{FFFD}".utf8)
                default: out.append(c)
                }
            }
            return out
        }
        for length in [1, 7, 8, 9, 16, 17, 23] {
            for at in 0 ..< length {
                for value in 0 ... 255 {
                    var b = [UInt8](repeating: 0x61, count: length)
                    b[at] = UInt8(value)
                    var o = OutputBuffer(capacity: 16)
                    b.withUnsafeBytes { o.appendHTMLEscaped($0) }
                    XCTAssertEqual(o.bytes, slow(b), "\(b)")
                }
            }
        }
    }

    func testJSONEscapes() {
        XCTAssertEqual(jsonRaw([]), "\"\"")
        XCTAssertEqual(jsonRaw(Array("a\"b\\c/".utf8)), "\"a\\\"b\\\\c/\"")
        XCTAssertEqual(jsonRaw([0x08, 0x0C, 0x0A, 0x0D, 0x09, 0x00, 0x1B, 0x7F]),
                       "\"\\b\\f\\n\\r\\t\\u0000\\u001b\\u007f\"")
        XCTAssertEqual(jsonRaw([0xC2, 0x9B]), "\"\\u009b\"")
        XCTAssertEqual(jsonRaw(Array("\u{2028}\u{2029}".utf8)), "\"\\u2028\\u2029\"")
        XCTAssertEqual(jsonRaw([0xFF, 0x41]), "\"\u{FFFD}A\"")
        XCTAssertEqual(jsonRaw(Array("é€😀".utf8)), "\"é€😀\"")
        XCTAssertEqual(jsonDecoded([0xE2, 0x82, 0x41]), "\u{FFFD}\u{FFFD}A")
        XCTAssertEqual(jsonDecoded(Array("\u{1B}[2J".utf8)), "\u{1B}[2J")
    }

    /// Random bytes: JSON always parses and round-trips valid UTF-8; text never has controls.
    /// The bidirectional and invisible format characters: escaped by both policies.
    func testFormatCharactersAreEscaped() {
        for (scalar, hex) in [(0x200B, "200B"), (0x200F, "200F"), (0x2028, "2028"), (0x2029, "2029"), (0x202A, "202A"),
                              (0x202E, "202E"), (0x2066, "2066"), (0x2069, "2069"), (0xFEFF, "FEFF")] {
            let bytes = Array(String(Unicode.Scalar(UInt32(scalar))!).utf8)
            XCTAssertEqual(text(Array("a".utf8) + bytes + Array("b".utf8)), "a\\u{" + hex + "}b")
            XCTAssertEqual(jsonRaw(bytes), "\"\\u" + hex.lowercased() + "\"")
            XCTAssertEqual(jsonDecoded(bytes), String(Unicode.Scalar(UInt32(scalar))!))
        }
        // neighbours pass through
        for scalar: UInt32 in [0x200A, 0x2010, 0x2027, 0x202F, 0x2065, 0x206A, 0xFEFE, 0xFF00] {
            let s = String(Unicode.Scalar(scalar)!)
            XCTAssertEqual(text(Array(s.utf8)), s)
            XCTAssertEqual(jsonRaw(Array(s.utf8)), "\"" + s + "\"")
        }
    }

    /// The String wrappers apply the same policies.
    func testStringWrappers() {
        let hostile = "n\u{1B}[2J\r\u{07}\u{9B}\u{202E}x"
        XCTAssertEqual(Escape.text(hostile), "n\\x1B[2J\\r\\x07\\xC2\\x9B\\u{202E}x")
        XCTAssertEqual(Escape.json(hostile), "\"n\\u001b[2J\\r\\u0007\\u009b\\u202ex\"")
        XCTAssertEqual(Escape.text(bytes: [0x61, 0xFF]), "a\\xFF")
        XCTAssertEqual(Escape.text("a\"b", quote: true), "a\\\"b")
    }

    func testJSONValueIsValidForAnyString() throws {
        let hostile = "n\u{1B}[2J\r\u{07}\u{9B}\u{202E}\u{FFFD}\"\\"
        let doc = JSONValue.object([("name", .string(hostile)), ("n", .int(-3)), ("x", .double(0.5)),
                                    ("nan", .double(.nan)), ("list", .array([.null, .bool(true)])), (hostile, .object([]))])
        let rendered = doc.render()
        XCTAssertFalse(rendered.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || ($0.value >= 0x7F && $0.value < 0xA0) || $0.value == 0x202E })
        let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(rendered.utf8)) as? [String: Any])
        XCTAssertEqual(parsed["name"] as? String, hostile)
        XCTAssertEqual(parsed["n"] as? Int, -3)
        XCTAssertEqual(parsed["x"] as? Double, 0.5)
        XCTAssertTrue(parsed["nan"] is NSNull)
        XCTAssertNotNil(parsed[hostile])
    }

    func testFuzz() {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x00, 0x01, 0x0A, 0x1B, 0x22, 0x5C, 0x7F, 0x80, 0x9B, 0xBF, 0xC0, 0xC2, 0xDF,
                                 0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0x41, 0x2F, 0xA0, 0x8F, 0x90]
        for i in 0..<3000 {
            let n = Int.random(in: 0...40, using: &rng)
            let b: [UInt8] = (0..<n).map { _ in
                i % 2 == 0 ? alphabet.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
            }
            guard let decoded = jsonDecoded(b) else { return }
            if let valid = String(validating: b, as: UTF8.self) {
                XCTAssertEqual(decoded, valid)
            }
            let t = Array(text(b).utf8)
            XCTAssertFalse(t.contains { $0 < 0x20 || $0 == 0x7F }, "\(b)")
            let ts = String(validating: t, as: UTF8.self)
            XCTAssertNotNil(ts)
            XCTAssertFalse(ts!.unicodeScalars.contains { $0.value >= 0x80 && $0.value < 0xA0 })
        }
    }

    func testNumbers() {
        var o = OutputBuffer(capacity: 8)
        o.appendDecimal(UInt64(0)); o.append(" ")
        o.appendDecimal(UInt64.max); o.append(" ")
        o.appendDecimal(Int64.min); o.append(" ")
        o.appendDecimal(Int64(-1)); o.append(" ")
        o.appendDecimal(Int32(-100)); o.append(" ")
        o.appendHex(0); o.append(" ")
        o.appendHex(0x1_0000_0000); o.append(" ")
        o.appendHex(0xdeadbeef, prefix: false); o.append("|")
        o.appendDecimal(UInt64(42), width: 7); o.append("|")
        o.appendDecimal(UInt64(12_345_678), width: 7); o.append("|")
        o.appendZeroPadded(7, digits: 3)
        XCTAssertEqual(o.string, "0 18446744073709551615 -9223372036854775808 -1 -100 0x0 0x100000000 deadbeef|     42|12345678|007")
    }

    func testDecimalAgainstStdlib() {
        var values: [UInt64] = [0, 9, 10, 99, 100, 99_999, 100_000, 999_999, 1_000_000, 4_026_531_840,
                                UInt64(UInt32.max), UInt64(UInt32.max) + 1, 9_999_999_999, 10_000_000_000,
                                99_999_999_999, 100_000_000_000, UInt64.max, UInt64.max - 1]
        var p: UInt64 = 1
        for _ in 0..<19 { values += [p - 1, p, p + 1]; p *= 10 }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5000 {
            values.append(UInt64.random(in: 0...UInt64.max, using: &rng) >> UInt64.random(in: 0...63, using: &rng))
        }
        var o = OutputBuffer(capacity: 64)
        for v in values {
            o.removeAll()
            o.appendDecimal(v)
            XCTAssertEqual(o.string, String(v))
            o.removeAll()
            o.appendDecimal(Int64(bitPattern: v))
            XCTAssertEqual(o.string, String(Int64(bitPattern: v)))
            o.removeAll()
            o.appendHex(v)
            XCTAssertEqual(o.string, "0x" + String(v, radix: 16))
        }
    }

    func testPaddingAndGrowth() {
        var o = OutputBuffer(capacity: 1)
        let start = o.count
        o.append(bytes: UnsafeRawBufferPointer(start: nil, count: 0))
        o.append(Array("é€x".utf8))
        o.padColumns(since: start, width: 6)
        o.append("|")
        XCTAssertEqual(o.string, "é€x   |")
        for _ in 0..<10_000 { o.append("0123456789") }
        XCTAssertEqual(o.count, 10 + 100_000)
        XCTAssertGreaterThanOrEqual(o.capacity, o.count)
        o.removeAll()
        XCTAssertTrue(o.isEmpty)
        let cap = o.capacity
        o.append("x")
        XCTAssertEqual(o.capacity, cap)
    }

    func testFlushToPipe() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { close(fds[0]) }
        var o = OutputBuffer()
        o.append("hello\n")
        try o.flush(fd: fds[1])
        XCTAssertTrue(o.isEmpty)
        close(fds[1])
        var buf = [UInt8](repeating: 0, count: 64)
        let n = read(fds[0], &buf, 64)
        XCTAssertEqual(String(decoding: buf[0..<n], as: UTF8.self), "hello\n")
    }

    func testFlushBrokenPipe() {
        signal(SIGPIPE, SIG_IGN)
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        close(fds[0])
        defer { close(fds[1]) }
        var o = OutputBuffer()
        o.append("x")
        XCTAssertThrowsError(try o.flush(fd: fds[1])) { XCTAssertEqual($0 as? OutputError, .brokenPipe) }
        o.append("x")
        XCTAssertThrowsError(try o.flush(fd: -1)) { XCTAssertEqual($0 as? OutputError, .writeFailed(errno: EBADF)) }
    }

    /// A write larger than the pipe buffer completes through short writes.
    func testFlushLarge() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        var o = OutputBuffer()
        for _ in 0..<50_000 { o.append("0123456789") }
        let rfd = fds[0]
        let done = DispatchSemaphore(value: 0)
        let reader = Thread {
            var total = 0
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(rfd, &buf, 65536)
                if n <= 0 { break }
                total += n
            }
            XCTAssertEqual(total, 500_000)
            close(rfd)
            done.signal()
        }
        reader.start()
        try o.flush(fd: fds[1])
        close(fds[1])
        done.wait()
    }
}

private extension String {
    func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
