import Foundation
import Glibc

/// The node as an OpenTelemetry resource: host.name and host.id (the machine id, as the
/// semantic conventions recommend on Linux). In a pod, /etc/machine-id must be the host's
/// (deploy/kubernetes/daemonset.yaml mounts it).
enum HostIdentity {
    static func resourceAttributes() -> [String: String] {
        var attributes: [String: String] = [:]
        var name = [CChar](repeating: 0, count: 256)
        if gethostname(&name, name.count - 1) == 0 {
            attributes["host.name"] = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        if let id = try? String(contentsOfFile: "/etc/machine-id", encoding: .utf8) {
            let trimmed = id.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { attributes["host.id"] = trimmed }
        }
        return attributes
    }
}
