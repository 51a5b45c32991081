import Foundation

/// Any JSON value, as the tests read nstrace's output (docs/events.md and the commands' -o json).
/// Not NstraceCore's JSONValue (the writer): the tests parse with Foundation, independently of
/// the code under test.
public enum ParsedJSON: Decodable, Sendable, Equatable {
    case string(String), number(Double), bool(Bool), null, array([ParsedJSON]), object([String: ParsedJSON])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([ParsedJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: ParsedJSON].self)) }
    }

    /// One JSON document (a whole output, or one line of JSON Lines).
    public static func parse(_ data: Data) throws -> ParsedJSON {
        try JSONDecoder().decode(ParsedJSON.self, from: data)
    }

    /// One JSON object (a JSON Lines event).
    public static func object(_ data: Data) throws -> [String: ParsedJSON] {
        try JSONDecoder().decode([String: ParsedJSON].self, from: data)
    }

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var int: Int? { if case .number(let n) = self { return Int(exactly: n) } else { return nil } }
    public var uint64: UInt64? { if case .number(let n) = self { return UInt64(exactly: n) } else { return nil } }
    public var isNull: Bool { self == .null }
    public var strings: [String] {
        if case .array(let a) = self { return a.compactMap(\.string) }
        return []
    }
    public var objects: [[String: ParsedJSON]] {
        if case .array(let a) = self { return a.compactMap { if case .object(let o) = $0 { return o } else { return nil } } }
        return []
    }

    /// The first of several possible keys (the commands' JSON is young: accept their spellings).
    public static func first(_ object: [String: ParsedJSON], _ keys: [String]) -> ParsedJSON? {
        for key in keys { if let value = object[key], !value.isNull { return value } }
        return nil
    }
}
