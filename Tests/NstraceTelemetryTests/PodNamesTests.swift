import Foundation
import XCTest
@testable import NstraceTelemetry

/// Pod names from an OCI bundle's config.json (what containerd's CRI plugin and CRI-O write),
/// read without following a planted symlink, only from a root-owned regular file.
final class PodNamesTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("nstrace-pods-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/bundle", withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func write(_ annotations: [String: String], to bundle: String) throws {
        let config: [String: Any] = ["ociVersion": "1.0.2", "process": ["args": ["sleep", "1"]], "annotations": annotations]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: bundle + "/config.json"))
    }

    func testContainerdCRIAnnotations() throws {
        try write(["io.kubernetes.cri.sandbox-name": "web-0", "io.kubernetes.cri.sandbox-namespace": "shop",
                   "io.kubernetes.cri.sandbox-uid": "0c8f0b1c-5d2e-4f7a-9b1e-3a2c4d5e6f70",
                   "io.kubernetes.cri.container-name": "nginx", "io.kubernetes.cri.container-type": "container"],
                  to: dir + "/bundle")
        XCTAssertEqual(PodNames.read(bundle: dir + "/bundle"),
                       .init(name: "web-0", namespace: "shop", uid: "0c8f0b1c-5d2e-4f7a-9b1e-3a2c4d5e6f70", containerName: "nginx"))
    }

    func testCRIOAnnotations() throws {
        try write(["io.kubernetes.pod.name": "db-1", "io.kubernetes.pod.namespace": "prod",
                   "io.kubernetes.pod.uid": "1234", "io.kubernetes.container.name": "postgres"], to: dir + "/bundle")
        XCTAssertEqual(PodNames.read(bundle: dir + "/bundle"), .init(name: "db-1", namespace: "prod", uid: "1234", containerName: "postgres"))
    }

    func testNoAnnotationsOrNoFileGiveNothing() throws {
        XCTAssertNil(PodNames.read(bundle: dir + "/bundle"), "no config.json")
        try write([:], to: dir + "/bundle")
        XCTAssertEqual(PodNames.read(bundle: dir + "/bundle")?.isEmpty, true)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: dir + "/bundle/config.json"))
        XCTAssertNil(PodNames.read(bundle: dir + "/bundle"), "garbage")
    }

    func testValuesThatAreNoKubernetesNamesAreIgnored() {
        let pod = PodNames.pod(annotations: ["io.kubernetes.pod.name": "Web 0\u{1b}[31m", "io.kubernetes.pod.namespace": String(repeating: "a", count: 254),
                                             "io.kubernetes.pod.uid": "", "io.kubernetes.container.name": "ok-1.x"])
        XCTAssertEqual(pod, .init(name: nil, namespace: nil, uid: nil, containerName: "ok-1.x"))
    }

    func testASymlinkAnywhereInThePathGivesNothing() throws {
        try write(["io.kubernetes.pod.name": "web-0"], to: dir + "/bundle")
        XCTAssertEqual(PodNames.read(bundle: dir + "/bundle")?.name, "web-0")
        // a symlinked bundle directory, and a symlinked config.json
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/bundle")
        XCTAssertNil(PodNames.read(bundle: dir + "/link"))
        try FileManager.default.createDirectory(atPath: dir + "/other", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/other/config.json", withDestinationPath: dir + "/bundle/config.json")
        XCTAssertNil(PodNames.read(bundle: dir + "/other"))
        XCTAssertNil(PodNames.read(bundle: dir + "/other/../bundle"), "no .. walks")
    }

    func testAFileNotOwnedByRootOrNotRegularGivesNothing() throws {
        guard geteuid() == 0 else { XCTFail("chown needs root (make test runs as root)"); return }
        try write(["io.kubernetes.pod.name": "web-0"], to: dir + "/bundle")
        XCTAssertEqual(chown(dir + "/bundle/config.json", 65534, 65534), 0)
        XCTAssertNil(PodNames.read(bundle: dir + "/bundle"), "a user's file cannot name a pod")
        try FileManager.default.removeItem(atPath: dir + "/bundle/config.json")
        XCTAssertEqual(mkfifo(dir + "/bundle/config.json", 0o600), 0)
        XCTAssertNil(PodNames.read(bundle: dir + "/bundle"), "a FIFO is not read (and never waited on)")
    }

    func testAnOversizedFileIsNotRead() throws {
        let big = String(repeating: " ", count: PodNames.maxFileBytes) + "{\"annotations\":{\"io.kubernetes.pod.name\":\"x\"}}"
        try Data(big.utf8).write(to: URL(fileURLWithPath: dir + "/bundle/config.json"))
        XCTAssertNil(PodNames.read(bundle: dir + "/bundle"))
    }
}
