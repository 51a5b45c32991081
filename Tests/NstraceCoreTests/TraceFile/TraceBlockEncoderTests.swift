import XCTest
@testable import NstraceCore

/// The block encoder from bytes alone: no file, no descriptor. What it returns, concatenated,
/// is a trace file the reader reads back to the same events, metadata and trailer.
final class TraceBlockEncoderTests: XCTestCase {
    /// Encodes `ops` as the file sink would (a block when the staging is full, at a flush and
    /// before metadata), and the trailer; returns the bytes and the trailer.
    private func encode(_ ops: [TF.Op], options: TraceWriteOptions) throws -> ([UInt8], TraceTrailer) {
        let encoder = try TraceBlockEncoder(options: options)
        var bytes = Array(try encoder.encodeFileStart(TF.header))
        var events: UInt64 = 0, metadata: UInt64 = 0
        var first = UInt64.max, last: UInt64 = 0
        func encodePending() throws {
            guard let block = try encoder.encodePendingEvents() else { return }
            XCTAssertGreaterThan(block.count, 0)
            first = min(first, block.firstTs)
            last = max(last, block.lastTs)
            bytes += block.bytes
        }
        for op in ops {
            switch op {
            case .event(let e):
                try e.withView { ev in
                    if !encoder.stage(ev) {
                        try encodePending()
                        XCTAssertTrue(encoder.stage(ev), "an empty block takes any record")
                    }
                }
                events += 1
            case .metadata(let m):
                try encodePending()
                bytes += try encoder.encodeMetadata(m)
                metadata += 1
            case .flush:
                try encodePending()
            }
        }
        try encodePending()
        XCTAssertEqual(encoder.pendingEvents, 0)
        let trailer = TraceTrailer(blocks: encoder.sequence, events: events, metadataRecords: metadata,
                                   lost: TraceLostCounts(ringbuf: 3, pending: 1), firstTsNs: first == .max ? 0 : first,
                                   lastTsNs: last, endBootNs: 2_000_000_000_000)
        bytes += try encoder.encodeTrailer(trailer)
        return (bytes, trailer)
    }

    func testRoundTripFromBytesAlone() throws {
        let ops = TF.script(events: TF.events(700))
        let variants: [TraceWriteOptions] = [
            TraceWriteOptions(blockBytes: 4096),
            TraceWriteOptions(compress: true, blockBytes: 4096),
            TraceWriteOptions(compress: true, compressionLevel: 9, blockBytes: 1 << 20),
            TraceWriteOptions(blockBytes: 4096, compactRecords: false),
        ]
        for options in variants {
            let (bytes, trailer) = try encode(ops, options: options)
            let (reader, items) = try TF.read(bytes)
            XCTAssertEqual(items, TF.expected(ops), "\(options)")
            XCTAssertEqual(reader.header, TF.header)
            XCTAssertEqual(reader.trailer, trailer)
            XCTAssertFalse(reader.wasCut)
            XCTAssertTrue(reader.warnings.isEmpty, "\(reader.warnings)")
            XCTAssertEqual(reader.blocksRead, Int(trailer.blocks) + 1, "every block, the trailer too")
        }
    }

    /// Events staged out of ts order come back sorted within their block (stable for equal
    /// times), or as staged when sorting is off.
    func testSortsWithinBlock() throws {
        let events = TF.events(40)
        let shuffled = Array(events[20...]) + Array(events[..<20])
        let ops = shuffled.map { TF.Op.event($0) }
        let sorted = try TF.read(try encode(ops, options: TraceWriteOptions(blockBytes: 1 << 20)).0).1
        XCTAssertEqual(sorted, events.map { .event($0) })
        let kept = try TF.read(try encode(ops, options: TraceWriteOptions(blockBytes: 1 << 20, sortWithinBlock: false)).0).1
        XCTAssertEqual(kept, shuffled.map { .event($0) })
    }

    /// The encoder is the file's format: the writer's file holds exactly its bytes (the
    /// trailer aside, which carries the writer's end time).
    func testWriterWritesTheEncodersBytes() throws {
        let ops = TF.script(events: TF.events(300))
        let options = TraceWriteOptions(compress: true, blockBytes: 4096)
        let (encoded, trailer) = try encode(ops, options: options)
        let written = try TF.write(ops, options: options)
        let blocks = TF.blocks(written)
        let trailerStart = blocks.last!.offset
        XCTAssertEqual(blocks.last!.type, TraceBlockType.trailer.rawValue)
        XCTAssertEqual(Array(written[..<trailerStart]), Array(encoded[..<trailerStart]))
        XCTAssertEqual(try TF.read(written).0.trailer?.blocks, trailer.blocks)
    }
}
