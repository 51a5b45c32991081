import Foundation
import XCTest
@testable import NstraceCore
#if canImport(Glibc)
import Glibc
#endif

/// A unix-socket server on a background thread that behaves as told: answers, hangs, closes.
final class TestSocketServer: @unchecked Sendable {
    enum Behaviour: Sendable {
        /// Accepts, reads the request, writes these bytes, closes.
        case answer([UInt8])
        /// Accepts, reads the request, never writes, keeps the connection open.
        case acceptAndHang
        /// Listens but never accepts.
        case neverAccept
        /// Accepts and closes at once.
        case closeImmediately
        /// Accepts and writes one byte of `bytes` every `interval`.
        case trickle([UInt8], interval: TimeInterval)
    }

    let path: String
    private let listener: Int32
    private let behaviour: Behaviour
    private var connections: [Int32] = []
    private let lock = NSLock()
    private var stopped = false
    private(set) var requests: [String] = []

    init(behaviour: Behaviour) throws {
        path = NSTemporaryDirectory() + "nstrace-sock-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        self.behaviour = behaviour
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        if case .neverAccept = behaviour { return }
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    private func serve() {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 { return }  // the listener was shut down
            lock.withLock { connections.append(connection) }
            switch behaviour {
            case .closeImmediately:
                close(connection)
                continue
            default:
                break
            }
            var request: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !request.reversed().starts(with: [10, 13, 10, 13]) {
                let got = buffer.withUnsafeMutableBytes { read(connection, $0.baseAddress, $0.count) }
                if got <= 0 { break }
                request.append(contentsOf: buffer[0..<got])
            }
            lock.withLock { requests.append(String(decoding: request, as: UTF8.self)) }
            switch behaviour {
            case .answer(let bytes):
                _ = bytes.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                shutdown(connection, Int32(SHUT_WR))
            case .trickle(let bytes, let interval):
                for byte in bytes {
                    if lock.withLock({ stopped }) { break }
                    var one = byte
                    if send(connection, &one, 1, Int32(MSG_NOSIGNAL)) < 0 { break }
                    Thread.sleep(forTimeInterval: interval)
                }
            default:
                break
            }
        }
    }

    func stop() {
        lock.withLock {
            stopped = true
            for connection in connections { close(connection) }
            connections.removeAll()
        }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        unlink(path)
    }
}

