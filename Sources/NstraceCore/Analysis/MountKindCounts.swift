/// A start's mounts counted by kind (`MountBits.kind`) without a String or a dictionary per
/// mount (issue 9: making the kind's String and hashing it into a `[String: Int]` was a
/// good part of the builder's time per event). A start has a handful of kinds (bind,
/// remount, proc, tmpfs …): a short list searched by bytes is cheaper than hashing.
struct MountKindCounts {
    /// Each kind's bytes (text-escaped, as stored) and its count, in order of first sight.
    private var kinds: [(kind: [UInt8], count: Int)] = []
    /// The list's index of the last kind counted: runs of the same kind are common.
    private var last = 0

    mutating func add(_ kind: UnsafeRawBufferPointer) {
        if last < kinds.count, Self.same(kinds[last].kind, kind) {
            kinds[last].count += 1
            return
        }
        for i in kinds.indices where Self.same(kinds[i].kind, kind) {
            kinds[i].count += 1
            last = i
            return
        }
        last = kinds.count
        kinds.append((Array(kind), 1))
    }

    mutating func add(_ kind: StaticString) {
        kind.withUTF8Buffer { add(UnsafeRawBufferPointer($0)) }
    }

    /// The counts by kind name, made once per start for the report.
    /// (Sized once, and each kind is in the list once: no regrowth, one write per kind.)
    var byKind: [String: Int] {
        var out = [String: Int](minimumCapacity: kinds.count)
        for (kind, count) in kinds { out[String(decoding: kind, as: UTF8.self)] = count }
        return out
    }

    /// By memcmp (`elementsEqual` went a byte at a time, on every mount).
    private static func same(_ a: [UInt8], _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && a.withUnsafeBytes { UTF8Search.hasPrefix($0, bytes: b) }
    }
}
