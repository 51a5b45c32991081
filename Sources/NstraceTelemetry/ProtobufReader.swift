/// The protobuf wire format, read field by field from bytes a CRI runtime sent: enough for the
/// few CRI messages nstrace decodes (CRIMessages.swift), without generated code.
///
/// Bounded and total: a length past the end of the buffer, a varint longer than 10 bytes, a
/// group (wire types 3/4) or field number 0 is an error, never a trap or an over-read. Nested
/// messages are read with a new reader over the field's bytes, so depth is the caller's code's.
struct ProtobufReader {
    enum WireError: Error, Equatable {
        case truncated, varintTooLong, badWireType(UInt8), badFieldNumber
    }

    struct Field {
        let number: UInt64
        let wireType: UInt8
        /// Wire type 0 (and 1, 5: the fixed value), else 0.
        let varint: UInt64
        /// Wire type 2 (length-delimited: strings, bytes, messages), else empty.
        let bytes: ArraySlice<UInt8>
    }

    private let buffer: ArraySlice<UInt8>
    private var index: Int

    init(_ bytes: ArraySlice<UInt8>) {
        buffer = bytes
        index = bytes.startIndex
    }

    /// The next field, nil at the end of the buffer.
    mutating func next() throws(WireError) -> Field? {
        guard index < buffer.endIndex else { return nil }
        let key = try varint()
        let number = key >> 3
        let wireType = UInt8(key & 7)
        guard number > 0, number <= 536_870_911 else { throw .badFieldNumber }
        switch wireType {
        case 0:
            return Field(number: number, wireType: 0, varint: try varint(), bytes: [])
        case 1, 5:
            let width = wireType == 1 ? 8 : 4
            guard buffer.endIndex - index >= width else { throw .truncated }
            var value: UInt64 = 0
            for k in 0..<width { value |= UInt64(buffer[index + k]) << (8 * UInt64(k)) }
            index += width
            return Field(number: number, wireType: wireType, varint: value, bytes: [])
        case 2:
            let length = try varint()
            // compared as UInt64: a hostile length near 2^64 must not wrap an Int
            guard length <= UInt64(buffer.endIndex - index) else { throw .truncated }
            let end = index + Int(length)
            defer { index = end }
            return Field(number: number, wireType: 2, varint: 0, bytes: buffer[index..<end])
        default:
            throw .badWireType(wireType)
        }
    }

    private mutating func varint() throws(WireError) -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: UInt64(0), to: 70, by: 7) {
            guard index < buffer.endIndex else { throw .truncated }
            let byte = buffer[index]
            index += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
        }
        throw .varintTooLong
    }

    /// A length-delimited field as UTF-8 text; nil for invalid UTF-8 (not presented as text).
    static func string(_ bytes: ArraySlice<UInt8>) -> String? {
        String(validating: bytes, as: UTF8.self)
    }

    /// A map<string, string> entry (key = 1, value = 2).
    static func mapEntry(_ bytes: ArraySlice<UInt8>) throws(WireError) -> (key: String, value: String)? {
        var reader = ProtobufReader(bytes)
        var key: String?
        var value: String?
        while let f = try reader.next() {
            guard f.wireType == 2 else { continue }
            if f.number == 1 { key = string(f.bytes) } else if f.number == 2 { value = string(f.bytes) }
        }
        guard let key else { return nil }
        return (key, value ?? "")
    }
}
