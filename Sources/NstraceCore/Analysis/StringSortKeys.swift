#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Strings to sort, compared as String's `<` and `==` compare them but without touching a
/// String where their bytes decide: their UTF-8 bytes back to back in one array, and for two
/// ASCII strings (String orders those by their bytes) a memcmp. Others are compared as
/// Strings (Unicode canonical equivalence: different bytes may be equal Strings). Issue 9:
/// sorting the 2,000 known containers of a trace by name compared Strings, retaining and
/// releasing them, some 650 instructions a comparison.
struct StringSortKeys {
    private let strings: [String]
    private let bytes: [UInt8]
    private let entries: [(start: Int, count: Int, ascii: Bool)]

    init(_ strings: [String]) {
        self.strings = strings
        var entries: [(start: Int, count: Int, ascii: Bool)] = []
        entries.reserveCapacity(strings.count)
        let total = strings.reduce(0) { $0 + $1.utf8.count }
        bytes = [UInt8](unsafeUninitializedCapacity: total) { buffer, filled in
            var at = 0
            for var s in strings {
                s.withUTF8 { u in
                    if u.count > 0 { (buffer.baseAddress! + at).initialize(from: u.baseAddress!, count: u.count) }
                    entries.append((at, u.count, !u.contains { $0 >= 0x80 }))
                    at += u.count
                }
            }
            filled = at
        }
        self.entries = entries
    }

    /// `body` given a comparison of key `i` with key `j`: negative, zero or positive as
    /// `strings[i]` is less than, equal to or greater than `strings[j]`.
    func withComparison<R>(_ body: ((Int, Int) -> Int) -> R) -> R {
        bytes.withUnsafeBufferPointer { b in
            entries.withUnsafeBufferPointer { e in
                body { i, j in
                    let x = e[i], y = e[j]
                    guard x.ascii && y.ascii else {
                        return strings[i] == strings[j] ? 0 : strings[i] < strings[j] ? -1 : 1
                    }
                    let common = min(x.count, y.count)
                    if common > 0 {
                        let c = memcmp(b.baseAddress! + x.start, b.baseAddress! + y.start, common)
                        if c != 0 { return Int(c) }
                    }
                    return x.count - y.count
                }
            }
        }
    }
}
