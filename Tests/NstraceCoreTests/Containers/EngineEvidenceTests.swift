import Foundation
import NstraceABI
import XCTest
@testable import NstraceCore

/// Issue 8: the engines' work tied by evidence; bad engine state gives null at once.
final class EngineEvidenceTests: XCTestCase {
    let host: [UInt32] = (0..<10).map { 4_026_531_835 + UInt32($0) }
    let dockerID = String(repeating: "ab", count: 32)
    let mountID = String(repeating: "cd", count: 32)

    func attribution() -> ContainerAttribution {
        ContainerAttribution(cgroups: RecordedCgroupPaths([1: "/"]), hostNamespaces: NamespaceSet(host))
    }

    func mount(comm: String = "dockerd", pid: UInt32 = 50, source: String = "overlay", target: String, ts: UInt64 = 1000) -> Fixture {
        var f = Fixture(.mount, comm: comm)
        f.e.pid = pid
        f.e.tid = pid
        f.e.cgroup_id = 1
        f.e.ts_ns = ts
        f.setString(0, source)
        f.setString(1, target)
        return f
    }

    func attribute(_ a: ContainerAttribution, _ f: Fixture) -> ContainerRecord? { f.event.withView { a.attribute($0).container } }
    func attribution(_ a: ContainerAttribution, _ f: Fixture) -> Attribution { f.event.withView { a.attribute($0) } }

    func testPathsThatNameTheContainer() {
        let a = attribution()
        let r = attribution(a, mount(comm: "containerd", target: "/run/containerd/io.containerd.runtime.v2.task/k8s.io/web1/rootfs"))
        XCTAssertEqual(r.container?.identity, ContainerIdentity(id: "web1", runtime: .containerd, containerdNamespace: "k8s.io"))
        XCTAssertEqual(r.reason, .engine)
        XCTAssertEqual(r.actor, .engine)
        XCTAssertEqual(attribute(a, mount(target: "/var/lib/docker/containers/\(dockerID)/mounts/shm"))?.id, dockerID)
        // a docker id must be whole: 63 hex digits name nothing
        XCTAssertNil(attribute(a, mount(target: "/var/lib/docker/containers/\(dockerID.dropLast())/mounts/shm")))
    }

    func testACutPathNamesNothing() {
        let a = attribution()
        var f = mount(target: "/run/containerd/io.containerd.runtime.v2.task/moby/" + String(repeating: "a", count: 600))
        XCTAssertTrue(f.event.withView { $0.isTruncated(slot: 1) })
        XCTAssertNil(attribute(a, f))
        f = mount(target: "/var/lib/docker/containers/" + dockerID + "/" + String(repeating: "x", count: 600))
        XCTAssertNil(attribute(a, f), "an id inside a cut path is not taken")
    }

    func testOverlayMountIDLearnedFromTheRuntimesRootfsBind() {
        let a = attribution()
        let merged = "/var/lib/docker/overlay2/\(mountID)/merged"
        XCTAssertNil(attribute(a, mount(target: merged, ts: 100)), "nothing ties it yet (live has no layerdb here)")
        // the runtime, known by its cgroup, binds that root filesystem onto itself
        let paths = RecordedCgroupPaths([1: "/", 99: "/docker/" + dockerID])
        let b = ContainerAttribution(cgroups: paths, hostNamespaces: NamespaceSet(host))
        var bind = mount(comm: "runc:[2:INIT]", pid: 60, source: merged, target: merged, ts: 200)
        bind.e.cgroup_id = 99
        bind.setArg(3, 0x1000 | 0x4000)
        XCTAssertEqual(attribute(b, bind)?.id, dockerID)
        XCTAssertEqual(attribute(b, mount(target: "/var/lib/docker/overlay2/\(mountID)-init/merged", ts: 300))?.id, dockerID)
        // a recording looks back: a second pass knows it from the start
        let c = attribution()
        c.hindsight = b.hindsightSnapshot()
        let looked = attribution(c, mount(target: merged, ts: 100))
        XCTAssertEqual(looked.container?.id, dockerID)
        XCTAssertEqual(looked.reason, .later)
    }

    func testHindsightTakesTheOwnerAfterTheEventWhenAnInodeIsReused() {
        let first = ContainerIdentity(id: "podman-one", runtime: .podman)
        let second = ContainerIdentity(id: "ctr-two", runtime: .containerd)
        let h = Hindsight(namespaces: [4_026_532_473: [(first, 2000), (second, 9000)]], evidence: .init())
        var unshare = Fixture(.unshare, comm: "podman")
        unshare.e.flags = UInt32(NST_F_NS_BEFORE)
        unshare.e.cgroup_id = 1
        unshare.setNs(Int(NST_NS_NET), 4_026_532_473)
        unshare.e.ts_ns = 1500
        let a = attribution()
        a.hindsight = h
        XCTAssertEqual(attribute(a, unshare)?.id, "podman-one")
        unshare.e.ts_ns = 5000
        let b = attribution()
        b.hindsight = h
        XCTAssertEqual(attribute(b, unshare)?.id, "ctr-two")
        unshare.e.ts_ns = 9001
        let c = attribution()
        c.hindsight = h
        XCTAssertNil(attribute(c, unshare), "after its last known owner: nothing to look back to")
    }

