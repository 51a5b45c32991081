/// A JSON document with ordered object members, for the outputs that are not per event
/// (`info`, the host-side views): written through `OutputBuffer`'s JSON policy like the event
/// stream, so every string is escaped the same way, rendered with two-space indentation.
public indirect enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    /// Above Int64.max (counts read from a file are UInt64: shown exactly, never clamped).
    case uint(UInt64)
    /// Finite numbers only: a NaN or an infinity is written as null (JSON has neither).
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func optional(_ text: String?) -> JSONValue { text.map { .string($0) } ?? .null }
    public static func number<T: BinaryInteger>(_ value: T) -> JSONValue {
        if let v = Int64(exactly: value) { return .int(v) }
        if let u = UInt64(exactly: value) { return .uint(u) }
        return .int(Int64(clamping: value))
    }

    /// The document as text (no trailing newline).
    public func render() -> String {
        var out = OutputBuffer(capacity: 4096)
        append(to: &out, indent: 0)
        return out.string
    }

    public func append(to out: inout OutputBuffer, indent: Int) {
        switch self {
        case .null: out.append("null")
        case .bool(let value): if value { out.append("true") } else { out.append("false") }
        case .int(let value): out.appendDecimal(value)
        case .uint(let value): out.append(Array(String(value).utf8))
        case .double(let value):
            if value.isFinite { out.append(Array(String(value).utf8)) } else { out.append("null") }
        case .string(let value): out.appendJSONString(value)
        case .array(let items):
            if items.isEmpty { out.append("[]"); return }
            if items.allSatisfy(\.isScalar) {
                out.append(byte: 0x5B)
                for (index, item) in items.enumerated() {
                    if index > 0 { out.append(", ") }
                    item.append(to: &out, indent: indent)
                }
                out.append(byte: 0x5D)
                return
            }
            out.append("[\n")
            for (index, item) in items.enumerated() {
                out.appendSpaces(indent + 2)
                item.append(to: &out, indent: indent + 2)
                if index == items.count - 1 { out.append("\n") } else { out.append(",\n") }
            }
            out.appendSpaces(indent)
            out.append(byte: 0x5D)
        case .object(let members):
            if members.isEmpty { out.append("{}"); return }
            out.append("{\n")
            for (index, member) in members.enumerated() {
                out.appendSpaces(indent + 2)
                out.appendJSONString(member.0)
                out.append(": ")
                member.1.append(to: &out, indent: indent + 2)
                if index == members.count - 1 { out.append("\n") } else { out.append(",\n") }
            }
            out.appendSpaces(indent)
            out.append(byte: 0x7D)
        }
    }

    private var isScalar: Bool {
        switch self {
        case .array, .object: return false
        default: return true
        }
    }
}
