import NstraceABI

/// String events leave the kernel packed (NST_F_PACKED): their strings back to back after the
/// 256-byte header, and a mount-family record's resolved paths after them (nst_paths' 8-byte
/// head, then path[0] and path[1] back to back), so that a ring record is as long as its
/// content. The decoder and the trace file read the fixed layout (struct nst_strings, then
/// struct nst_paths); this puts a packed record's strings and paths into their slots, in one
/// buffer reused for every record: no allocation per event.
public final class RecordUnpacker {
    private let buffer: UnsafeMutableRawBufferPointer

    public init() {
        buffer = .allocate(byteCount: PathLayout.recordSize, alignment: 8)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit { buffer.deallocate() }

    /// The record as the decoder reads it: `record` itself when it is not packed (or too short
    /// or inconsistent to unpack: the decoder then says what is wrong with it), else the
    /// unpacked copy, valid until the next call.
    public func unpack(_ record: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard record.count >= EventLayout.headerSize else { return record }
        let flags = record.loadUnaligned(fromByteOffset: EventLayout.flags, as: UInt32.self)
        guard flags & UInt32(NST_F_PACKED) != 0 else { return record }
        let size = Int(record.loadUnaligned(fromByteOffset: EventLayout.size, as: UInt16.self))
        var lengths = (0, 0, 0, 0)
        var total = 0
        for slot in 0..<EventLayout.stringSlots {
            let n = Int(record.loadUnaligned(fromByteOffset: EventLayout.strLen + 2 * slot, as: UInt16.self))
            guard n < EventLayout.stringSlotSize else { return record }
            switch slot {
            case 0: lengths.0 = n
            case 1: lengths.1 = n
            case 2: lengths.2 = n
            default: lengths.3 = n
            }
            total += n
        }
        let type = record.loadUnaligned(fromByteOffset: EventLayout.type, as: UInt16.self)
        let hasPaths = nst_event_has_paths(type) != 0
        var pathLengths = (0, 0)
        if hasPaths {
            let head = EventLayout.headerSize + total
            guard head + 8 <= record.count else { return record }
            pathLengths.0 = Int(record.loadUnaligned(fromByteOffset: head, as: UInt16.self))
            pathLengths.1 = Int(record.loadUnaligned(fromByteOffset: head + 2, as: UInt16.self))
            guard pathLengths.0 < PathLayout.pathSize, pathLengths.1 < PathLayout.pathSize else { return record }
            total += 8 + pathLengths.0 + pathLengths.1
        }
        guard size == EventLayout.headerSize + total, size <= record.count else { return record }
        let dst = buffer.baseAddress!, src = record.baseAddress!
        dst.copyMemory(from: src, byteCount: EventLayout.headerSize)
        dst.storeBytes(of: flags & ~UInt32(NST_F_PACKED), toByteOffset: EventLayout.flags, as: UInt32.self)
        let fixedSize = hasPaths ? PathLayout.recordSize : EventLayout.recordSizeWithStrings
        dst.storeBytes(of: UInt16(fixedSize), toByteOffset: EventLayout.size, as: UInt16.self)
        var from = EventLayout.headerSize
        for (slot, n) in [lengths.0, lengths.1, lengths.2, lengths.3].enumerated() where n > 0 {
            (dst + EventLayout.strings + slot * EventLayout.stringSlotSize).copyMemory(from: src + from, byteCount: n)
            from += n
        }
        if hasPaths {
            // the trailer whole, as BPF's fixed record had it: no path bytes of an earlier record
            (dst + PathLayout.offset).initializeMemory(as: UInt8.self, repeating: 0, count: PathLayout.recordSize - PathLayout.offset)
            (dst + PathLayout.offset).copyMemory(from: src + from, byteCount: 8)
            from += 8
            for (index, n) in [pathLengths.0, pathLengths.1].enumerated() where n > 0 {
                (dst + PathLayout.paths + index * PathLayout.pathSize).copyMemory(from: src + from, byteCount: n)
                from += n
            }
        }
        return UnsafeRawBufferPointer(rebasing: buffer[0 ..< fixedSize])
    }
}
