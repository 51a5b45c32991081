import Glibc
import NstraceCore

/// The `--metrics ADDR:PORT` endpoint: a blocking socket served by one thread of its own,
/// enough for a Prometheus scrape every few seconds. GET /metrics gives the text exposition;
/// anything else 404. A client gets 2 s to send its request, so a stuck one cannot hold the
/// endpoint. The socket is bound before tracing starts: a port in use is one clear line.
public final class MetricsServer: @unchecked Sendable {
    public let address: String
    private let fd: Int32
    private let metrics: EventMetrics

    public init(listen spec: String, metrics: EventMetrics) throws(TelemetryError) {
        let (host, port) = try Self.parse(spec)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else {
            throw TelemetryError("--metrics: \(host.debugDescription) is not an IPv4 address (e.g. 0.0.0.0:9464 or 127.0.0.1:9464)")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TelemetryError("--metrics: socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw TelemetryError("--metrics: cannot listen on \(host):\(port): \(why)")
        }
        self.fd = fd
        self.metrics = metrics
        self.address = "\(host):\(port)"
    }

    /// ADDR:PORT, ADDR an IPv4 address, PORT 1...65535.
    public static func parse(_ spec: String) throws(TelemetryError) -> (String, UInt16) {
        guard let colon = spec.lastIndex(of: ":") else {
            throw TelemetryError("--metrics: \(spec.debugDescription) is not ADDR:PORT (e.g. 0.0.0.0:9464)")
        }
        let host = String(spec[..<colon])
        guard let port = Int(spec[spec.index(after: colon)...]), (1...65535).contains(port) else {
            throw TelemetryError("--metrics: the port in \(spec.debugDescription) is not a number between 1 and 65535")
        }
        return (host.isEmpty ? "0.0.0.0" : host, UInt16(port))
    }

    /// False if the thread could not be started.
    public func start() -> Bool {
        // named for ps and /proc/PID/task/*/comm
        startDetachedThread(stackSize: 512 << 10) { [self] in
            nameCurrentThread("nstrace-metrics")
            serve()
        }
    }

    private func serve() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE {
                    if errno != EINTR { usleep(100_000) }
                    continue
                }
                return
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 2048)
        while request.count < 8192 {
            let n = read(client, &chunk, chunk.count)
            if n <= 0 { break }
            request.append(contentsOf: chunk[0..<n])
            if request.count >= 4, request.suffix(4).elementsEqual([13, 10, 13, 10]) { break }
        }
        let line = request.split(separator: 10, maxSplits: 1).first ?? []
        let parts = line.split(separator: 0x20)
        let isMetrics = parts.count >= 2 && parts[0].elementsEqual("GET".utf8)
            && (parts[1].elementsEqual("/metrics".utf8) || parts[1].starts(with: "/metrics?".utf8))
        let body: [UInt8]
        let head: String
        if isMetrics {
            body = metrics.exposition()
            head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
        } else {
            body = Array("not found: nstrace serves GET /metrics\n".utf8)
            head = "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
        }
        let response = Array((head + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n").utf8) + body
        var sent = 0
        while sent < response.count {
            let n = response[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
    }
}
