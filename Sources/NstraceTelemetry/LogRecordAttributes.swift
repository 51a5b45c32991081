import Logging
import NstraceCore

/// One event as an OpenTelemetry log record: the body is the event name; the attributes use
/// the semantic conventions where one exists (process.*, thread.id, container.*, k8s.*) and an
/// `nstrace.` prefix for the rest.
///
/// The event's own fields come from the JSON formatter (docs/events.md), so the decoding of
/// flags and arguments and the escaping of untrusted strings live in one place; this runs on
/// the exporter's thread, never on the ring-buffer loop.
///
/// swift-otel's log API takes swift-log metadata, which it sends as string values (numbers
/// included) and nested objects as key-value lists.
final class LogRecordAttributes {
    private var json: JSONFormatter
    private var buffer = OutputBuffer(capacity: 1 << 13)
    private let pods: PodNames

    /// JSON keys with a semantic-convention name.
    private static let conventional: [String: String] = [
        "pid": "process.pid", "ppid": "process.parent_pid", "ns_pid": "process.vpid",
        "comm": "process.executable.name", "tid": "thread.id",
    ]

    init(clock: WallClock, pods: PodNames) {
        json = JSONFormatter(clock: clock)
        self.pods = pods
    }

    /// nil for a record that does not decode (counted by the pipeline already).
    func make(_ event: ExportedEvent) -> (body: String, metadata: Logger.Metadata)? {
        buffer.removeAll()
        let decoded: Bool = event.record.withUnsafeBytes { raw in
            guard let view = try? EventView(bytes: raw) else { return false }
            json.append(view, into: &buffer)
            return true
        }
        guard decoded,
              case .object(let object)? = JSONTree.parse(buffer.bytes),
              case .string(let name)? = object["event"] else { return nil }
        var metadata: Logger.Metadata = [:]
        for (key, value) in object where key != "event" {
            guard let converted = value.metadataValue else { continue }
            metadata[Self.conventional[key] ?? "nstrace." + key] = converted
        }
        if let c = event.container {
            metadata["container.id"] = .string(c.identity.id)
            metadata["container.runtime.name"] = .string(c.identity.runtime.rawValue)
            if let v = c.identity.name { metadata["container.name"] = .string(v) }
            if let v = c.image { metadata["container.image.name"] = .string(v) }
            if let v = c.identity.podUID { metadata["k8s.pod.uid"] = .string(v) }
            if let v = c.identity.containerdNamespace { metadata["nstrace.containerd.namespace"] = .string(v) }
            // the CRI runtime's annotations in the OCI bundle, or its CRI socket's answer (PodNames)
            if let pod = pods.pod(for: c.identity.id) {
                if let v = pod.name { metadata["k8s.pod.name"] = .string(v) }
                if let v = pod.namespace { metadata["k8s.namespace.name"] = .string(v) }
                if c.identity.podUID == nil, let v = pod.uid { metadata["k8s.pod.uid"] = .string(v) }
                if let v = pod.containerName { metadata["k8s.container.name"] = .string(v) }
            }
        }
        if let t = event.target {
            metadata["nstrace.target_container.id"] = .string(t.identity.id)
            metadata["nstrace.target_container.runtime"] = .string(t.identity.runtime.rawValue)
            if let v = t.identity.name { metadata["nstrace.target_container.name"] = .string(v) }
        }
        return (name, metadata)
    }
}

/// The JSON formatter's own output read back: objects, arrays, strings, numbers (kept as their
/// text: swift-otel sends attribute values as strings), true, false, null. A small recursive
/// descent over the bytes, because JSONDecoder's failed type probes cost more than the rest of
/// a record, and JSONSerialization would link all of Foundation. Anything malformed gives nil.
enum JSONTree {
    case null, bool(Bool), number(String), string(String), array([JSONTree]), object([String: JSONTree])

    static func parse(_ bytes: [UInt8]) -> JSONTree? {
        var i = 0
        guard let v = bytes.withUnsafeBufferPointer({ value($0, &i, depth: 0) }) else { return nil }
        return v
    }

