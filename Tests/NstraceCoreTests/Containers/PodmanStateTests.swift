import Foundation
import XCTest
@testable import NstraceCore

final class PodmanStateTests: XCTestCase {
    /// containers.json of podman 4.3 as captured here (one container).
    static let containersJSON = #"""
    [{"id":"d893531a5dfa0cf55554252e507772f2ce9166172ce283f884fb1a900159c3a6","names":["nste2e-podman-1e183802"],"image":"464a4c92d62c26c59ae5bc6e3caa1adfc399201661bd49a7e1850a88e54abc38","layer":"25b24f485c8d50ee0feb8596f9de0bd98e3757b6d4e3b6d72c7a3e50d8b5d3b2","metadata":"{\"image-name\":\"localhost/nstrace-e2e/busybox:latest\",\"image-id\":\"464a4c92d62c26c59ae5bc6e3caa1adfc399201661bd49a7e1850a88e54abc38\",\"name\":\"nste2e-podman-1e183802\",\"created-at\":1795939541}","created":"2026-11-29T08:05:41.626022306Z","flags":{"MountLabel":"","ProcessLabel":""}}]
    """#
    static let imagesJSON = #"""
    [{"id":"464a4c92d62c26c59ae5bc6e3caa1adfc399201661bd49a7e1850a88e54abc38","digest":"sha256:ce38e243470fdc7cf1a015a0aed8bb778e7238fae5aa74aee418332fa9bca7e8","names":["localhost/nstrace-e2e/busybox:latest"],"names-history":["localhost/nstrace-e2e/busybox:latest"],"layer":"425a6e22171b97b843dcfc8e92a98811ffe3aeb5472154ea0bde2183e91c7f60","metadata":"{\"signatures-sizes\":{}}","created":"2026-11-29T08:05:40.1Z"},
     {"id":"1111111111111111111111111111111111111111111111111111111111111111","names":["docker.io/library/alpine:3.19"]}]
    """#

    func testParseRealState() throws {
        let records = PodmanState.parse(containersJSON: Array(Self.containersJSON.utf8), imagesJSON: Array(Self.imagesJSON.utf8))
        XCTAssertEqual(records.count, 1)
        let record = try XCTUnwrap(records.first)
        XCTAssertEqual(record.id, "d893531a5dfa0cf55554252e507772f2ce9166172ce283f884fb1a900159c3a6")
        XCTAssertEqual(record.names, ["nste2e-podman-1e183802"])
        XCTAssertEqual(record.imageID, "464a4c92d62c26c59ae5bc6e3caa1adfc399201661bd49a7e1850a88e54abc38")
        XCTAssertEqual(record.imageName, "localhost/nstrace-e2e/busybox:latest")
    }

    func testImageNameFromImagesJSONWhenMetadataLacksIt() throws {
        let containers = #"[{"id":"c1","names":["web"],"image":"1111111111111111111111111111111111111111111111111111111111111111","metadata":"{}"},"#
            + #"{"id":"c2","names":[],"image":"","metadata":"{\"name\":\"fromMetadata\",\"image-id\":\"9999\"}"},"#
            + #"{"id":"c3","names":["x"],"metadata":"not json"},{"names":["no id"]},{"id":""}]"#
        let records = PodmanState.parse(containersJSON: Array(containers.utf8), imagesJSON: Array(Self.imagesJSON.utf8))
        XCTAssertEqual(records.map(\.id), ["c1", "c2", "c3"])
        XCTAssertEqual(records[0].imageName, "docker.io/library/alpine:3.19")
        XCTAssertEqual(records[1].names, ["fromMetadata"])
        XCTAssertEqual(records[1].imageID, "9999")
        XCTAssertNil(records[1].imageName)
        XCTAssertNil(records[2].imageName)
    }

    func testBrokenFilesGiveNothing() {
        XCTAssertEqual(PodmanState.parse(containersJSON: [], imagesJSON: []), [])
        XCTAssertEqual(PodmanState.parse(containersJSON: Array("{".utf8), imagesJSON: []), [])
        XCTAssertEqual(PodmanState.parse(containersJSON: Array(#"{"id":"x"}"#.utf8), imagesJSON: []), [])
        // A broken images.json loses only the image names.
        XCTAssertEqual(PodmanState.parse(containersJSON: Array(#"[{"id":"x","names":["n"]}]"#.utf8), imagesJSON: Array("[".utf8)).first?.names, ["n"])
    }

    func testReadsAGraphRootAndNoticesChanges() throws {
        let root = NSTemporaryDirectory() + "nstrace-podman-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/overlay-containers", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/overlay-images", withIntermediateDirectories: true)
        try Data(Self.containersJSON.utf8).write(to: URL(fileURLWithPath: root + "/overlay-containers/containers.json"))
        try Data(Self.imagesJSON.utf8).write(to: URL(fileURLWithPath: root + "/overlay-images/images.json"))
        let state = PodmanState(graphRoot: root)
        XCTAssertEqual(state.container(id: "d893531a5dfa0cf55554252e507772f2ce9166172ce283f884fb1a900159c3a6")?.names, ["nste2e-podman-1e183802"])
        XCTAssertNil(state.container(id: "c1"))

        try Data(#"[{"id":"c1","names":["later"]}]"#.utf8).write(to: URL(fileURLWithPath: root + "/overlay-containers/containers.json"))
        XCTAssertEqual(state.container(id: "c1")?.names, ["later"], "a changed file is read again")

        let source = ContainerMetadataSource(docker: nil, podman: state)
        let found = source.lookup(ContainerIdentity(id: "c1", runtime: .podman))
        XCTAssertEqual(found?.name, "later")
        XCTAssertNil(PodmanState(graphRoot: root + "/missing").container(id: "c1"))
    }

    func testGraphRootFromStorageConf() {
        XCTAssertEqual(PodmanState.parseGraphRoot(storageConf: """
            # comment
            [storage]
            driver = "overlay"
            runroot = "/run/containers/storage"
            graphroot = "/srv/containers"  # moved
            [storage.options]
            graphroot = "/wrong"
            """), "/srv/containers")
        XCTAssertNil(PodmanState.parseGraphRoot(storageConf: "[storage]\ndriver = \"overlay\"\n"))
        XCTAssertNil(PodmanState.parseGraphRoot(storageConf: "[other]\ngraphroot = \"/x\"\n"))
        XCTAssertEqual(PodmanState.parseGraphRoot(storageConf: "[storage]\ngraphroot='/y'\n"), "/y")
        XCTAssertNil(PodmanState.parseGraphRoot(storageConf: "[storage]\ngraphroot = \"relative\"\n"))
    }
}
