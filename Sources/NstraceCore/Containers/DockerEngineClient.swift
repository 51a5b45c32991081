import FoundationEssentials

/// What the Docker Engine API says about one container (`GET /containers/<id>/json`).
public struct DockerContainerInfo: Sendable, Hashable {
    /// The full 64-hex id.
    public var id: String
    /// The name without docker's leading `/` (`/web` → `web`).
    public var name: String?
    /// The image as the user gave it (`Config.Image`, e.g. `busybox:latest`).
    public var image: String?
    /// The host pid of the container's init, 0 when it is not running (`State.Pid`).
    public var pid: Int32
    public var running: Bool
    /// `State.Status`: created, running, paused, restarting, removing, exited, dead.
    public var status: String?
    /// `HostConfig.NetworkMode`: `default`, `bridge`, `host`, `none`, `container:<id>`, a network name.
    public var networkMode: String?

    public init(id: String, name: String?, image: String?, pid: Int32, running: Bool, status: String?, networkMode: String?) {
        self.id = id
        self.name = name
        self.image = image
        self.pid = pid
        self.running = running
        self.status = status
        self.networkMode = networkMode
    }

    /// Decodes the body of `GET /containers/<id>/json`. nil when it is not such an object.
    public static func decode(_ body: [UInt8]) -> DockerContainerInfo? {
        guard let inspect = try? JSONDecoder().decode(Inspect.self, from: Data(body)), let id = inspect.Id, !id.isEmpty else {
            return nil
        }
        var name = inspect.Name
        if let current = name, current.hasPrefix("/") { name = String(current.dropFirst()) }
        if name?.isEmpty == true { name = nil }
        let pid = inspect.State?.Pid.flatMap { Int32(exactly: $0) } ?? 0
        return DockerContainerInfo(
            id: id, name: name, image: inspect.Config?.Image.flatMap { $0.isEmpty ? nil : $0 },
            pid: pid, running: inspect.State?.Running ?? (pid > 0), status: inspect.State?.Status,
            networkMode: inspect.HostConfig?.NetworkMode)
    }

    // The subset of the inspect document read; every field optional so that older and newer
    // engines (and partial answers) decode.
    private struct Inspect: Decodable {
        var Id: String?
        var Name: String?
        var Config: Config?
        var State: State?
        var HostConfig: HostConfig?
        struct Config: Decodable { var Image: String? }
        struct State: Decodable {
            var Pid: Int64?
            var Running: Bool?
            var Status: String?
        }
        struct HostConfig: Decodable { var NetworkMode: String? }
    }
}

/// The Docker Engine API over its unix socket, read-only and bounded in time.
///
/// Each call is one HTTP/1.1 exchange on a fresh connection with a hard deadline
/// (`timeout`, default 1 s, covering connect, request and the whole answer). An absent
/// socket answers nil at once; a slow, hung or broken daemon answers nil by the deadline.
/// Never throws: callers (the live stream's metadata thread) must never be held up by docker.
public struct DockerEngineClient: Sendable {
    public var socketPath: String
    public var timeout: Duration

    /// The socket of `DOCKER_HOST=unix://…` when set, else /var/run/docker.sock.
    public static var defaultSocketPath: String {
        if let host = ProcessInfo.processInfo.environment["DOCKER_HOST"], host.hasPrefix("unix://") {
            let path = String(host.dropFirst("unix://".count))
            if path.hasPrefix("/") { return path }
        }
        return "/var/run/docker.sock"
    }

    public init(socketPath: String = DockerEngineClient.defaultSocketPath, timeout: Duration = .seconds(1)) {
        self.socketPath = socketPath
        self.timeout = timeout
    }

    /// The outcome of an inspect call, keeping "docker does not know it" apart from "no answer".
    public enum InspectResult: Sendable, Hashable {
        case found(DockerContainerInfo)
        /// The engine answered 404: no container with that id or name.
        case notFound
        /// No usable answer: no socket, timeout, error status, garbage.
        case unavailable(String)
    }

    /// `GET /containers/<idOrName>/json`. Accepts what docker accepts: full id, unique id
    /// prefix or name. References with characters outside docker's id/name alphabet are
    /// refused without asking.
    public func inspect(_ reference: String) -> InspectResult {
        guard Self.isSafeReference(reference) else { return .notFound }
        let response: HTTPResponse
        do {
            response = try UnixSocketHTTP.get(socketPath: socketPath, target: "/containers/\(reference)/json",
                                              host: "docker", timeout: timeout)
        } catch {
            return .unavailable(error.description)
        }
        switch response.status {
        case 200:
            guard let info = DockerContainerInfo.decode(response.body) else {
                return .unavailable("unexpected answer to /containers/\(reference)/json")
            }
            return .found(info)
        case 404:
            return .notFound
        default:
            return .unavailable("docker answered \(response.status) \(response.reason)")
        }
    }

    /// The container, or nil for any reason (not found, no docker, no answer in time).
    public func container(_ reference: String) -> DockerContainerInfo? {
        if case .found(let info) = inspect(reference) { return info }
        return nil
    }

    /// Docker ids are hex, names `[a-zA-Z0-9][a-zA-Z0-9_.-]+`: nothing that needs URL escaping.
    static func isSafeReference(_ text: String) -> Bool {
        guard let first = text.utf8.first, text.utf8.count <= 255, first != UInt8(ascii: "."), first != UInt8(ascii: "-") else {
            return false
        }
        return text.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
        }
    }
}
