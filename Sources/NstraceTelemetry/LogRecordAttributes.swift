import Foundation
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

    /// JSON keys with a semantic-convention name.
    private static let conventional: [String: String] = [
        "pid": "process.pid", "ppid": "process.parent_pid", "ns_pid": "process.vpid",
        "comm": "process.executable.name", "tid": "thread.id",
    ]

    init(clock: WallClock) {
        json = JSONFormatter(clock: clock)
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
              let object = try? JSONSerialization.jsonObject(with: Data(buffer.bytes)) as? [String: Any],
              let name = object["event"] as? String else { return nil }
        var metadata: Logger.Metadata = [:]
        for (key, value) in object where key != "event" {
            guard let converted = Self.value(value) else { continue }
            metadata[Self.conventional[key] ?? "nstrace." + key] = converted
        }
        if let c = event.container {
            metadata["container.id"] = .string(c.identity.id)
            metadata["container.runtime.name"] = .string(c.identity.runtime.rawValue)
            if let v = c.identity.name { metadata["container.name"] = .string(v) }
            if let v = c.image { metadata["container.image.name"] = .string(v) }
            if let v = c.identity.podUID { metadata["k8s.pod.uid"] = .string(v) }
            if let v = c.identity.containerdNamespace { metadata["nstrace.containerd.namespace"] = .string(v) }
        }
        if let t = event.target {
            metadata["nstrace.target_container.id"] = .string(t.identity.id)
            metadata["nstrace.target_container.runtime"] = .string(t.identity.runtime.rawValue)
            if let v = t.identity.name { metadata["nstrace.target_container.name"] = .string(v) }
        }
        return (name, metadata)
    }

    /// JSON null → absent (OpenTelemetry has no null attribute).
    private static func value(_ any: Any) -> Logger.MetadataValue? {
        switch any {
        case let s as String:
            return .string(s)
        case let d as [String: Any]:
            var out: Logger.Metadata = [:]
            for (k, v) in d { if let c = value(v) { out[k] = c } }
            return .dictionary(out)
        case let a as [Any]:
            return .array(a.compactMap { value($0) })
        case is NSNull:
            return nil
        case let n as NSNumber:
            // JSONSerialization gives booleans as NSNumber too ("c", a C char).
            if String(cString: n.objCType) == "c" { return .string(n.boolValue ? "true" : "false") }
            return .string(n.stringValue)
        default:
            return .string("\(any)")
        }
    }
}