    private static func skipSpace(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    private static func value(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, depth: Int) -> JSONTree? {
        skipSpace(b, &i)
        guard i < b.count, depth < 32 else { return nil }
        switch b[i] {
        case 0x7B: // {
            i += 1
            var members: [String: JSONTree] = [:]
            skipSpace(b, &i)
            if i < b.count, b[i] == 0x7D { i += 1; return .object(members) }
            while true {
                skipSpace(b, &i)
                guard i < b.count, b[i] == 0x22, let key = string(b, &i) else { return nil }
                skipSpace(b, &i)
                guard i < b.count, b[i] == 0x3A else { return nil }
                i += 1
                guard let v = value(b, &i, depth: depth + 1) else { return nil }
                members[key] = v
                skipSpace(b, &i)
                guard i < b.count else { return nil }
                if b[i] == 0x2C { i += 1; continue }
                if b[i] == 0x7D { i += 1; return .object(members) }
                return nil
            }
        case 0x5B: // [
            i += 1
            var items: [JSONTree] = []
            skipSpace(b, &i)
            if i < b.count, b[i] == 0x5D { i += 1; return .array(items) }
            while true {
                guard let v = value(b, &i, depth: depth + 1) else { return nil }
                items.append(v)
                skipSpace(b, &i)
                guard i < b.count else { return nil }
                if b[i] == 0x2C { i += 1; continue }
                if b[i] == 0x5D { i += 1; return .array(items) }
                return nil
            }
        case 0x22:
            return string(b, &i).map { .string($0) }
        case 0x74, 0x66, 0x6E: // true false null
            for (word, result) in [("true", JSONTree.bool(true)), ("false", .bool(false)), ("null", .null)] {
                let w = Array(word.utf8)
                if i + w.count <= b.count, b[i] == w[0], (0..<w.count).allSatisfy({ b[i + $0] == w[$0] }) {
                    i += w.count
                    return result
                }
            }
            return nil
        default:
            let start = i
            while i < b.count, b[i] == 0x2D || b[i] == 0x2B || b[i] == 0x2E || b[i] == 0x65 || b[i] == 0x45 || (b[i] >= 0x30 && b[i] <= 0x39) { i += 1 }
            guard i > start else { return nil }
            return .number(String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self))
        }
    }

    /// A string starting at the quote; escapes decoded (\uXXXX with surrogate pairs).
    private static func string(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> String? {
        i += 1
        var out: [UInt8] = []
        while i < b.count {
            let c = b[i]
            if c == 0x22 { i += 1; return String(decoding: out, as: UTF8.self) }
            if c != 0x5C { out.append(c); i += 1; continue }
            guard i + 1 < b.count else { return nil }
            let e = b[i + 1]
            i += 2
            switch e {
            case 0x22, 0x5C, 0x2F: out.append(e)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                guard var scalar = hex4(b, i) else { return nil }
                i += 4
                if scalar >= 0xD800 && scalar < 0xDC00, i + 6 <= b.count, b[i] == 0x5C, b[i + 1] == 0x75,
                   let low = hex4(b, i + 2), low >= 0xDC00 && low < 0xE000 {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                out.append(contentsOf: Array(String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8))
            default: return nil
            }
        }
        return nil
    }

    private static func hex4(_ b: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32? {
        guard at + 4 <= b.count else { return nil }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = b[at + k]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: return nil
            }
            v = v << 4 | d
        }
        return v
    }

    /// JSON null → absent (OpenTelemetry has no null attribute).
    var metadataValue: Logger.MetadataValue? {
        switch self {
        case .null: return nil
        case .bool(let b): return .string(b ? "true" : "false")
        case .number(let n), .string(let n): return .string(n)
        case .array(let a): return .array(a.compactMap(\.metadataValue))
        case .object(let o):
            var out: Logger.Metadata = [:]
            for (k, v) in o { if let c = v.metadataValue { out[k] = c } }
            return .dictionary(out)
        }
    }
}
