#if canImport(Glibc)
import Glibc
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
