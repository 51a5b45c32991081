import FoundationEssentials
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
    private let decoder = JSONDecoder()
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
              case .object(let object)? = try? decoder.decode(JSONTree.self, from: Data(buffer.bytes)),
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
            // from the CRI runtime's annotations in the OCI bundle (PodNames), not a CRI query
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

/// A JSON document read back (FoundationEssentials' JSONDecoder: no JSONSerialization, which
/// would link all of Foundation). Numbers keep their text as swift-otel sends them: strings.
enum JSONTree: Decodable {
    case null, bool(Bool), number(String), string(String), array([JSONTree]), object([String: JSONTree])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        // the most common first: most attributes are strings, then integers
        if c.decodeNil() { self = .null }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let i = try? c.decode(Int64.self) { self = .number(String(i)) }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let u = try? c.decode(UInt64.self) { self = .number(String(u)) }
        else if let d = try? c.decode(Double.self) { self = .number(String(d)) }
        else if let a = try? c.decode([JSONTree].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONTree].self)) }
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
