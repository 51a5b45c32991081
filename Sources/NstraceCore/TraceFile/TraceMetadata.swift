import FoundationEssentials

/// One METADATA record: a kind (`container`, `cgroup`, `host-snapshot`, `lost`,
/// or any later one), the version of that kind's JSON schema, the boot-clock time it refers
/// to, and a JSON object. Readers pass on kinds they do not know; a kind's schema only
/// gains keys within a version (decoders ignore unknown keys), and changes meaning only
/// with a new version.
public struct TraceMetadata: Sendable, Equatable {
    /// 1...64 bytes of `[a-z0-9_.-]`.
    public var kind: String
    public var version: UInt16
    /// CLOCK_BOOTTIME ns the record refers to (when it was observed); 0 if unknown.
    public var tsNs: UInt64
    /// UTF-8 JSON (an object, for the kinds defined here).
    public var json: [UInt8]

    public init(kind: String, version: UInt16, tsNs: UInt64 = 0, json: [UInt8]) {
        self.kind = kind
        self.version = version
        self.tsNs = tsNs
        self.json = json
    }

    /// Encodes a typed payload (keys sorted, so equal values give equal bytes).
    public init<T: TraceMetadataPayload>(_ payload: T, tsNs: UInt64 = 0) throws(TraceFileError) {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            self.init(kind: T.kind, version: T.version, tsNs: tsNs, json: Array(try enc.encode(payload)))
        } catch {
            throw .invalidMetadata("\(T.kind): \(error)")
        }
    }

    /// Decodes the JSON as `T`; the kind must be `T.kind`. A newer version of the kind still
    /// decodes when the keys `T` needs are there (new keys are ignored).
    public func decode<T: TraceMetadataPayload>(_ type: T.Type) throws(TraceFileError) -> T {
        guard kind == T.kind else {
            throw .metadataDecodeFailed(kind: kind, detail: "expected kind '\(T.kind)'")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(json))
        } catch let e as DecodingError {
            throw .metadataDecodeFailed(kind: kind, detail: Self.describe(e))
        } catch {
            throw .metadataDecodeFailed(kind: kind, detail: "\(error)")
        }
    }

    /// The JSON as text (invalid UTF-8 becomes U+FFFD).
    public var jsonString: String { String(decoding: json, as: UTF8.self) }

    static func describe(_ e: DecodingError) -> String {
        func path(_ c: [CodingKey]) -> String {
            c.isEmpty ? "top level" : c.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch e {
        case .typeMismatch(_, let c): return "\(path(c.codingPath)): wrong type"
        case .valueNotFound(_, let c): return "\(path(c.codingPath)): missing value"
        case .keyNotFound(let k, let c): return "\(path(c.codingPath + [k])): missing key"
        case .dataCorrupted(let c): return "\(path(c.codingPath)): \(c.debugDescription)"
        @unknown default: return "\(e)"
        }
    }

    // MARK: encoding (docs/format.md, "METADATA")

    static let maxKindBytes = 64

    static func validKind(_ k: [UInt8]) -> Bool {
        guard !k.isEmpty, k.count <= maxKindBytes else { return false }
        return k.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D }
    }

    func encode() throws(TraceFileError) -> [UInt8] {
        let k = Array(kind.utf8)
        guard Self.validKind(k) else { throw .invalidMetadata("kind '\(kind)' is not 1...64 bytes of [a-z0-9_.-]") }
        let limit = TraceFormat.maxBlockPayload - 16 - k.count
        guard json.count <= limit else {
            throw .invalidMetadata("\(kind): \(json.count) bytes of JSON, more than \(limit)")
        }
        var w = ByteWriter()
        w.u16(UInt16(k.count))
        w.raw(k)
        w.u16(version)
        w.u64(tsNs)
        w.u32(UInt32(json.count))
        w.raw(json)
        return w.bytes
    }

    static func decode(_ p: UnsafeRawPointer, count: Int) -> Result<TraceMetadata, TraceFileHeader.DecodeFailure> {
        var r = ByteReader(p, count: count)
        guard let kl = r.u16(), let k = r.bytes(Int(kl)), validKind(k) else {
            return .failure(.malformed("kind missing, or not 1...64 bytes of [a-z0-9_.-]"))
        }
        guard let v = r.u16(), let ts = r.u64(), let jl = r.u32(), let j = r.bytes(Int(jl)) else {
            return .failure(.malformed("record shorter than its lengths"))
        }
        guard r.remaining == 0 else { return .failure(.malformed("\(r.remaining) bytes after the JSON")) }
        return .success(TraceMetadata(kind: String(decoding: k, as: UTF8.self), version: v, tsNs: ts, json: j))
    }
}

