import Foundation

/// One line of `nstrace -o json` or `show -o json` (docs/events.md) as the tests read it:
/// every documented key is required (a line without one fails to decode), numbers exact;
/// the whole object is kept for the keys a test looks up by name (container,
/// target_container, attributed_by, actor, …).
public struct JSONEvent: Decodable, Sendable {
    public var time: String
    public var ts_ns: UInt64
    public var event: String
    public var pid: Int
    public var tid: Int
    public var ppid: Int
    public var ns_pid: Int
    public var comm: String
    public var uid: UInt32
    public var cgroup_id: UInt64
    public var ns: [String: UInt64]
    public var ns_before: [String: UInt64]
    public var flags: [String]
    public var args: [String: ParsedJSON]
    public var ret: Int64
    public var errno: String?
    public var latency_ns: UInt64
    public var truncated: [String]
    /// Paths resolved in the kernel (issue 8): argument name -> {resolved, in_container, …}.
    public var paths: [String: [String: ParsedJSON]]?
    /// move_mount: what the mount fd it moved holds (fsopen/fsmount context).
    public var mounted: [String: ParsedJSON]?
    /// The whole object, and the line it came from.
    public var object: [String: ParsedJSON] = [:]
    public var line = ""

    enum CodingKeys: String, CodingKey {
        case time, ts_ns, event, pid, tid, ppid, ns_pid, comm, uid, cgroup_id, ns, ns_before, flags, args, ret, errno
        case latency_ns, truncated, paths, mounted
    }

    /// Decodes one line; the error names what is missing or malformed.
    public static func decode(_ line: Data) throws -> JSONEvent {
        var event = try JSONDecoder().decode(JSONEvent.self, from: line)
        event.object = try ParsedJSON.object(line)
        event.line = String(decoding: line, as: UTF8.self)
        return event
    }

    /// String argument `key`.
    public func string(_ key: String) -> String? { args[key]?.string }

    /// Integer argument `key`.
    public func int(_ key: String) -> Int64? {
        if case .number(let n)? = args[key] { return Int64(exactly: n) }
        return nil
    }
}
