import NIOCore

/// The CRI runtime service on a unix socket (containerd's CRI plugin, CRI-O): which pod each
/// container belongs to, from ListPodSandbox and ListContainers (CRIMessages).
///
/// runtime.v1 first; a runtime that answers UNIMPLEMENTED for it (containerd before 1.7 with
/// the v1 API off, CRI-O before 1.20) is asked again as runtime.v1alpha2 over the same
/// connection. Both calls share one deadline (`timeout`).
struct CRIClient: Sendable {
    let socketPath: String
    let timeout: TimeAmount
    private let grpc: GRPCUnixClient

    init(socketPath: String, timeout: TimeAmount = .seconds(2), grpc: GRPCUnixClient) {
        self.socketPath = socketPath
        self.timeout = timeout
        self.grpc = grpc
    }

    static let apiVersions = ["runtime.v1", "runtime.v1alpha2"]

    /// Container id (and sandbox id) → pod names. Throws the first failure of the calls.
    func pods() throws(CRIError) -> [String: PodNames.Pod] {
        do {
            let connection = try grpc.connect(socketPath: socketPath, timeout: timeout)
            defer { connection.close() }
            return try pods(on: connection)
        } catch {
            throw CRIError(socketPath: socketPath, call: error)
        }
    }

    private func pods(on connection: GRPCUnixClient.Connection) throws(GRPCUnixClient.CallError) -> [String: PodNames.Pod] {
        var unimplemented = ""
        for api in Self.apiVersions {
            let sandboxBytes: [UInt8]
            do {
                sandboxBytes = try connection.call(path: "/\(api).RuntimeService/ListPodSandbox", request: [])
            } catch {
                guard case .status(GRPCUnixClient.unimplemented, let message) = error else { throw error }
                unimplemented = message
                continue
            }
            let containerBytes = try connection.call(path: "/\(api).RuntimeService/ListContainers", request: [])
            do {
                return CRIMessages.pods(sandboxes: try CRIMessages.sandboxes(sandboxBytes),
                                        containers: try CRIMessages.containers(containerBytes))
            } catch {
                throw .malformed("protobuf: \(error)")
            }
        }
        throw .status(GRPCUnixClient.unimplemented, unimplemented)
    }
}

struct CRIError: Error, Equatable, CustomStringConvertible {
    let socketPath: String
    let call: GRPCUnixClient.CallError
    var description: String { "CRI socket \(socketPath): \(call)" }

    /// Nothing listens there, or it serves no CRI (UNIMPLEMENTED in both API versions).
    var isNoCRI: Bool {
        switch call {
        case .noSocket, .status(GRPCUnixClient.unimplemented, _): return true
        default: return false
        }
    }
}