/// A typed METADATA payload: its kind, its schema version, and its JSON form (Codable).
public protocol TraceMetadataPayload: Codable, Sendable {
    static var kind: String { get }
    static var version: UInt16 { get }
}

/// The metadata kinds nstrace writes (docs/format.md, "METADATA").
extension TraceMetadata {
    /// Namespace inodes by type name (`mnt`, `net`, `pid`, `uts`, `ipc`, `user`, `cgroup`,
    /// `time`, `pid_for_children`, `time_for_children`).
    public typealias NamespaceInodes = [String: UInt32]

    /// `container`: a container as known when the record was written. Written when the
    /// container is discovered and again whenever more is known about it (name and image from
    /// the runtime's API, its mount table); the last record for an `id` wins.
    public struct Container: TraceMetadataPayload, Equatable {
        public static let kind = "container"
        public static let version: UInt16 = 1

        /// The full id (64 hex digits for docker, the chosen id for ctr/runc, the name for LXC).
        public var id: String
        /// JSON `runtime` values: docker, containerd, cri-o, podman, runc, crun, lxc, nspawn, kubernetes.
        public var runtime: String?
        public var name: String?
        public var image: String?
        public var pod: String?
        public var podNamespace: String?
        public var podUID: String?
        public var containerdNamespace: String?
        /// cgroup v2 ids (inodes) of the container's cgroups, and the path of its main one.
        public var cgroupIDs: [UInt64]
        public var cgroupPath: String?
        /// Host pid of the container's first process, when known.
        public var pid: UInt32?
        public var namespaces: NamespaceInodes
        /// Namespace types the container shares with the host (e.g. ["net"] for --net=host).
        public var sharedWithHost: [String]
        /// /proc/PID/mountinfo of the container's first process, verbatim.
        public var mountinfo: String?
        /// `running`, `created`, `exited`, ... when known.
        public var state: String?
        /// Anything else the runtime said (labels, ...).
        public var extra: [String: String]?

        public init(id: String, runtime: String? = nil, name: String? = nil, image: String? = nil,
                    pod: String? = nil, podNamespace: String? = nil, podUID: String? = nil,
                    containerdNamespace: String? = nil, cgroupIDs: [UInt64] = [], cgroupPath: String? = nil,
                    pid: UInt32? = nil, namespaces: NamespaceInodes = [:], sharedWithHost: [String] = [],
                    mountinfo: String? = nil, state: String? = nil, extra: [String: String]? = nil) {
            self.id = id
            self.runtime = runtime
            self.name = name
            self.image = image
            self.pod = pod
            self.podNamespace = podNamespace
            self.podUID = podUID
            self.containerdNamespace = containerdNamespace
            self.cgroupIDs = cgroupIDs
            self.cgroupPath = cgroupPath
            self.pid = pid
            self.namespaces = namespaces
            self.sharedWithHost = sharedWithHost
            self.mountinfo = mountinfo
            self.state = state
            self.extra = extra
        }

        enum CodingKeys: String, CodingKey {
            case id, runtime, name, image, pod, state, extra, pid, namespaces, mountinfo
            case podNamespace = "pod_namespace"
            case podUID = "pod_uid"
            case containerdNamespace = "containerd_namespace"
            case cgroupIDs = "cgroup_ids"
            case cgroupPath = "cgroup_path"
            case sharedWithHost = "shared_with_host"
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(String.self, forKey: .id)
            runtime = try c.decodeIfPresent(String.self, forKey: .runtime)
            name = try c.decodeIfPresent(String.self, forKey: .name)
            image = try c.decodeIfPresent(String.self, forKey: .image)
            pod = try c.decodeIfPresent(String.self, forKey: .pod)
            podNamespace = try c.decodeIfPresent(String.self, forKey: .podNamespace)
            podUID = try c.decodeIfPresent(String.self, forKey: .podUID)
            containerdNamespace = try c.decodeIfPresent(String.self, forKey: .containerdNamespace)
            cgroupIDs = try c.decodeIfPresent([UInt64].self, forKey: .cgroupIDs) ?? []
            cgroupPath = try c.decodeIfPresent(String.self, forKey: .cgroupPath)
            pid = try c.decodeIfPresent(UInt32.self, forKey: .pid)
            namespaces = try c.decodeIfPresent(NamespaceInodes.self, forKey: .namespaces) ?? [:]
            sharedWithHost = try c.decodeIfPresent([String].self, forKey: .sharedWithHost) ?? []
            mountinfo = try c.decodeIfPresent(String.self, forKey: .mountinfo)
            state = try c.decodeIfPresent(String.self, forKey: .state)
            extra = try c.decodeIfPresent([String: String].self, forKey: .extra)
        }
    }

