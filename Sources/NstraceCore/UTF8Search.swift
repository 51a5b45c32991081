#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Substring search on UTF-8 bytes. `String.contains(String)` goes through the string
/// processing library (Character work, a searcher per call): many times slower on the paths
/// and command lines every exec and mount is checked against.
extension String {
    /// Whether `needle`'s bytes occur in this string's bytes (an empty needle always does).
    func utf8Contains(_ needle: String) -> Bool {
        var h = self
        return h.withUTF8 { UTF8Search.contains(UnsafeRawBufferPointer($0), needle) }
    }
}

enum UTF8Search {
    /// Whether `needle`'s bytes occur in `haystack` (an empty needle always does).
    static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: String) -> Bool {
        var n = needle
        return n.withUTF8 { nb in
            let hb = haystack
            guard nb.count > 0 else { return true }
            guard hb.count >= nb.count else { return false }
            let first = nb[0], last = hb.count - nb.count
            var i = 0
            while i <= last {
                if hb[i] == first {
                    var j = 1
                    while j < nb.count && hb[i + j] == nb[j] { j += 1 }
                    if j == nb.count { return true }
                }
                i += 1
            }
            return false
        }
    }

    /// Whether `raw` starts with `prefix`'s bytes, by memcmp (a generic `starts(with:)` over a
    /// buffer and a String's UTF-8 view goes a byte at a time through both). The overloads
    /// below only hand their bytes over.
    @inline(__always)
    static func hasPrefix(_ raw: UnsafeRawBufferPointer, bytes prefix: UnsafeRawBufferPointer) -> Bool {
        raw.count >= prefix.count && (prefix.count == 0 || memcmp(raw.baseAddress!, prefix.baseAddress!, prefix.count) == 0)
    }

    /// Whether `raw` ends with `suffix`'s bytes.
    @inline(__always)
    static func hasSuffix(_ raw: UnsafeRawBufferPointer, bytes suffix: UnsafeRawBufferPointer) -> Bool {
        raw.count >= suffix.count
            && (suffix.count == 0 || memcmp(raw.baseAddress! + (raw.count - suffix.count), suffix.baseAddress!, suffix.count) == 0)
    }

    /// Whether `a` and `b` hold the same bytes (the one byte-equality of the byte compares
    /// here; the overloads below hand their bytes over).
    @inline(__always)
    static func equals(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && hasPrefix(a, bytes: b)
    }

    @inline(__always)
    static func equals(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Bool {
        b.withUnsafeBytes { equals(a, $0) }
    }

    @inline(__always)
    static func equals(_ a: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        s.withUTF8Buffer { equals(a, UnsafeRawBufferPointer($0)) }
    }

    /// `hasPrefix` for a String's bytes (a value known only at run time, such as a rootfs).
    static func hasPrefix(_ raw: UnsafeRawBufferPointer, string prefix: String) -> Bool {
        var p = prefix
        return p.withUTF8 { hasPrefix(raw, bytes: UnsafeRawBufferPointer($0)) }
    }

    @inline(__always)
    static func hasPrefix(_ raw: UnsafeRawBufferPointer, _ prefix: [UInt8]) -> Bool {
        prefix.withUnsafeBytes { hasPrefix(raw, bytes: $0) }
    }

    @inline(__always)
    static func hasSuffix(_ raw: UnsafeRawBufferPointer, _ suffix: [UInt8]) -> Bool {
        suffix.withUnsafeBytes { hasSuffix(raw, bytes: $0) }
    }

    /// For a literal: a StaticString's bytes need no global array (each use of one costs a
    /// lazy-init check, a retain and a release) nor a String's `withUTF8`.
    @inline(__always)
    static func hasPrefix(_ raw: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        prefix.withUTF8Buffer { hasPrefix(raw, bytes: UnsafeRawBufferPointer($0)) }
    }

    @inline(__always)
    static func hasSuffix(_ raw: UnsafeRawBufferPointer, _ suffix: StaticString) -> Bool {
        suffix.withUTF8Buffer { hasSuffix(raw, bytes: UnsafeRawBufferPointer($0)) }
    }
}
