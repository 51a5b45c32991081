import XCTest
@testable import NstraceCore

/// `traceCRC32` (folded with carry-less multiplication where the CPU has it) gives zlib's
/// CRC-32 for every length and alignment: compared with a plain bitwise CRC-32 written here.
final class TraceCRC32Tests: XCTestCase {
    /// CRC-32 (ISO-HDLC), one bit at a time: the definition, independent of zlib.
    private func reference(_ b: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in b {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    func testKnownValue() {
        let check = Array("123456789".utf8)
        check.withUnsafeBytes { XCTAssertEqual(traceCRC32($0.baseAddress!, $0.count), 0xCBF4_3926) }
        XCTAssertEqual(traceCRC32([]), 0)
    }

    func testEveryLengthAndAlignmentMatchesTheDefinition() {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<(1200 + 16)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        bytes.withUnsafeBytes { all in
            for offset in [0, 1, 3, 8, 15] {
                for n in 0...1200 {
                    let b = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + n)])
                    let got = n == 0 ? traceCRC32([]) : traceCRC32(b.baseAddress!, n)
                    XCTAssertEqual(got, reference(b), "length \(n) at offset \(offset)")
                }
            }
        }
        // a block's size, and all ones / all zeros (no lucky cancellation)
        for fill: UInt8 in [0x00, 0xFF] {
            let big = [UInt8](repeating: fill, count: 70_001)
            big.withUnsafeBytes { XCTAssertEqual(traceCRC32($0.baseAddress!, $0.count), reference($0)) }
        }
        let big = (0..<300_007).map { _ in UInt8.random(in: 0...255, using: &rng) }
        big.withUnsafeBytes { XCTAssertEqual(traceCRC32($0.baseAddress!, $0.count), reference($0)) }
    }
}