    func testLayerDBBadStateGivesNothingAndNoDelay() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nst-layerdb-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let mounts = root + "/image/overlay2/layerdb/mounts"
        XCTAssertNil(DockerLayerDB(dockerRoot: root).containerID(mountID: mountID), "missing state")
        try FileManager.default.createDirectory(atPath: mounts, withIntermediateDirectories: true)
        func entry(_ id: String) throws -> String {
            let dir = mounts + "/" + id
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            return dir
        }
        let ids = (0..<5).map { String(repeating: String($0), count: 64) }
        // a FIFO (a read would block), a symlink to the real answer, a half-written and a hostile file
        XCTAssertEqual(mkfifo(try entry(ids[0]) + "/mount-id", 0o600), 0)
        let real = root + "/elsewhere"
        try mountID.write(toFile: real, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: try entry(ids[1]) + "/mount-id", withDestinationPath: real)
        try Data().write(to: URL(fileURLWithPath: try entry(ids[2]) + "/mount-id"))
        try "\u{1B}[2J\(mountID)\n".write(toFile: try entry(ids[3]) + "/mount-id", atomically: true, encoding: .utf8)
        try "not-a-container".write(toFile: mounts + "/README", atomically: true, encoding: .utf8)
        let db = DockerLayerDB(dockerRoot: root)
        let start = Date()
        XCTAssertNil(db.containerID(mountID: mountID))
        XCTAssertLessThan(Date().timeIntervalSince(start), 1, "bad state must not block")
        // a good entry is found
        try "\(mountID)\n".write(toFile: try entry(ids[4]) + "/mount-id", atomically: true, encoding: .utf8)
        usleep(10_000)
        XCTAssertEqual(DockerLayerDB(dockerRoot: root).containerID(mountID: mountID), ids[4])
    }

    /// Every prefix of the one table is recognised: the cheap byte test lets it through and
    /// `fromPath` finds the container a path under it names (the switch is exhaustive, so a new
    /// kind needs a case here).
    func testEveryEnginePrefixIsRecognised() {
        let podmanID = String(repeating: "ef", count: 32)
        let layer = String(repeating: "12", count: 32)
        let docker = ContainerIdentity(id: dockerID, runtime: .docker, containerdNamespace: "moby")
        let podman = ContainerIdentity(id: podmanID, runtime: .podman)
        var learned = EngineEvidence.Learned()
        learned.overlayMounts[mountID] = (docker, 10)
        learned.podmanLayers[layer] = (podman, 10)
        let hindsight = Hindsight(namespaces: [:], evidence: learned)
        XCTAssertEqual(EngineEvidence.enginePaths.count, 7)
        for (prefix, kind) in EngineEvidence.enginePaths {
            let (rest, expected): (String, ContainerIdentity) = switch kind {
            case .containerdTask: ("k8s.io/web1/rootfs", ContainerIdentity(id: "web1", runtime: .containerd, containerdNamespace: "k8s.io"))
            case .dockerContainer: (dockerID + "/config.json", docker)
            case .podmanContainer: (podmanID + "/userdata/shm", podman)
            case .dockerOverlay: (mountID + "-init/merged", docker)
            case .podmanOverlay: (layer + "/merged", podman)
            }
            let path = prefix + rest
            let f = mount(target: path, ts: 100)
            XCTAssertTrue(f.event.withView { EngineEvidence.underEnginePrefix($0.string(1)) }, path)
            let a = attribution()
            a.hindsight = hindsight
            XCTAssertEqual(attribute(a, f)?.identity, expected, path)
            // and a path that only shares the prefix names nothing
            XCTAssertNil(attribute(attribution(), mount(target: prefix + "x", ts: 100)), prefix)
        }
    }

    func testSetkeyHookTiesDockerdsNetnsFile() {
        let a = attribution()
        var exec = Fixture(.exec, comm: "exe")
        exec.e.pid = 70
        exec.e.tid = 70
        exec.e.cgroup_id = 1
        exec.setString(0, "/proc/50/exe")
        exec.setString(1, Array(["libnetwork-setkey", "-exec-root=/var/run/docker", dockerID, "5334b656335e1234"].joined(separator: "\0").utf8))
        XCTAssertEqual(attribute(a, exec)?.id, dockerID)
        XCTAssertEqual(attribute(a, mount(source: "/proc/77/ns/net", target: "/var/run/docker/netns/5334b656335e"))?.id, dockerID)
        XCTAssertNil(attribute(a, mount(target: "/var/run/docker/netns/000000000000")))
    }
}

final class ResolvedPathJoinTests: XCTestCase {
    func testJoinAndInside() {
        XCTAssertEqual(ResolvedPath.join(Array("/a/b".utf8), Array("c/./d".utf8)), Array("/a/b/c/d".utf8))
        XCTAssertEqual(ResolvedPath.join(Array("/a/b".utf8), Array("..".utf8)), Array("/a".utf8))
        XCTAssertEqual(ResolvedPath.join(Array("/".utf8), Array("".utf8)), Array("/".utf8))
        let p = ResolvedPath(path: Array("/var/lib/x/merged/outside-home".utf8), truncated: false, detached: false)
        XCTAssertEqual(p.inside(rootfs: Array("/var/lib/x/merged".utf8)), Array("/outside-home".utf8))
        XCTAssertNil(p.inside(rootfs: Array("/var/lib/x/merge".utf8)), "a prefix that is not a path component")
        XCTAssertNil(ResolvedPath(path: p.path, truncated: true, detached: false).inside(rootfs: Array("/var/lib/x/merged".utf8)))
    }
}
