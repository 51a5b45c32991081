import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import NstraceCore

/// Cut, damaged and hostile files: clean errors and warnings naming offsets, never a crash.
final class TraceFileRobustnessTests: XCTestCase {
    /// A small file of many blocks: header, metadata, events blocks of ≤ 4 KiB, trailer.
    private func smallFile(compress: Bool) throws -> (bytes: [UInt8], items: [TraceOwnedItem]) {
        let ops = TF.script(events: TF.events(compress ? 60 : 24), every: 6)
        return (try TF.write(ops, options: TraceWriteOptions(compress: compress, blockBytes: 4096)), TF.expected(ops))
    }

    // MARK: cut at every byte

    func testCutAtEveryOffsetPlain() throws { try cutEverywhere(compress: false) }
    func testCutAtEveryOffsetCompressed() throws { try cutEverywhere(compress: true) }

    private func cutEverywhere(compress: Bool) throws {
        let (full, items) = try smallFile(compress: compress)
        let blocks = TF.blocks(full)
        XCTAssertGreaterThan(blocks.count, 8, "a multi-block file")
        XCTAssertEqual(blocks.last?.end, full.count)
        let headerEnd = blocks[0].end
        for length in 0...full.count {
            let cut = Array(full[0..<length])
            let opened: Result<TraceFileReader, TraceFileError>
            do { opened = .success(try TraceFileReader(bytes: cut)) } catch { opened = .failure(error) }
            let reader: TraceFileReader
            switch opened {
            case .success(let r):
                reader = r
            case .failure(let e):
                switch length {
                case 0: XCTAssertEqual(e, .empty)
                case 1..<16: XCTAssertEqual(e, .truncated(offset: 0, length: length, what: "16-byte preamble"))
                case 16..<headerEnd: XCTAssertEqual(e, .truncated(offset: 16, length: length, what: "header block"))
                default: XCTFail("cut at \(length): \(e)")
                }
                XCTAssertFalse(e.description.contains("\n"))
                continue
            }
            XCTAssertGreaterThanOrEqual(length, headerEnd)
            let got = try reader.readAll()
            let complete = blocks.filter { $0.end <= length }
            let n = complete.reduce(0) { $0 + $1.items }
            XCTAssertEqual(got, Array(items.prefix(n)), "cut at \(length)")
            if length == full.count {
                XCTAssertFalse(reader.wasCut)
                XCTAssertNotNil(reader.trailer)
                XCTAssertEqual(reader.warnings, [])
            } else {
                XCTAssertTrue(reader.wasCut, "cut at \(length)")
                XCTAssertNil(reader.trailer)
                XCTAssertEqual(reader.cutOffset, complete.last!.end, "cut at \(length)")
                XCTAssertEqual(reader.warnings.count, 1, "cut at \(length)")
                let w = reader.warnings[0]
                XCTAssertEqual(w.kind, .cut)
                XCTAssertEqual(w.offset, complete.last!.end)
                XCTAssertTrue(w.description.contains("offset \(complete.last!.end)"), w.description)
            }
        }
    }

    // MARK: damaged bytes

    func testEveryFlippedBitIsAnErrorNamingItsBlock() throws {
        for compress in [false, true] {
            let (full, items) = try smallFile(compress: compress)
            let blocks = TF.blocks(full)
            for i in 0..<full.count {
                var b = full
                b[i] ^= UInt8(1) << UInt8(i % 8)
                let owner = i < 16 ? 0 : blocks.first { $0.offset <= i && i < $0.end }!.offset
                do {
                    _ = try TF.read(b)
                    XCTFail("flip at \(i) not detected")
                } catch let e as TraceFileError {
                    XCTAssertEqual(e.offset, owner, "flip at \(i): \(e)")
                    switch e {
                    case .checksumMismatch, .badBlockHeader, .notTraceFile: break
                    default: XCTFail("flip at \(i): \(e)")
                    }
                }
                // with .skip, everything outside the damaged block is still read
                guard i >= blocks[0].end, i % 5 == 0 else { continue }
                let block = blocks.first { $0.offset == owner }!
                let r = try TraceFileReader(bytes: b, options: TraceReadOptions(onCorruption: .skip))
                let got = try r.readAll()
                let before = blocks.filter { $0.end <= block.offset }.reduce(0) { $0 + $1.items }
                var expected = Array(items.prefix(before))
                expected += items.dropFirst(before + block.items)
                XCTAssertEqual(got, expected, "flip at \(i), skip")
                XCTAssertEqual(r.blocksSkipped, 1, "flip at \(i)")
                XCTAssertTrue(r.warnings.contains { $0.kind == .skipped && $0.offset == owner }, "flip at \(i): \(r.warnings)")
                XCTAssertEqual(r.trailer == nil, block.type == TraceBlockType.trailer.rawValue, "flip at \(i)")
            }
        }
    }

