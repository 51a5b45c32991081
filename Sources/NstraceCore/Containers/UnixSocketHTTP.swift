#if canImport(Glibc)
import Glibc
#endif

/// Why an HTTP exchange over a unix socket gave no response.
public enum UnixSocketHTTPError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Nothing listens there (ENOENT, ECONNREFUSED, not a socket).
    case unavailable(path: String, errno: Int32)
    /// The whole exchange did not finish before the deadline.
    case timedOut(path: String)
    /// A system call failed in an unexpected way.
    case systemCall(call: String, errno: Int32)
    /// The server answered something that is not an HTTP response.
    case malformed(HTTPParseError)
    case pathTooLong(String)

    public var description: String {
        switch self {
        case .unavailable(let path, let code): return "\(path): \(HostFiles.describe(errno: code))"
        case .timedOut(let path): return "\(path): no answer in time"
        case .systemCall(let call, let code): return "\(call) failed: \(HostFiles.describe(errno: code))"
        case .malformed(let error): return error.description
        case .pathTooLong(let path): return "socket path too long: \(path)"
        }
    }
}

/// One HTTP/1.1 GET over a unix stream socket, with a hard deadline on the whole exchange.
///
/// Plain POSIX: a non-blocking socket, `poll(2)` against a deadline for connect, write
/// and every read. Whatever the server does (not listening, never accepting, accepting
/// and never answering, answering a byte a second, answering garbage), `get` returns or
/// throws by `deadline` plus a few milliseconds, and never raises SIGPIPE.
public enum UnixSocketHTTP {
    public static func get(
        socketPath: String,
        target: String,
        host: String = "localhost",
        timeout: Duration = .seconds(1)
    ) throws(UnixSocketHTTPError) -> HTTPResponse {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw .systemCall(call: "socket", errno: errno) }
        defer { _ = close(fd) }

        try connect(fd: fd, path: socketPath, deadline: deadline)

        let request = "GET \(target) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: nstrace\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
        try send(fd: fd, bytes: Array(request.utf8), path: socketPath, deadline: deadline)

        var parser = HTTPResponseParser()
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            try wait(fd: fd, events: Int16(POLLIN), path: socketPath, deadline: deadline)
            let got = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got < 0 {
                let code = errno
                if code == EINTR || code == EAGAIN || code == EWOULDBLOCK { continue }
                if code == ECONNRESET { throw .unavailable(path: socketPath, errno: code) }
                throw .systemCall(call: "recv", errno: code)
            }
            do {
                if got == 0 { return try parser.finish() }
                if case .complete(let response) = try parser.feed(chunk[0..<got]) { return response }
            } catch {
                throw .malformed(error)
            }
        }
    }

    // MARK: - private

    private static func connect(fd: Int32, path: String, deadline: ContinuousClock.Instant) throws(UnixSocketHTTPError) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !pathBytes.isEmpty, pathBytes.count < capacity, !pathBytes.contains(0) else { throw .pathTooLong(path) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        while true {
            let result = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if result == 0 { return }
            let code = errno
            switch code {
            case EINTR:
                continue
            case EINPROGRESS:
                try wait(fd: fd, events: Int16(POLLOUT), path: path, deadline: deadline)
                var soError: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                if getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length) != 0 { throw .systemCall(call: "getsockopt", errno: errno) }
                if soError != 0 { throw .unavailable(path: path, errno: soError) }
                return
            case EAGAIN:
                // A unix listener's backlog is full: the server is not accepting. Retry briefly.
                if ContinuousClock.now >= deadline { throw .timedOut(path: path) }
                var pause = timespec(tv_sec: 0, tv_nsec: 10_000_000)
                _ = nanosleep(&pause, nil)
            case ENOENT, ECONNREFUSED, ENOTSOCK, ENOTDIR, EACCES, EPERM:
                throw .unavailable(path: path, errno: code)
            default:
                throw .systemCall(call: "connect", errno: code)
            }
        }
    }

    private static func send(fd: Int32, bytes: [UInt8], path: String, deadline: ContinuousClock.Instant) throws(UnixSocketHTTPError) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK {
                    try wait(fd: fd, events: Int16(POLLOUT), path: path, deadline: deadline)
                    continue
                }
                if code == EPIPE || code == ECONNRESET { throw .unavailable(path: path, errno: code) }
                throw .systemCall(call: "send", errno: code)
            }
            offset += sent
        }
    }

    /// Waits until `fd` is ready for `events` or the deadline passes (then throws `.timedOut`).
    private static func wait(fd: Int32, events: Int16, path: String, deadline: ContinuousClock.Instant) throws(UnixSocketHTTPError) {
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            if left <= .zero { throw .timedOut(path: path) }
            let (seconds, attoseconds) = left.components
            // Round up so a sub-millisecond remainder still waits instead of spinning.
            let milliseconds = Int32(clamping: seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&descriptor, 1, max(1, milliseconds))
            if ready < 0 {
                if errno == EINTR { continue }
                throw .systemCall(call: "poll", errno: errno)
            }
            // POLLHUP/POLLERR also end the wait: the following call reports what happened.
            if ready > 0 { return }
        }
    }
}
