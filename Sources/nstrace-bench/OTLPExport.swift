import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Part 10: the cost of `--otlp`. The same event-making loop (`unshare -u /bin/true`, one
/// unshare event and one exec each) under `nstrace live` without and with `--otlp` to a
/// receiver on loopback; wall time of the loop, the tracer's CPU, and the exporter's totals.
func partOTLP(nstrace: String, quick: Bool) throws(BenchError) -> Double {
    let runs = quick ? 2 : 5
    let n = quick ? 300 : 1000
    let program = "/usr/bin/unshare"
    guard access(program, X_OK) == 0 else { throw BenchError("\(program) not found") }
    let sink = try LoopbackOTLPSink()
    say("part 10: \(n) x unshare -u /bin/true under nstrace, \(runs) runs without and with --otlp \(sink.url), interleaved")
    var without: [Double] = [], with: [Double] = []
    var cpuWithout: [Double] = [], cpuWith: [Double] = []
    var lines: [String] = []
    func run(otlp: Bool) throws(BenchError) {
        sleepSeconds(0.5)
        let tracer = try TracerProcess(binary: nstrace, ringSize: ringSize, extraArguments: otlp ? ["--otlp", sink.url] : [])
        sleepSeconds(0.3)
        let wall = try spawnLoop(program, arguments: ["-u", "/bin/true"], count: n)
        sleepSeconds(1.0) // one export interval: the records leave before the stop
        let summary = try tracer.stop()
        if otlp { with.append(wall); cpuWith.append(summary.cpuSeconds); lines.append(summary.line) }
        else { without.append(wall); cpuWithout.append(summary.cpuSeconds) }
    }
    for i in 0..<runs {
        if i % 2 == 0 { try run(otlp: false); try run(otlp: true) } else { try run(otlp: true); try run(otlp: false) }
    }
    let a = median(without), b = median(with)
    let overhead = 100 * (b - a) / a
    var table = Table("10. live with --otlp to a local receiver vs without (\(grouped(n)) x posix_spawn unshare -u /bin/true; \(runs) runs each, interleaved)",
                      columns: ["", "median wall s", "min .. max s", "tracer CPU s (median)"])
    table.add(["nstrace live", fixed(a, 3), "\(fixed(without.min()!, 3)) .. \(fixed(without.max()!, 3))", fixed(median(cpuWithout), 3)])
    table.add(["nstrace live --otlp", fixed(b, 3), "\(fixed(with.min()!, 3)) .. \(fixed(with.max()!, 3))", fixed(median(cpuWith), 3)])
    table.note("wall-time overhead of --otlp on the loop (medians): \(signedPercent(overhead)); the receiver got \(grouped(sink.requests)) requests, \(grouped(sink.bytes)) bytes")
    if let last = lines.last, let r = last.range(of: "otlp: ") { table.note("last --otlp run: " + String(last[r.lowerBound...])) }
    table.print()
    return overhead
}

/// A minimal OTLP/HTTP receiver on 127.0.0.1: reads each request (keep-alive) and answers 200
/// with an empty ExportLogsServiceResponse (zero protobuf bytes). It does not decode: the
/// tests do that (Tests/Fleet/otlp_receiver.py); here only the sender's cost matters.
final class LoopbackOTLPSink: @unchecked Sendable {
    let url: String
    private let fd: Int32
    private let lock = NSLock()
    private var requestCount = 0
    private var byteCount = 0

    var requests: Int { lock.withLock { requestCount } }
    var bytes: Int { lock.withLock { byteCount } }

    init() throws(BenchError) {
        let sock = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard sock >= 0 else { throw BenchError("socket: \(String(cString: strerror(errno)))") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(sock, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0, listen(sock, 16) == 0 else { throw BenchError("bind/listen on 127.0.0.1: \(String(cString: strerror(errno)))") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(sock, $0, &len) }
        }
        fd = sock
        url = "http://127.0.0.1:\(UInt16(bigEndian: addr.sin_port))"
        Thread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { if errno == EINTR { continue }; return }
                Thread { [self] in serve(client) }.start()
            }
        }.start()
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            // headers
            while pending.firstRange(of: [13, 10, 13, 10]) == nil {
                let n = read(client, &chunk, chunk.count)
                if n <= 0 { return }
                pending.append(contentsOf: chunk[0..<n])
            }
            let end = pending.firstRange(of: [13, 10, 13, 10])!.upperBound
            let head = String(decoding: pending[..<end], as: UTF8.self).lowercased()
            var length = 0
            if let r = head.range(of: "content-length:") {
                // "\r\n" is one Character in Swift: stop at either form of the line end.
                length = Int(head[r.upperBound...].prefix { $0 != "\r\n" && $0 != "\r" }.trimmingCharacters(in: .whitespaces)) ?? 0
            }
            while pending.count < end + length {
                let n = read(client, &chunk, chunk.count)
                if n <= 0 { return }
                pending.append(contentsOf: chunk[0..<n])
            }
            pending.removeFirst(end + length)
            lock.withLock { requestCount += 1; byteCount += length }
            let reply = Array("HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n".utf8)
            guard reply.withUnsafeBytes({ send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == reply.count else { return }
        }
    }
}
