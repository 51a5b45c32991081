import Foundation
import NIOCore
import Synchronization
import XCTest
@testable import NstraceTelemetry

/// The CRI client against sockets that do not answer as a CRI runtime does: none at all, one
/// that accepts and never answers, one that answers garbage. Each costs at most the timeout,
/// throws, and (through PodLookup) is counted and logged at most once a minute.
final class CRISocketTests: XCTestCase {
    var dir = ""
    var listeners: [Int32] = []

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("nstrace-cri-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        listeners.forEach { close($0) }
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// A listening unix socket that never accepts: the kernel completes connections into its
    /// backlog, and nothing ever answers.
    func listeningSocket(_ name: String) throws -> String {
        let path = dir + "/" + name
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw NSError(domain: "bind/listen \(path): errno \(errno)", code: 1) }
        listeners.append(fd)
        return path
    }

    /// Accepts every connection and writes `reply` to it, keeping it open.
    func answeringSocket(_ name: String, reply: [UInt8]) throws -> String {
        let path = try listeningSocket(name)
        let fd = listeners.last!
        Thread.detachNewThread {
            while true {
                let c = accept(fd, nil, nil)
                guard c >= 0 else { return }
                _ = reply.withUnsafeBytes { write(c, $0.baseAddress, $0.count) }
                // held open: the client must give up on its own
            }
        }
        return path
    }

    func pods(_ path: String, timeout: TimeAmount = .milliseconds(500)) -> (Result<[String: PodNames.Pod], CRIError>, Double) {
        let start = Date()
        let result = Result { () throws(CRIError) in try CRIClient(socketPath: path, timeout: timeout, grpc: GRPCUnixClient()).pods() }
        return (result, Date().timeIntervalSince(start))
    }

    func testAnAbsentSocketFailsAtOnce() {
        let (result, seconds) = pods(dir + "/absent.sock")
        guard case .failure(let error) = result, case .noSocket = error.call else { return XCTFail("\(result)") }
        XCTAssertLessThan(seconds, 0.5)
    }

    func testASocketThatNeverAnswersCostsTheTimeoutOnly() throws {
        let (result, seconds) = pods(try listeningSocket("stalled.sock"))
        guard case .failure(let error) = result else { return XCTFail("\(result)") }
        XCTAssertEqual(error.call, .timeout, "\(error)")
        XCTAssertGreaterThanOrEqual(seconds, 0.45)
        XCTAssertLessThan(seconds, 1.5, "bounded by the 0.5 s timeout")
    }

    func testASocketThatAnswersGarbageFailsWithoutWaiting() throws {
        let garbage = Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".utf8) + (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let (result, seconds) = pods(try answeringSocket("garbage.sock", reply: garbage), timeout: .seconds(3))
        guard case .failure(let error) = result else { return XCTFail("\(result)") }
        XCTAssertNotEqual(error.call, .timeout, "garbage is an error at once, not a wait: \(error)")
        XCTAssertLessThan(seconds, 2.5, "\(error)")
        print("garbage socket: \(error) after \(seconds) s")
    }

    func testPodLookupCountsFailuresAndLogsThemOncePerMinute() throws {
        let path = try listeningSocket("stalled.sock")
        let lines = Mutex<[String]>([])
        let lookup = PodLookup(socket: path, timeout: .milliseconds(300), bundleRoot: dir + "/no-bundles") { line in
            lines.withLock { $0.append(line) }
        }
        lookup.start()
        let id = String(repeating: "ab", count: 32)
        // asked again while the first query is running and right after: one more query, coalesced
        for _ in 0..<3 { lookup.request(id) }
        lookup.request("not-a-full-id")
        let deadline = Date().addingTimeInterval(6)
        while lookup.failures < 2 && Date() < deadline { usleep(50_000) }
        usleep(300_000)
        XCTAssertEqual(lookup.failures, 2, "the start query and one coalesced query for the id")
        XCTAssertTrue(lookup.drain().isEmpty)
        let logged = lines.withLock { $0 }
        XCTAssertEqual(logged.count, 1, "logged at most once a minute: \(logged)")
        XCTAssertTrue(logged.first?.contains("stalled.sock") == true && logged.first?.contains("no answer in time") == true, "\(logged)")
    }

    func testANamedSocketMustExist() throws {
        XCTAssertThrowsError(try PodLookup.checkNamedSocket(dir + "/absent.sock")) {
            XCTAssertTrue("\($0)".contains("No such file"), "\($0)")
        }
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/file", contents: Data()))
        XCTAssertThrowsError(try PodLookup.checkNamedSocket(dir + "/file")) { XCTAssertTrue("\($0)".contains("not a socket"), "\($0)") }
        XCTAssertNoThrow(try PodLookup.checkNamedSocket(try listeningSocket("ok.sock")))
    }

    func testRunningBundlesAreReadOnlyForFullIDsAndNeverThroughSymlinks() throws {
        let root = dir + "/k8s.io"
        let id = String(repeating: "c0", count: 32), linked = String(repeating: "d1", count: 32)
        for name in [id, "short", "other"] {
            try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
            let config = #"{"annotations":{"io.kubernetes.cri.sandbox-name":"web-0","io.kubernetes.cri.sandbox-namespace":"shop"}}"#
            try Data(config.utf8).write(to: URL(fileURLWithPath: root + "/" + name + "/config.json"))
        }
        try FileManager.default.createSymbolicLink(atPath: root + "/" + linked, withDestinationPath: root + "/other")
        XCTAssertEqual(RunningPodBundles.read(root: root), [id: PodNames.Pod(name: "web-0", namespace: "shop")])
        XCTAssertEqual(RunningPodBundles.read(root: dir + "/absent"), [:])
    }
}
