import Foundation
import XCTest
@testable import NstraceTelemetry

/// The CRI client against a real gRPC server (grpcio, Tests/Fleet/cri_peer_server.py) that
/// answers as no runtime installed here does: only runtime.v1alpha2 (v1 UNIMPLEMENTED, as
/// CRI-O before 1.20), or a well-formed gRPC answer whose message is no protobuf.
final class CRIPeerServerTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var dir = ""
    var server: Process?

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("nstrace-cri-peer-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        server?.terminate()
        server?.waitUntilExit()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func serve(_ mode: String) throws -> String {
        let socket = dir + "/cri.sock"
        let process = Process()
        process.executableURL = Self.root.appendingPathComponent(".build/pyvenv/bin/python")
        process.arguments = [Self.root.appendingPathComponent("Tests/Fleet/cri_peer_server.py").path, socket, mode]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        server = process
        let ready = out.fileHandleForReading.availableData   // blocks until its first line (or EOF)
        guard String(decoding: ready, as: UTF8.self).hasPrefix("ready") else {
            throw NSError(domain: "cri_peer_server.py did not start (make deps-fleet installs grpcio): \(String(decoding: ready, as: UTF8.self))", code: 1)
        }
        return socket
    }

    func testARuntimeThatServesOnlyV1alpha2IsAskedAgainInIt() throws {
        let pods = try CRIClient(socketPath: try serve("v1alpha2"), grpc: GRPCUnixClient()).pods()
        XCTAssertEqual(pods[String(repeating: "cd", count: 32)],
                       PodNames.Pod(name: "old-0", namespace: "legacy", uid: "1234-abcd", containerName: "app"))
        XCTAssertEqual(pods[String(repeating: "ab", count: 32)], PodNames.Pod(name: "old-0", namespace: "legacy", uid: "1234-abcd"))
    }

    func testAMessageThatIsNoProtobufIsAnErrorNotAnAnswer() throws {
        XCTAssertThrowsError(try CRIClient(socketPath: try serve("garbage"), grpc: GRPCUnixClient()).pods()) { error in
            guard let error = error as? CRIError, case .malformed = error.call else { return XCTFail("\(error)") }
        }
    }
}
