import Foundation
import XCTest
import NstraceTestSupport

/// The real receivers of the fleet tests, on loopback only: an OTLP/HTTP receiver in Python
/// decoding with the official opentelemetry-proto package (Tests/Fleet/otlp_receiver.py, in the
/// virtualenv `make deps-fleet` makes), and Debian's Prometheus server.
enum Fleet {
    static let python = Harness.packageRoot.appendingPathComponent(".build/pyvenv/bin/python").path
    static let receiverScript = Harness.packageRoot.appendingPathComponent("Tests/Fleet/otlp_receiver.py").path

    /// A TCP port nothing listens on (bound, then released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw HarnessError("bind: \(String(cString: strerror(errno)))") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// An HTTP GET through Python's urllib: the status and the body.
    static func get(_ url: String) throws -> (status: Int, body: String) {
        let script = """
            import sys, urllib.request, urllib.error
            try:
                r = urllib.request.urlopen(sys.argv[1], timeout=5); print(r.status); sys.stdout.write(r.read().decode())
            except urllib.error.HTTPError as e:
                print(e.code); sys.stdout.write(e.read().decode())
            """
        let out = try Harness.runCapturing(URL(fileURLWithPath: python), ["-c", script, url])
        guard out.status == 0 else { throw HarnessError("GET \(url) failed: \(out.stderr)") }
        let text = String(decoding: out.stdout, as: UTF8.self)
        let (first, rest) = text.firstIndex(of: "\n").map { (String(text[..<$0]), String(text[text.index(after: $0)...])) } ?? (text, "")
        return (Int(first) ?? -1, rest)
    }

    /// `unshare -n sh -c 'echo $$; readlink /proc/self/ns/net'`: the pid that made the call and
    /// the network namespace it created, as the kernel shows them.
    static func unshareNet() throws -> (pid: Int, netInode: UInt64) {
        let out = try Harness.run(URL(fileURLWithPath: "/usr/bin/unshare"), ["-n", "/bin/sh", "-c", "echo $$; readlink /proc/self/ns/net"])
        let lines = String(decoding: out, as: UTF8.self).split(separator: "\n")
        guard lines.count == 2, let pid = Int(lines[0]),
              let inode = UInt64(lines[1].drop { $0 != "[" }.dropFirst().prefix { $0 != "]" }) else {
            throw HarnessError("unexpected output of unshare -n: \(String(decoding: out, as: UTF8.self))")
        }
        return (pid, inode)
    }

    /// `count` × `unshare -n true`.
    static func unshareLoop(_ count: Int) throws {
        for _ in 0..<count { _ = try Harness.run(URL(fileURLWithPath: "/usr/bin/unshare"), ["-n", "/bin/true"]) }
    }
}

/// otlp_receiver.py running in the background.
final class OTLPReceiver {
    let process = Process()
    let outPath: String
    let port: Int
    private let stdoutPath: String

    init(mode: String = "ok", delay: Double = 0) throws {
        guard FileManager.default.isExecutableFile(atPath: Fleet.python) else {
            throw HarnessError("no \(Fleet.python): run 'make deps-fleet' (a virtualenv with opentelemetry-proto from PyPI)")
        }
        let dir = FileManager.default.temporaryDirectory.path
        let tag = UUID().uuidString
        outPath = "\(dir)/nstrace-otlp-\(tag).jsonl"
        stdoutPath = "\(dir)/nstrace-otlp-\(tag).out"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: Fleet.python)
        process.arguments = [Fleet.receiverScript, outPath, "--mode", mode, "--delay", String(delay)]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = process.standardOutput
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        var found: Int?
        while found == nil && Date() < deadline {
            let text = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("port=") }) { found = Int(line.dropFirst(5)) }
            if found == nil && !process.isRunning { break }
            usleep(50_000)
        }
        guard let found else {
            process.terminate()
            throw HarnessError("the OTLP receiver did not start: \((try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "")")
        }
        port = found
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Every record received so far, as the receiver decoded it.
    func records() throws -> [[String: Any]] {
        let text = try String(contentsOfFile: outPath, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw HarnessError("receiver line is not an object: \(line)")
            }
            return object
        }
    }

    deinit {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: stdoutPath)
    }
}

extension Dictionary where Key == String, Value == Any {
    func attributes() -> [String: Any] { self["attributes"] as? [String: Any] ?? [:] }
    func resource() -> [String: Any] { self["resource"] as? [String: Any] ?? [:] }
    func attribute(_ key: String) -> String? { attributes()[key] as? String }
}

/// "…, otlp: 12 exported, 3 dropped …" of the summary line.
struct OTLPSummary {
    var exported: Int
    var dropped: Int

    init(_ stderr: String) throws {
        guard let range = stderr.range(of: ", otlp: ", options: .backwards) else {
            throw HarnessError("no otlp totals in the summary: \(stderr)")
        }
        let words = stderr[range.upperBound...].split(separator: " ")
        guard words.count >= 4, let e = Int(words[0]), let d = Int(words[2]) else {
            throw HarnessError("cannot read the otlp totals: \(stderr)")
        }
        exported = e
        dropped = d
    }
}
