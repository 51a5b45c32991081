import Foundation
import NstraceTestSupport

/// The real OTLP receiver of the fleet tests (Tests/Fleet/otlp_receiver.py: the official
/// opentelemetry-proto decodes each request) on a loopback port, writing one JSON line per
/// log record.
final class OTLPReceiverProcess {
    let dir: String
    let port: Int
    private let child: Child

    init() throws {
        let python = Binaries.packageRoot.appendingPathComponent(".build/pyvenv/bin/python").path
        let script = Binaries.packageRoot.appendingPathComponent("Tests/Fleet/otlp_receiver.py").path
        dir = FileManager.default.temporaryDirectory.path + "/nste2e-otlp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        child = try Child(python, [script, dir + "/records.jsonl"], stdout: dir + "/receiver.out",
                          stderr: dir + "/receiver.err", newGroup: false)
        var port: Int?
        let deadline = Date().addingTimeInterval(20)
        while port == nil && Date() < deadline && child.isRunning {
            let text = (try? String(contentsOfFile: dir + "/receiver.out", encoding: .utf8)) ?? ""
            port = text.split(separator: "\n").first { $0.hasPrefix("port=") }.flatMap { Int($0.dropFirst(5)) }
            usleep(50_000)
        }
        guard let port else {
            child.kill(group: false)
            throw HarnessError("the OTLP receiver did not start: \((try? String(contentsOfFile: dir + "/receiver.err", encoding: .utf8)) ?? "")")
        }
        self.port = port
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Every record received so far, as the receiver wrote it (body, attributes, resource).
    func records() throws -> [[String: Any]] {
        let lines = try String(contentsOfFile: dir + "/records.jsonl", encoding: .utf8).split(separator: "\n")
        return try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] }
    }

    func stop() {
        child.kill(group: false)
        try? FileManager.default.removeItem(atPath: dir)
    }
}
