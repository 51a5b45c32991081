/// The detail line of a stored event, formatted when a report shows it (issue 9: formatting
/// every kept event's line as it was read, to show a few of them in the text report, was a
/// good part of `analyze`'s time on container starts).
///
/// A stored event keeps its raw record compactly: the 256-byte header, then each string
/// slot's bytes back to back (`store`). To format it, the record is laid out again as the
/// decoder reads it (strings in their fixed slots) in a report's scratch memory, and
/// given to the same `TextFormatter.appendDetail` that `show` uses: one formatter, the same
/// line byte for byte.
enum StoredEventDetail {
    /// Shared by every thread: `appendDetail` only reads it (no colour; the path scope that
    /// `append` sets is never set on this one), and a formatter made per line would cost an
    /// allocation each.
    nonisolated(unsafe) private static let formatter = TextFormatter(color: false, clock: WallClock(bootToRealtimeNs: 0, utcOffsetSeconds: 0))

    /// Appends `ev`'s record to `arena` in the compact form: header, then the strings.
    static func store(_ ev: EventView, into arena: inout EventArena) -> ByteSpan {
        let header = UnsafeRawBufferPointer(rebasing: ev.bytes[0 ..< EventLayout.headerSize])
        guard ev.type.hasStrings else { return arena.append(header) }
        // one reservation for the whole record (an append per part cost as much again)
        var count = EventLayout.headerSize
        for slot in 0 ..< EventLayout.stringSlots { count += ev.stringLength(slot) }
        return arena.append(count: count) { to in
            to.copyMemory(from: header.baseAddress!, byteCount: header.count)
            var at = header.count
            for slot in 0 ..< EventLayout.stringSlots {
                let s = ev.string(slot)
                if s.count > 0 { (to + at).copyMemory(from: s.baseAddress!, byteCount: s.count) }
                at += s.count
            }
        }
    }

    /// Where string slot `slot`'s bytes lie in the record `store` appends for `ev` (a record
    /// with strings), from its start: the lengths `store` counted.
    static func stringOffset(_ ev: EventView, slot: Int) -> Int {
        var offset = EventLayout.headerSize
        for s in 0 ..< slot { offset += ev.stringLength(s) }
        return offset
    }

    /// Memory to lay records out in, made once per report (a temporary allocation of a
    /// record's 2,304 bytes is too large for the stack: it was a malloc and a free per line,
    /// a fifth of the line's cost in the HTML report, which formats every event's). One
    /// report's own: not shared between threads.
    final class Scratch {
        let record = UnsafeMutableRawPointer.allocate(byteCount: EventLayout.recordSizeWithStrings, alignment: 8)
        deinit { record.deallocate() }
    }

    /// Appends the detail line of the record `span` holds in `arena` (made by `store`). The
    /// record is laid out again in `scratch`; only the bytes the line reads are written: the
    /// header and each string up to its length.
    static func append(_ span: ByteSpan, in arena: EventArena, into out: inout OutputBuffer, scratch: Scratch) {
        arena.withBytes(span) { record in
            let dst = scratch.record
            dst.copyMemory(from: record.baseAddress!, byteCount: EventLayout.headerSize)
            let type = EventType(rawValue: record.loadUnaligned(fromByteOffset: EventLayout.type, as: UInt16.self))!
            let size = type.hasStrings ? EventLayout.recordSizeWithStrings : EventLayout.headerSize
            // the fixed layout's size (a record read from a file carried its resolved paths
            // too: the detail line does not show them)
            dst.storeBytes(of: UInt16(size), toByteOffset: EventLayout.size, as: UInt16.self)
            if type.hasStrings {
                var from = EventLayout.headerSize
                for slot in 0 ..< EventLayout.stringSlots {
                    let n = Int(record.loadUnaligned(fromByteOffset: EventLayout.strLen + 2 * slot, as: UInt16.self))
                    (dst + EventLayout.strings + slot * EventLayout.stringSlotSize).copyMemory(from: record.baseAddress! + from, byteCount: n)
                    from += n
                }
            }
            formatter.appendDetail(EventView(validated: UnsafeRawBufferPointer(start: dst, count: size)), into: &out)
        }
    }

    /// The detail line of `e` as a String (made only for a report that shows it).
    static func string(_ e: StoredEvent, in arena: EventArena) -> String {
        guard !e.record.isAbsent else { return arena.string(e.detailText) ?? "" }
        var out = OutputBuffer(capacity: 512)
        append(e.record, in: arena, into: &out, scratch: Scratch())
        return out.string
    }
}