final class DockerEngineClientTests: XCTestCase {
    /// A docker 20.10 inspect document as captured here (`docker run -v /home:/outside-home`), trimmed.
    static let inspectJSON = #"""
    {"Id": "fdf4aabe52c7f5454d3357ec2978f34ca668c5cc3a683ef95522cbd0126f1be7", "Created": "2026-11-29T08:05:41.263053712Z", "Path": "sleep", "Args": ["86400"], "State": {"Status": "running", "Running": true, "Paused": false, "Restarting": false, "OOMKilled": false, "Dead": false, "Pid": 22692, "ExitCode": 0, "Error": "", "StartedAt": "2026-11-29T08:05:41.518268387Z", "FinishedAt": "0001-01-01T00:00:00Z"}, "Image": "sha256:464a4c92d62c26c59ae5bc6e3caa1adfc399201661bd49a7e1850a88e54abc38", "Name": "/nste2e-docker-22ad3a4f", "RestartCount": 0, "Driver": "overlay2", "Platform": "linux", "HostConfig": {"Binds": ["/home:/outside-home"], "NetworkMode": "default", "PortBindings": {}, "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}, "AutoRemove": false}, "Mounts": [{"Type": "bind", "Source": "/home", "Destination": "/outside-home", "Mode": "", "RW": true, "Propagation": "rprivate"}], "Config": {"Hostname": "fdf4aabe52c7", "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sleep", "86400"], "Image": "nstrace-e2e/busybox:latest", "Labels": {}}}
    """#
    static let dockerID = "fdf4aabe52c7f5454d3357ec2978f34ca668c5cc3a683ef95522cbd0126f1be7"

    static func chunkedResponse(status: String = "200 OK", body: String, chunkSize: Int = 1000) -> [UInt8] {
        var text = "HTTP/1.1 \(status)\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nServer: Docker/20.10.24+dfsg1 (linux)\r\n"
            + "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
        var rest = Substring(body)
        while !rest.isEmpty {
            let piece = rest.utf8.prefix(chunkSize)
            text += String(piece.count, radix: 16) + "\r\n" + String(decoding: piece, as: UTF8.self) + "\r\n"
            rest = Substring(String(decoding: rest.utf8.dropFirst(piece.count), as: UTF8.self))
        }
        return Array((text + "0\r\n\r\n").utf8)
    }

    // MARK: - decoding

    func testDecodeInspect() throws {
        let info = try XCTUnwrap(DockerContainerInfo.decode(Array(Self.inspectJSON.utf8)))
        XCTAssertEqual(info.id, Self.dockerID)
        XCTAssertEqual(info.name, "nste2e-docker-22ad3a4f", "docker's leading / is dropped")
        XCTAssertEqual(info.image, "nstrace-e2e/busybox:latest", "Config.Image, not the sha256 Image")
        XCTAssertEqual(info.pid, 22692)
        XCTAssertTrue(info.running)
        XCTAssertEqual(info.status, "running")
        XCTAssertEqual(info.networkMode, "default")
    }

    func testDecodeStoppedHostNetworkContainer() throws {
        let json = #"{"Id":"abc","Name":"/db","State":{"Status":"exited","Running":false,"Pid":0},"HostConfig":{"NetworkMode":"host"},"Config":{"Image":""}}"#
        let info = try XCTUnwrap(DockerContainerInfo.decode(Array(json.utf8)))
        XCTAssertEqual(info.name, "db")
        XCTAssertNil(info.image, "an empty image is no image")
        XCTAssertEqual(info.pid, 0)
        XCTAssertFalse(info.running)
        XCTAssertEqual(info.networkMode, "host")
    }

    func testDecodeToleratesMissingAndWrongFields() {
        XCTAssertNotNil(DockerContainerInfo.decode(Array(#"{"Id":"abc"}"#.utf8)))
        XCTAssertNil(DockerContainerInfo.decode(Array(#"{"message":"No such container: x"}"#.utf8)))
        XCTAssertNil(DockerContainerInfo.decode(Array(#"{"Id":""}"#.utf8)))
        XCTAssertNil(DockerContainerInfo.decode(Array(#"[1,2]"#.utf8)))
        XCTAssertNil(DockerContainerInfo.decode(Array("not json".utf8)))
        XCTAssertNil(DockerContainerInfo.decode([]))
        XCTAssertNil(DockerContainerInfo.decode(Array(#"{"Id":"abc","State":{"Pid":"twelve"}}"#.utf8)))
        // A pid that does not fit in pid_t is dropped, not trapped on.
        let big = DockerContainerInfo.decode(Array(#"{"Id":"abc","State":{"Pid":99999999999,"Running":true}}"#.utf8))
        XCTAssertEqual(big?.pid, 0)
    }

    func testUnsafeReferencesAreNotSent() {
        XCTAssertTrue(DockerEngineClient.isSafeReference(Self.dockerID))
        XCTAssertTrue(DockerEngineClient.isSafeReference("my_web.1-a"))
        for bad in ["", "../../info", "a b", "x?all=1", "a/b", "-rf", ".hidden", "a\r\nHost: x", String(repeating: "a", count: 300)] {
            XCTAssertFalse(DockerEngineClient.isSafeReference(bad), bad.debugDescription)
        }
        let client = DockerEngineClient(socketPath: "/nonexistent/docker.sock")
        XCTAssertEqual(client.inspect("a/../b"), .notFound)
    }

    // MARK: - over a socket

    func testInspectOverSocketWithChunkedAnswer() throws {
        let server = try TestSocketServer(behaviour: .answer(Self.chunkedResponse(body: Self.inspectJSON, chunkSize: 700)))
        defer { server.stop() }
        let client = DockerEngineClient(socketPath: server.path)
        guard case .found(let info) = client.inspect(Self.dockerID) else { return XCTFail("not found") }
        XCTAssertEqual(info.name, "nste2e-docker-22ad3a4f")
        XCTAssertEqual(info.image, "nstrace-e2e/busybox:latest")
        let request = try XCTUnwrap(server.requests.first)
        XCTAssertTrue(request.hasPrefix("GET /containers/\(Self.dockerID)/json HTTP/1.1\r\n"), request)
        XCTAssertTrue(request.contains("\r\nHost: docker\r\n"), request)
    }

    func testNotFoundAndErrorStatuses() throws {
        let missing = try TestSocketServer(behaviour: .answer(Self.chunkedResponse(
            status: "404 Not Found", body: #"{"message":"No such container: abc"}"#)))
        defer { missing.stop() }
        XCTAssertEqual(DockerEngineClient(socketPath: missing.path).inspect("abc"), .notFound)

        let failing = try TestSocketServer(behaviour: .answer(Array("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n{}".utf8)))
        defer { failing.stop() }
        guard case .unavailable(let why) = DockerEngineClient(socketPath: failing.path).inspect("abc") else { return XCTFail() }
        XCTAssertTrue(why.contains("500"), why)

        let garbage = try TestSocketServer(behaviour: .answer(Array("SSH-2.0-OpenSSH\r\n\r\n".utf8)))
        defer { garbage.stop() }
        XCTAssertNil(DockerEngineClient(socketPath: garbage.path).container("abc"))

        let closing = try TestSocketServer(behaviour: .closeImmediately)
        defer { closing.stop() }
        XCTAssertNil(DockerEngineClient(socketPath: closing.path).container("abc"))
    }

    func testAbsentSocketAnswersAtOnce() {
        let start = ContinuousClock.now
        let client = DockerEngineClient(socketPath: "/nonexistent-\(getpid())/docker.sock")
        guard case .unavailable = client.inspect("abc") else { return XCTFail() }
        // A regular file where the socket should be.
        let file = NSTemporaryDirectory() + "nstrace-not-a-socket-\(getpid())"
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        defer { unlink(file) }
        XCTAssertNil(DockerEngineClient(socketPath: file).container("abc"))
        XCTAssertLessThan(ContinuousClock.now - start, .milliseconds(200))
    }

    func testServerThatNeverAnswersTimesOut() throws {
        for behaviour in [TestSocketServer.Behaviour.acceptAndHang, .neverAccept] {
            let server = try TestSocketServer(behaviour: behaviour)
            defer { server.stop() }
            let client = DockerEngineClient(socketPath: server.path, timeout: .seconds(1))
            let start = ContinuousClock.now
            XCTAssertNil(client.container(Self.dockerID))
            let took = ContinuousClock.now - start
            XCTAssertLessThan(took, .milliseconds(1500), "\(behaviour): \(took)")
            XCTAssertGreaterThan(took, .milliseconds(900), "\(behaviour): gave up before the deadline: \(took)")
        }
    }

    func testSlowTrickleIsCutAtTheDeadline() throws {
        // One byte every 50 ms would take ~5 s for the whole answer: the deadline covers
        // the whole exchange, not each read.
        let server = try TestSocketServer(behaviour: .trickle(Self.chunkedResponse(body: #"{"Id":"abc"}"#), interval: 0.05))
        defer { server.stop() }
        let start = ContinuousClock.now
        XCTAssertNil(DockerEngineClient(socketPath: server.path, timeout: .milliseconds(500)).container("abc"))
        XCTAssertLessThan(ContinuousClock.now - start, .milliseconds(1000))
    }

    // MARK: - the metadata source

    func testMetadataSourceWithHungDockerReturnsNilInTimeAndBacksOff() throws {
        let server = try TestSocketServer(behaviour: .acceptAndHang)
        defer { server.stop() }
        let source = ContainerMetadataSource(docker: DockerEngineClient(socketPath: server.path, timeout: .seconds(1)), podman: nil)
        let start = ContinuousClock.now
        XCTAssertNil(source.lookup(ContainerIdentity(id: Self.dockerID, runtime: .docker)))
        XCTAssertLessThan(ContinuousClock.now - start, .milliseconds(1500))
        // Docker is resting now: another container is not looked up for the backoff's length.
        let second = ContinuousClock.now
        XCTAssertNil(source.lookup(ContainerIdentity(id: String(repeating: "b", count: 64), runtime: .docker)))
        XCTAssertLessThan(ContinuousClock.now - second, .milliseconds(100))
    }

    func testMetadataSourceFromConcurrentThreads() throws {
        let server = try TestSocketServer(behaviour: .answer(Self.chunkedResponse(body: Self.inspectJSON)))
        defer { server.stop() }
        let source = ContainerMetadataSource(docker: DockerEngineClient(socketPath: server.path), podman: nil)
        let identity = ContainerIdentity(id: Self.dockerID, runtime: .docker)
        let first = source.lookup(identity)
        XCTAssertEqual(first?.name, "nste2e-docker-22ad3a4f")
        XCTAssertEqual(first?.image, "nstrace-e2e/busybox:latest")
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            let again = source.lookup(identity)
            XCTAssertEqual(again?.name, "nste2e-docker-22ad3a4f")
        }
        XCTAssertEqual(server.requests.count, 1, "found answers are cached")
    }

    func testMetadataForRuntimesWithoutAnAPI() {
        let source = ContainerMetadataSource(docker: nil, podman: nil)
        let ctr = source.lookup(ContainerIdentity(id: "web", runtime: .containerd, containerdNamespace: "default"))
        XCTAssertEqual(ctr?.name, "web")
        XCTAssertNil(ctr?.image ?? nil)
        XCTAssertEqual(source.lookup(ContainerIdentity(id: "job-1", runtime: .crun))?.name, "job-1")
        XCTAssertEqual(source.lookup(ContainerIdentity(id: "box", runtime: .lxc, name: "box"))?.name, "box")
        XCTAssertNil(source.lookup(ContainerIdentity(id: Self.dockerID, runtime: .docker)), "no docker client")
        XCTAssertNil(source.lookup(ContainerIdentity(id: Self.dockerID, runtime: .podman)), "no podman state")
    }
}
