/// The CRI API's (k8s.io/cri-api, runtime.v1 and v1alpha2 alike) list responses, decoded by
/// hand with only the fields nstrace uses. Field numbers are the API's:
///
///     ListPodSandboxResponse { repeated PodSandbox items = 1 }
///     PodSandbox { string id = 1; PodSandboxMetadata metadata = 2; map<string,string> labels = 5 }
///     PodSandboxMetadata { string name = 1; string uid = 2; string namespace = 3 }
///     ListContainersResponse { repeated Container containers = 1 }
///     Container { string id = 1; string pod_sandbox_id = 2; ContainerMetadata metadata = 3;
///                 map<string,string> labels = 8 }
///     ContainerMetadata { string name = 1 }
///
/// Both requests are sent empty (no filter): the empty message.
enum CRIMessages {
    struct Sandbox: Equatable {
        var id = ""
        var name: String?
        var uid: String?
        var namespace: String?
        var labels: [String: String] = [:]
    }

    struct Container: Equatable {
        var id = ""
        var sandboxID = ""
        var name: String?
        var labels: [String: String] = [:]
    }

    /// The labels nstrace reads; others are skipped rather than kept (a node's containers may
    /// carry many).
    static let podLabels: Set<String> = ["io.kubernetes.pod.name", "io.kubernetes.pod.namespace",
                                         "io.kubernetes.pod.uid", "io.kubernetes.container.name"]

    static func sandboxes(_ bytes: [UInt8]) throws(ProtobufReader.WireError) -> [Sandbox] {
        try items(bytes, sandbox)
    }

    static func containers(_ bytes: [UInt8]) throws(ProtobufReader.WireError) -> [Container] {
        try items(bytes, container)
    }

    /// Both responses are one repeated message field, number 1.
    private static func items<T>(_ bytes: [UInt8], _ decode: (ArraySlice<UInt8>) throws(ProtobufReader.WireError) -> T)
        throws(ProtobufReader.WireError) -> [T] {
        var result: [T] = []
        var reader = ProtobufReader(bytes[...])
        while let item = try reader.next() {
            if item.number == 1 && item.wireType == 2 { result.append(try decode(item.bytes)) }
        }
        return result
    }

    private static func sandbox(_ bytes: ArraySlice<UInt8>) throws(ProtobufReader.WireError) -> Sandbox {
        var sandbox = Sandbox()
        var fields = ProtobufReader(bytes)
        while let f = try fields.next() {
            guard f.wireType == 2 else { continue }
            switch f.number {
            case 1: sandbox.id = ProtobufReader.string(f.bytes) ?? ""
            case 2:
                var meta = ProtobufReader(f.bytes)
                while let m = try meta.next() {
                    guard m.wireType == 2 else { continue }
                    switch m.number {
                    case 1: sandbox.name = ProtobufReader.string(m.bytes)
                    case 2: sandbox.uid = ProtobufReader.string(m.bytes)
                    case 3: sandbox.namespace = ProtobufReader.string(m.bytes)
                    default: break
                    }
                }
            case 5: try addLabel(f.bytes, to: &sandbox.labels)
            default: break
            }
        }
        return sandbox
    }

    // The same field walk as `sandbox`, over Container's numbers: one small decoder per message
    // type is the cost of not generating code (duplicates: shape, on purpose).
    private static func container(_ bytes: ArraySlice<UInt8>) throws(ProtobufReader.WireError) -> Container {
        var container = Container()
        var fields = ProtobufReader(bytes)
        while let f = try fields.next() {
            guard f.wireType == 2 else { continue }
            switch f.number {
            case 1: container.id = ProtobufReader.string(f.bytes) ?? ""
            case 2: container.sandboxID = ProtobufReader.string(f.bytes) ?? ""
            case 3:
                var meta = ProtobufReader(f.bytes)
                while let m = try meta.next() {
                    if m.number == 1 && m.wireType == 2 { container.name = ProtobufReader.string(m.bytes) }
                }
            case 8: try addLabel(f.bytes, to: &container.labels)
            default: break
            }
        }
        return container
    }

    private static func addLabel(_ bytes: ArraySlice<UInt8>, to labels: inout [String: String]) throws(ProtobufReader.WireError) {
        if let (key, value) = try ProtobufReader.mapEntry(bytes), podLabels.contains(key) { labels[key] = value }
    }

    /// A full CRI container or sandbox id: 64 lower-case hex digits (containerd and CRI-O both
    /// use them). Anything else is dropped, never matched as a prefix: a container id is full or
    /// nothing.
    static func isFullID(_ id: String) -> Bool {
        id.utf8.count == 64 && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// Container id → its pod, for every container and every sandbox (the sandbox's own
    /// container, the pause process, belongs to the pod too). The sandbox's metadata wins over
    /// labels; every value must be a Kubernetes name (PodNames.isName) to be used.
    static func pods(sandboxes: [Sandbox], containers: [Container]) -> [String: PodNames.Pod] {
        func valid(_ values: String?...) -> String? {
            values.first { $0.map(PodNames.isName) ?? false } ?? nil
        }
        var bySandbox: [String: PodNames.Pod] = [:]
        for s in sandboxes where isFullID(s.id) {
            bySandbox[s.id] = PodNames.Pod(name: valid(s.name, s.labels["io.kubernetes.pod.name"]),
                                           namespace: valid(s.namespace, s.labels["io.kubernetes.pod.namespace"]),
                                           uid: valid(s.uid, s.labels["io.kubernetes.pod.uid"]))
        }
        var result = bySandbox.filter { !$0.value.isEmpty }
        for c in containers where isFullID(c.id) {
            let pod = bySandbox[c.sandboxID] ?? PodNames.Pod()
            let found = PodNames.Pod(name: valid(pod.name, c.labels["io.kubernetes.pod.name"]),
                                     namespace: valid(pod.namespace, c.labels["io.kubernetes.pod.namespace"]),
                                     uid: valid(pod.uid, c.labels["io.kubernetes.pod.uid"]),
                                     containerName: valid(c.name, c.labels["io.kubernetes.container.name"]))
            if !found.isEmpty { result[c.id] = found }
        }
        return result
    }
}