    func testChecksumErrorMessage() throws {
        let (full, _) = try smallFile(compress: false)
        let blocks = TF.blocks(full)
        let target = blocks[3]
        var b = full
        b[target.offset + 100] ^= 0x10
        XCTAssertThrowsError(try TF.read(b)) { e in
            let s = "\(e)"
            XCTAssertTrue(s.hasPrefix("\(TraceBlockType.name(target.type)) block at offset \(target.offset) is damaged (checksum 0x"), s)
        }
    }

    // MARK: hostile files

    func testEmptyFile() {
        XCTAssertThrowsError(try TraceFileReader(bytes: [])) {
            XCTAssertEqual($0 as? TraceFileError, .empty)
            XCTAssertEqual("\($0)", "empty file (0 bytes): not an nstrace trace file")
        }
    }

    func testForeignFiles() {
        let cases: [([UInt8], String)] = [
            ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52], "a PNG image"),
            ([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 56), "an ELF executable or object"),
            ([0x1F, 0x8B, 8, 0, 0, 0, 0, 0], "gzip data: decompress it first"),
            (Array("{\"time\":\"2026-11-29T07:40:01Z\",\"event\":\"mount\"}\n".utf8), "JSON text: `nstrace show` reads files written by `nstrace record -w`"),
            (Array("hello\n".utf8), "text"),
            ([0x89, 0x4E, 0x53, 0x54, 0x52, 0x0D, 0x0A, 0x0A, 0, 0, 0, 0, 0, 0, 0, 0], "a damaged nstrace file (its magic number is altered)"),
        ]
        for (bytes, what) in cases {
            XCTAssertThrowsError(try TraceFileReader(bytes: bytes)) {
                guard case .notTraceFile(let leading, let detected)? = $0 as? TraceFileError else { return XCTFail("\($0)") }
                XCTAssertEqual(leading, Array(bytes.prefix(8)))
                XCTAssertEqual(detected, what)
                XCTAssertTrue("\($0)".hasPrefix("not an nstrace trace file: offset 0 holds "), "\($0)")
            }
        }
        var rng = SplitMix(42)
        for _ in 0..<200 {
            var b = (0..<(1 + rng.below(300))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if b[0] == 0x89 { b[0] = 0 }
            XCTAssertThrowsError(try TraceFileReader(bytes: b)) {
                guard case .notTraceFile? = $0 as? TraceFileError else { return XCTFail("\($0)") }
            }
        }
    }

    func testNewerAndOlderFormatVersions() {
        XCTAssertThrowsError(try TraceFileReader(bytes: TF.preamble(major: 2, minor: 3) + [UInt8](repeating: 0xEE, count: 100))) {
            XCTAssertEqual($0 as? TraceFileError, .unsupportedVersion(major: 2, minor: 3))
            XCTAssertEqual("\($0)", "trace file format 2.3 (offset 8) is newer than this nstrace reads (1.x): upgrade nstrace")
            XCTAssertEqual(($0 as? TraceFileError)?.offset, 8)
        }
        XCTAssertThrowsError(try TraceFileReader(bytes: TF.preamble(major: 0, minor: 0))) {
            XCTAssertEqual($0 as? TraceFileError, .unsupportedVersion(major: 0, minor: 0))
        }
        // a newer minor version reads (it only adds things)
        var b = try! TF.write(TF.script(events: TF.events(10)))
        b.replaceSubrange(0..<16, with: TF.preamble(major: 1, minor: 9))
        let r = try? TF.read(b)
        XCTAssertEqual(r?.0.header.formatMinor, 9)
        XCTAssertNotNil(r?.0.trailer)
    }

    func testUnknownBlockTypesAreSkipped() throws {
        let (full, items) = try smallFile(compress: false)
        let blocks = TF.blocks(full)
        // a block of a future type after the header block
        var extra = [UInt8](repeating: 0, count: 48) + Array("future".utf8)
        extra.withUnsafeMutableBytes { p in
            BlockHeader(type: 99, flags: 0, storedLength: 6, rawLength: 6, count: 1, sequence: 1, firstTs: 0, lastTs: 0,
                        payloadCRC: traceCRC32(p.baseAddress! + 48, 6)).store(at: p.baseAddress!)
        }
        var b = Array(full[0..<blocks[0].end]) + extra
        // renumber the following blocks
        var rest = Array(full[blocks[0].end...])
        var o = 0
        var seq: UInt32 = 2
        while o < rest.count {
            let len = rest.withUnsafeBytes { Int(le32($0.baseAddress! + o, 8)) }
            rest.withUnsafeMutableBytes { put32($0.baseAddress! + o, 20, seq) }
            TF.reseal(&rest, blockAt: o)
            o += 48 + len
            seq += 1
        }
        b += rest
        let r = try TraceFileReader(bytes: b)
        XCTAssertEqual(try r.readAll(), items)
        XCTAssertEqual(r.unknownBlocks, 1)
        // the trailer counted one block fewer
        XCTAssertEqual(r.warnings.map(\.kind), [.inconsistent])
    }

    /// The file up to and including its header block, plus one block header `h` (sealed) and
    /// `payload`.
    private func fileWith(_ h: BlockHeader, payload: [UInt8], sealPayload: Bool = true) throws -> [UInt8] {
        let full = try TF.write([])
        let start = TF.blocks(full)[0].end
        var blk = [UInt8](repeating: 0, count: 48) + payload
        blk.withUnsafeMutableBytes { p in
            var hh = h
            if sealPayload { hh.payloadCRC = traceCRC32(p.baseAddress! + 48, payload.count) }
            hh.store(at: p.baseAddress!)
        }
        return Array(full[0..<start]) + blk
    }

    func testHugeLengthFields() throws {
        for (stored, raw) in [(Int(UInt32.max), Int(UInt32.max)), (TraceFormat.maxBlockPayload + 1, 100), (100, TraceFormat.maxBlockPayload + 1)] {
            let h = BlockHeader(type: 2, flags: 1, storedLength: stored, rawLength: raw, count: 1, sequence: 1, firstTs: 0, lastTs: 0, payloadCRC: 0)
            let b = try fileWith(h, payload: [1, 2, 3], sealPayload: false)
            let offset = TF.blocks(try TF.write([]))[0].end
            XCTAssertThrowsError(try TF.read(b)) {
                guard case .malformedBlock(let o, let type, let detail)? = $0 as? TraceFileError else { return XCTFail("\($0)") }
                XCTAssertEqual(o, offset)
                XCTAssertEqual(type, "EVENTS")
                XCTAssertTrue(detail.contains("above the 16777216-byte limit"), detail)
            }
            let r = try TraceFileReader(bytes: b, options: TraceReadOptions(onCorruption: .skip))
            XCTAssertEqual(try r.readAll(), [])
            XCTAssertTrue(r.wasCut)
        }
        // the same in the header block: nothing to read
        var b = TF.preamble(major: 1, minor: 0) + [UInt8](repeating: 0, count: 48)
        b.withUnsafeMutableBytes { p in
            BlockHeader(type: 1, flags: 0, storedLength: Int(UInt32.max), rawLength: Int(UInt32.max), count: 1, sequence: 0,
                        firstTs: 0, lastTs: 0, payloadCRC: 0).store(at: p.baseAddress! + 16)
        }
        XCTAssertThrowsError(try TraceFileReader(bytes: b)) {
            guard case .malformedBlock(16, "HEADER", _)? = $0 as? TraceFileError else { return XCTFail("\($0)") }
        }
    }

    func testPlausibleLengthButFileEnds() throws {
        let h = BlockHeader(type: 2, flags: 0, storedLength: 10 << 20, rawLength: 10 << 20, count: 1000, sequence: 1, firstTs: 0, lastTs: 0, payloadCRC: 0)
        let b = try fileWith(h, payload: [UInt8](repeating: 0, count: 5000), sealPayload: false)
        let offset = TF.blocks(try TF.write([]))[0].end
        let r = try TraceFileReader(bytes: b)
        XCTAssertEqual(try r.readAll(), [])
        XCTAssertTrue(r.wasCut)
        XCTAssertEqual(r.cutOffset, offset)
        XCTAssertTrue(r.warnings[0].description.contains("inside the EVENTS block at offset \(offset) (5048 of 10485808 bytes)"), r.warnings[0].description)
    }

    func testMalformedBlocksWithValidChecksums() throws {
        let ev = Fixture(.unshare).bytes
        func events(_ entries: [[UInt8]], count: UInt32? = nil, flags: UInt16 = 0) throws -> [UInt8] {
            let payload = entries.flatMap { $0 }
            return try fileWith(BlockHeader(type: 2, flags: flags, storedLength: payload.count, rawLength: payload.count,
                                            count: count ?? UInt32(entries.count), sequence: 1, firstTs: 0, lastTs: 0, payloadCRC: 0),
                                payload: payload)
        }
        func entry(_ record: [UInt8], length: Int? = nil, encoding: UInt8 = 0) -> [UInt8] {
            let n = length ?? record.count
            return [UInt8(n & 0xFF), UInt8(n >> 8), encoding, 0] + record
        }
        var badType = ev
        badType[EventLayout.type] = 99
        var badSize = ev
        badSize[EventLayout.size] = 0
        badSize[EventLayout.size + 1] = 0
        var mount = Fixture(.mount)
        mount.setString(0, "abc")
        let mountBytes = mount.bytes
        /// The compact form of the first record of a block: every non-zero header word.
        func compact(_ record: [UInt8], strings: [UInt8]) -> [UInt8] {
            var mask: UInt32 = 0
            var words: [UInt8] = []
            for k in 0..<32 where record[(8 * k)..<(8 * k + 8)].contains(where: { $0 != 0 }) {
                mask |= 1 << UInt32(k)
                words += record[(8 * k)..<(8 * k + 8)]
            }
            return withUnsafeBytes(of: mask.littleEndian) { Array($0) } + words + strings
        }
        let compactMount = compact(mountBytes, strings: Array("abc".utf8))
        var lie = mountBytes
        lie[EventLayout.strLen] = 200
        let compactLie = compact(lie, strings: Array("abc".utf8))
        let cases: [([UInt8], String)] = [
            (try events([entry(badType)]), "nst_event.type (byte 220) is 99"),
            (try events([entry(badSize)]), "nst_event.size (byte 222) is 0"),
            (try events([entry(ev, length: 300)]), "runs past the block"),
            (try events([entry(ev), entry(ev)], count: 1), "more than the 1 events the block header says"),
            (try events([entry(ev)], count: 2), "1 events, the block header says 2"),
            (try events([entry(ev)], count: 40), "40 events cannot fit in 260 bytes"),
            (try events([entry(ev, encoding: 7)]), "unknown record encoding 7"),
            (try events([entry([0xFF, 0xFF, 0xFF, 0xFF] + Array(ev[0..<252]), encoding: 1)]), "32 header words do not fit in 256 bytes"),
            (try events([entry(compact(badType, strings: []), encoding: 1), entry(ev)]), "nst_event.type (byte 220) is 99"),
            (try events([entry(compactLie, encoding: 1), entry(ev)]), "bytes stored, its lengths say"),
            (try events([entry(ev)], flags: 0x80), "unknown flags 0x80"),
            (try events([entry(ev)], flags: 1), "zlib"),
            (try fileWith(BlockHeader(type: 3, flags: 0, storedLength: 4, rawLength: 4, count: 1, sequence: 1, firstTs: 0, lastTs: 0, payloadCRC: 0),
                          payload: [2, 0, 0x41, 0x42]), "kind missing"),
            (try fileWith(BlockHeader(type: 4, flags: 0, storedLength: 4, rawLength: 4, count: 1, sequence: 1, firstTs: 0, lastTs: 0, payloadCRC: 0),
                          payload: [64, 0, 0, 0]), "trailer length"),
        ]
        for (b, message) in cases {
            XCTAssertThrowsError(try TF.read(b), message) {
                XCTAssertTrue("\($0)".contains(message), "\($0) — expected: \(message)")
                XCTAssertNotNil(($0 as? TraceFileError)?.offset)
            }
            let r = try TraceFileReader(bytes: b, options: TraceReadOptions(onCorruption: .skip))
            XCTAssertEqual(try r.readAll(), [], message)
            XCTAssertEqual(r.blocksSkipped, 1, message)
        }
        // and the good compact record reads back as the full record
        let good = try events([entry(compactMount, encoding: 1)])
        XCTAssertEqual(try TF.read(good).1, [.event(try Event(bytes: mountBytes))])
    }

    func testZlibBombAndGarbage() throws {
        // 1 MiB of zeros compresses to ~1 KiB; the header says 1000 bytes
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var z = [UInt8](repeating: 0, count: 4096)
        let d = try Deflater(level: 9)
        let n = try zeros.withUnsafeBytes { src in
            try z.withUnsafeMutableBytes { dst in try d.compress(src.baseAddress!, src.count, into: dst.baseAddress!, capacity: dst.count) }
        }
        z = Array(z[0..<n])
        let bomb = try fileWith(BlockHeader(type: 2, flags: 1, storedLength: n, rawLength: 1000, count: 1, sequence: 1,
                                            firstTs: 0, lastTs: 0, payloadCRC: 0), payload: z)
        XCTAssertThrowsError(try TF.read(bomb)) {
            XCTAssertTrue("\($0)".contains("decompresses to more than the 1000 bytes"), "\($0)")
        }
        let short = try fileWith(BlockHeader(type: 2, flags: 1, storedLength: n, rawLength: 2 << 20, count: 1, sequence: 1,
                                             firstTs: 0, lastTs: 0, payloadCRC: 0), payload: z)
        XCTAssertThrowsError(try TF.read(short)) {
            XCTAssertTrue("\($0)".contains("decompresses to 1048576 bytes, the header says 2097152"), "\($0)")
        }
    }

    /// Found by libFuzzer: a compressed block whose stated length is 0 (header block, then
    /// any other block).
    func testCompressedBlockOfLengthZero() throws {
        var b = TF.preamble(major: 1, minor: 0) + [UInt8](repeating: 0, count: 48) + [0x03, 0x00]
        b.withUnsafeMutableBytes { p in
            BlockHeader(type: 1, flags: 1, storedLength: 2, rawLength: 0, count: 1, sequence: 0, firstTs: 0, lastTs: 0,
                        payloadCRC: traceCRC32(p.baseAddress! + 64, 2)).store(at: p.baseAddress! + 16)
        }
        XCTAssertThrowsError(try TraceFileReader(bytes: b)) {
            guard case .malformedBlock(16, "HEADER", _)? = $0 as? TraceFileError else { return XCTFail("\($0)") }
        }
        for type: UInt16 in [2, 3, 4, 9] {
            let f = try fileWith(BlockHeader(type: type, flags: 1, storedLength: 2, rawLength: 0, count: 1, sequence: 1,
                                             firstTs: 0, lastTs: 0, payloadCRC: 0), payload: [0x03, 0x00])
            let r = try TraceFileReader(bytes: f, options: TraceReadOptions(onCorruption: .skip))
            XCTAssertEqual(try r.readAll(), [])
        }
    }

    func testABIMismatchIsNamed() throws {
        var b = try TF.write(TF.script(events: TF.events(3)))
        // header payload at 16 + 48: abi_version is its bytes 2..3
        b[16 + 48 + 2] = 0x63
        TF.reseal(&b, blockAt: 16)
        XCTAssertThrowsError(try TraceFileReader(bytes: b)) {
            guard case .unsupportedABI(16, let detail)? = $0 as? TraceFileError else { return XCTFail("\($0)") }
            XCTAssertTrue(detail.hasPrefix("records are ABI version 99"), detail)
        }
    }

    func testDataAfterTrailerIsAWarning() throws {
        let (full, items) = try smallFile(compress: false)
        let r = try TraceFileReader(bytes: full + [1, 2, 3])
        XCTAssertEqual(try r.readAll(), items)
        XCTAssertNotNil(r.trailer)
        XCTAssertEqual(r.warnings.map(\.kind), [.inconsistent])
        XCTAssertTrue(r.warnings[0].description.contains("after the trailer at offset \(full.count)"))
    }

    // MARK: fuzz

    /// Mutated files — flipped bytes, cuts, insertions, duplicated blocks, and structural edits
    /// with both checksums recomputed so the deeper checks run — never crash the reader, and
    /// every event it passes on is a valid record.
    func testSeededFuzz() throws {
        let seeds: [[UInt8]] = [try smallFile(compress: false).bytes, try smallFile(compress: true).bytes]
        var rng = SplitMix(0x5EED)
        var outcomes = [String: Int]()
        for iteration in 0..<3000 {
            var b = seeds[iteration % 2]
            let blocks = TF.blocks(b)
            for _ in 0..<(1 + rng.below(3)) {
                guard !b.isEmpty else { break }
                switch rng.below(8) {
                case 0:
                    b[rng.below(b.count)] = UInt8(truncatingIfNeeded: rng.next())
                case 1:
                    b.removeLast(rng.below(b.count))
                case 2:
                    let at = rng.below(b.count)
                    b.insert(contentsOf: (0..<(1 + rng.below(64))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
                case 3:
                    let blk = blocks[rng.below(blocks.count)]
                    if blk.end <= b.count { b.insert(contentsOf: b[blk.offset..<blk.end], at: min(blk.end, b.count)) }
                default:
                    // structural: change a header field or payload byte, then reseal
                    let blk = blocks[rng.below(blocks.count)]
                    guard blk.end <= b.count else { break }
                    let field = [4, 6, 8, 12, 16, 20, 48 + rng.below(max(blk.end - blk.offset - 48, 1))][rng.below(7)]
                    let at = blk.offset + field
                    guard at + 4 <= b.count else { break }
                    let values: [UInt32] = [0, 1, 2, 3, 4, 0xFFFF, 0x1_0000, UInt32(TraceFormat.maxBlockPayload), 0xFFFF_FFFF,
                                            UInt32(truncatingIfNeeded: rng.next())]
                    let v = values[rng.below(values.count)]
                    b.withUnsafeMutableBytes {
                        if field >= 48 || field == 4 || field == 6 { $0[at] = UInt8(truncatingIfNeeded: v) } else { put32($0.baseAddress!, at, v) }
                    }
                    TF.reseal(&b, blockAt: blk.offset)
                }
            }
            for policy in [TraceReadOptions.CorruptionPolicy.stop, .skip] {
                for decode in [true, false] {
                    do {
                        let r = try TraceFileReader(bytes: b, options: TraceReadOptions(onCorruption: policy, decodeEvents: decode))
                        try r.forEach { item in
                            if case .event(let v) = item {
                                XCTAssertNoThrow(try Event(bytes: Array(v.bytes)))
                            }
                        }
                        outcomes[r.wasCut ? "cut" : "complete", default: 0] += 1
                    } catch let e as TraceFileError {
                        XCTAssertFalse(e.description.isEmpty)
                        XCTAssertFalse(e.description.contains("\n"))
                        outcomes["\(e)".split(separator: ":")[0].prefix(30).description, default: 0] += 1
                    }
                }
            }
        }
        XCTAssertGreaterThan(outcomes["complete"] ?? 0, 100)
        XCTAssertGreaterThan(outcomes["cut"] ?? 0, 100)
    }
}
