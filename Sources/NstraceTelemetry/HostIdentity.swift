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
        if let id = machineID() { attributes["host.id"] = id }
        return attributes
    }

    /// /etc/machine-id: 32 hex digits and a newline; anything else is not an id.
    static func machineID() -> String? {
        let fd = open("/etc/machine-id", O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &buf, buf.count)
        guard n > 0 else { return nil }
        let id = buf[0..<n].prefix { $0 != 0x0A }
        guard id.count == 32, id.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        return String(decoding: id, as: UTF8.self)
    }
}
