/// A start's mounts counted by kind (`MountBits.kind`) without a String or a dictionary per
/// mount (issue 9: making the kind's String and hashing it into a `[String: Int]` was a
/// good part of the builder's time per event). A start has a handful of kinds (bind,
/// remount, proc, tmpfs …): a short list searched by bytes is cheaper than hashing.
struct MountKindCounts {
    /// The kinds' bytes (text-escaped, as stored) back to back, in order of first sight, and
    /// each kind's place in them and count: no array per kind (reading one retained it).
    private var bytes: [UInt8] = []
    private var kinds: [(start: Int, length: Int, count: Int)] = []
    /// The list's index of the last kind counted: runs of the same kind are common.
    private var last = 0

    mutating func add(_ kind: UnsafeRawBufferPointer) {
        if last < kinds.count, matches(last, kind) {
            kinds[last].count += 1
            return
        }
        for i in kinds.indices where matches(i, kind) {
            kinds[i].count += 1
            last = i
            return
        }
        last = kinds.count
        kinds.append((bytes.count, kind.count, 1))
        bytes.append(contentsOf: kind)
    }

    /// Kind `i`'s bytes, valid only inside `body`.
    private func withKind<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let k = kinds[i]
        return bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[k.start ..< k.start + k.length])) }
    }

    /// By memcmp (`elementsEqual` went a byte at a time, on every mount).
    private func matches(_ i: Int, _ kind: UnsafeRawBufferPointer) -> Bool {
        kinds[i].length == kind.count && withKind(i) { UTF8Search.equals($0, kind) }
    }

    mutating func add(_ kind: StaticString) {
        kind.withUTF8Buffer { add(UnsafeRawBufferPointer($0)) }
    }

    /// The counts by kind name, made once per start for the report.
    /// (Sized once, and each kind is in the list once: no regrowth, one write per kind.)
    var byKind: [String: Int] {
        var out = [String: Int](minimumCapacity: kinds.count)
        for i in kinds.indices { out[withKind(i) { String(decoding: $0, as: UTF8.self) }] = kinds[i].count }
        return out
    }
}
