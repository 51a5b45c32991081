import NstraceABI
import XCTest
@testable import NstraceCore

/// The BPF side sends string events packed (NST_F_PACKED); RecordUnpacker restores the fixed
/// slots the decoder reads. Packed records are built here as bpf/nstrace.bpf.c builds them.
final class PackedRecordTests: XCTestCase {
    /// `fixture`'s record in the ring's packed form: header, then the strings back to back, then
    /// for a mount-family record nst_paths' head and its resolved paths back to back.
    func packed(_ fixture: Fixture, paths: [[UInt8]] = [[], []], pathFlags: UInt16 = 0) -> [UInt8] {
        let full = fixture.bytes
        var out = Array(full[0..<EventLayout.headerSize])
        for slot in 0..<EventLayout.stringSlots {
            let n = Int(full[EventLayout.strLen + 2 * slot]) | Int(full[EventLayout.strLen + 2 * slot + 1]) << 8
            let start = EventLayout.strings + slot * EventLayout.stringSlotSize
            out += full[start ..< start + n]
        }
        if fixture.type.hasPaths {
            for n in [paths[0].count, paths[1].count, Int(pathFlags), 0] { out += [UInt8(n & 0xff), UInt8(n >> 8)] }
            out += paths[0] + paths[1]
        }
        let size = UInt16(out.count)
        out[EventLayout.size] = UInt8(size & 0xff)
        out[EventLayout.size + 1] = UInt8(size >> 8)
        let flags = UInt32(out[EventLayout.flags]) | UInt32(out[EventLayout.flags + 1]) << 8 | NST_F_PACKED
        out[EventLayout.flags] = UInt8(flags & 0xff)
        out[EventLayout.flags + 1] = UInt8((flags >> 8) & 0xff)
        return out
    }

    func mountFixture() -> Fixture {
        var f = Fixture(.mount)
        f.setString(0, "tmpfs")
        f.setString(1, "/mnt/a b")
        f.setString(2, "tmpfs")
        f.setString(3, "size=1m")
        return f
    }

    func testPackedMountDecodesLikeTheFixedLayout() throws {
        let f = mountFixture()
        let ring = packed(f)
        XCTAssertEqual(ring.count, 256 + 5 + 8 + 5 + 7 + 8)
        let unpacker = RecordUnpacker()
        let text = try ring.withUnsafeBytes { raw -> String in
            let record = unpacker.unpack(raw)
            XCTAssertEqual(record.count, PathLayout.recordSize)
            let ev = try EventView(bytes: record)
            XCTAssertEqual(ev.header.flags & NST_F_PACKED, 0)
            XCTAssertEqual(Array(ev.string(1)), Array("/mnt/a b".utf8))
            XCTAssertEqual(Array(ev.string(3)), Array("size=1m".utf8))
            return String(decoding: ev.string(0), as: UTF8.self) + String(decoding: ev.string(2), as: UTF8.self)
        }
        XCTAssertEqual(text, "tmpfstmpfs")
        // the same JSON as the fixed record gives
        let got = try ring.withUnsafeBytes { raw in try Event(bytes: Array(unpacker.unpack(raw))) }
        XCTAssertEqual(got.json(), f.event.json())
        XCTAssertEqual(got.text(), f.event.text())
    }

    /// ABI 4: the paths BPF resolved (issue 8) travel packed after the strings and land in
    /// struct nst_paths, where ResolvedPath reads them.
    func testPackedResolvedPathsLandInTheirSlots() throws {
        var f = Fixture(.mount)
        f.setString(0, "/home")
        f.setString(1, "/proc/self/fd/6")
        let resolved = UInt16(NST_P_RESOLVED)
        let ring = packed(f, paths: [[], Array("/var/lib/c/rootfs/outside-home".utf8)],
                          pathFlags: resolved << 4 | UInt16(NST_P_TRUNC) << 4)
        XCTAssertEqual(ring.count, 256 + 5 + 15 + 8 + 30)
        let unpacker = RecordUnpacker()
        try ring.withUnsafeBytes { raw in
            let record = unpacker.unpack(raw)
            XCTAssertEqual(record.count, PathLayout.recordSize)
            let ev = try EventView(bytes: record)
            XCTAssertTrue(ev.hasPaths)
            XCTAssertNil(ResolvedPath.of(ev, PathArgument.of(.mount)[0]))
            let target = try XCTUnwrap(ResolvedPath.of(ev, PathArgument.of(.mount)[1]))
            XCTAssertEqual(target.path, Array("/var/lib/c/rootfs/outside-home".utf8))
            XCTAssertTrue(target.truncated)
            XCTAssertEqual(Array(ev.string(1)), Array("/proc/self/fd/6".utf8))
        }
        // a path length past its slot cannot be unpacked: left for the decoder
        var bad = ring
        bad[256 + 5 + 15 + 2] = 0x00
        bad[256 + 5 + 15 + 3] = 0x02
        bad.withUnsafeBytes { raw in XCTAssertEqual(unpacker.unpack(raw).count, raw.count) }
    }

    func testUnpackedAndEmptyRecordsPassThrough() {
        let unpacker = RecordUnpacker()
        var plain = Fixture(.unshare).bytes
        plain.withUnsafeMutableBytes { raw in
            let out = unpacker.unpack(UnsafeRawBufferPointer(raw))
            XCTAssertEqual(out.baseAddress, UnsafeRawPointer(raw.baseAddress))
        }
        let short: [UInt8] = [1, 2, 3]
        short.withUnsafeBytes { XCTAssertEqual(unpacker.unpack($0).count, 3) }
    }

    func testInconsistentPackedRecordIsLeftForTheDecoderToReject() {
        var ring = packed(mountFixture())
        ring.removeLast() // size says one byte more than there is
        let unpacker = RecordUnpacker()
        ring.withUnsafeBytes { raw in
            let out = unpacker.unpack(raw)
            XCTAssertEqual(out.count, raw.count)
            var threw = false
            do { _ = try EventView(bytes: out) } catch { threw = true }
            XCTAssertTrue(threw)
        }
        var long = packed(mountFixture())
        long[EventLayout.strLen] = 0xff // str_len[0] = 511+: cannot be packed
        long[EventLayout.strLen + 1] = 0x01
        long.withUnsafeBytes { raw in XCTAssertEqual(unpacker.unpack(raw).count, raw.count) }
    }
}