    /// `cgroup`: a cgroup v2 id and its path (relative to the cgroup2 mount), so events'
    /// `cgroup_id` resolve after the cgroup is gone.
    public struct Cgroup: TraceMetadataPayload, Equatable {
        public static let kind = "cgroup"
        public static let version: UInt16 = 1

        public var id: UInt64
        public var path: String
        /// The container the path belongs to, when a matcher recognised it.
        public var containerID: String?

        public init(id: UInt64, path: String, containerID: String? = nil) {
            self.id = id
            self.path = path
            self.containerID = containerID
        }

        enum CodingKeys: String, CodingKey {
            case id, path
            case containerID = "container_id"
        }
    }

    /// `host-snapshot`: what existed when recording started: the host's namespaces, the
    /// running containers (with their mount tables), the host's mount table, the cgroup2 mount.
    public struct HostSnapshot: TraceMetadataPayload, Equatable {
        public static let kind = "host-snapshot"
        public static let version: UInt16 = 1

        public struct Namespace: Codable, Sendable, Equatable {
            /// `mnt`, `net`, ...
            public var type: String
            public var inode: UInt32
            /// Some host pids in it (the lowest first).
            public var pids: [UInt32]
            /// The container it belongs to; nil for the host's or unknown.
            public var containerID: String?

            public init(type: String, inode: UInt32, pids: [UInt32] = [], containerID: String? = nil) {
                self.type = type
                self.inode = inode
                self.pids = pids
                self.containerID = containerID
            }

            enum CodingKeys: String, CodingKey {
                case type, inode, pids
                case containerID = "container_id"
            }
        }

        /// The initial namespaces (pid 1's).
        public var hostNamespaces: NamespaceInodes
        public var namespaces: [Namespace]
        public var containers: [Container]
        /// /proc/1/mountinfo, verbatim.
        public var hostMountinfo: String?
        /// Where cgroup2 is mounted (e.g. /sys/fs/cgroup or /sys/fs/cgroup/unified).
        public var cgroup2Mount: String?

        public init(hostNamespaces: NamespaceInodes = [:], namespaces: [Namespace] = [],
                    containers: [Container] = [], hostMountinfo: String? = nil,
                    cgroup2Mount: String? = nil) {
            self.hostNamespaces = hostNamespaces
            self.namespaces = namespaces
            self.containers = containers
            self.hostMountinfo = hostMountinfo
            self.cgroup2Mount = cgroup2Mount
        }

        enum CodingKeys: String, CodingKey {
            case namespaces, containers
            case hostNamespaces = "host_namespaces"
            case hostMountinfo = "host_mountinfo"
            case cgroup2Mount = "cgroup2_mount"
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            hostNamespaces = try c.decodeIfPresent(NamespaceInodes.self, forKey: .hostNamespaces) ?? [:]
            namespaces = try c.decodeIfPresent([Namespace].self, forKey: .namespaces) ?? []
            containers = try c.decodeIfPresent([Container].self, forKey: .containers) ?? []
            hostMountinfo = try c.decodeIfPresent(String.self, forKey: .hostMountinfo)
            cgroup2Mount = try c.decodeIfPresent(String.self, forKey: .cgroup2Mount)
        }
    }

    /// `lost`: the BPF side's loss counters, cumulative since recording started, written
    /// periodically while they change (tsNs = when they were read).
    public struct Lost: TraceMetadataPayload, Equatable {
        public static let kind = "lost"
        public static let version: UInt16 = 1

        /// Events dropped because the ring buffer was full (NST_STAT_LOST_RINGBUF).
        public var ringbuf: UInt64
        /// Events dropped because their enter record could not be stored (NST_STAT_LOST_PENDING).
        public var pending: UInt64
        /// Events the BPF side submitted (NST_STAT_EVENTS).
        public var submitted: UInt64

        public init(ringbuf: UInt64, pending: UInt64, submitted: UInt64 = 0) {
            self.ringbuf = ringbuf
            self.pending = pending
            self.submitted = submitted
        }

        public var total: UInt64 { ringbuf &+ pending }
    }
}
