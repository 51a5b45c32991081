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

    /// Whether `bytes` begins with `prefix`'s bytes, by memcmp (`starts(with: prefix.utf8)`
    /// goes a byte at a time through String.UTF8View's iterator).
    static func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ prefix: String) -> Bool {
        var p = prefix
        return p.withUTF8 { pb in
            pb.count == 0 || (bytes.count >= pb.count && memcmp(bytes.baseAddress!, pb.baseAddress!, pb.count) == 0)
        }
    }
}

extension UTF8Search {
    /// Whether `raw` starts with `prefix`'s bytes (memcmp: a generic `starts(with:)` over a
    /// buffer and a String's UTF-8 view goes a byte at a time through both).
    @inline(__always)
    static func hasPrefix(_ raw: UnsafeRawBufferPointer, _ prefix: [UInt8]) -> Bool {
        guard raw.count >= prefix.count else { return false }
        return prefix.isEmpty || prefix.withUnsafeBytes { memcmp(raw.baseAddress!, $0.baseAddress!, prefix.count) == 0 }
    }

    /// Whether `raw` ends with `suffix`'s bytes.
    @inline(__always)
    static func hasSuffix(_ raw: UnsafeRawBufferPointer, _ suffix: [UInt8]) -> Bool {
        guard raw.count >= suffix.count else { return false }
        return suffix.isEmpty
            || suffix.withUnsafeBytes { memcmp(raw.baseAddress! + (raw.count - suffix.count), $0.baseAddress!, suffix.count) == 0 }
    }
}

extension UTF8Search {
    /// `hasPrefix` for a literal: a StaticString's bytes need no global array (each use of
    /// one costs a lazy-init check, a retain and a release) nor a String's `withUTF8`. A bare
    /// literal argument picks the String overload: write `"…" as StaticString`.
    @inline(__always)
    static func hasPrefix(_ raw: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        prefix.withUTF8Buffer { p in
            raw.count >= p.count && (p.count == 0 || memcmp(raw.baseAddress!, p.baseAddress!, p.count) == 0)
        }
    }

    @inline(__always)
    static func hasSuffix(_ raw: UnsafeRawBufferPointer, _ suffix: StaticString) -> Bool {
        suffix.withUTF8Buffer { p in
            raw.count >= p.count && (p.count == 0 || memcmp(raw.baseAddress! + (raw.count - p.count), p.baseAddress!, p.count) == 0)
        }
    }
}
