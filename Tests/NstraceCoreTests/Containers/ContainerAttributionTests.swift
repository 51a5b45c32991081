import NstraceABI
import XCTest
@testable import NstraceCore

/// Attribution from bytes: the three sources (cgroup, runtime lineage, namespaces) and the
/// inode-reuse guard, with the host's namespaces at 4026531835+slot as in `Fixture`.
final class ContainerAttributionTests: XCTestCase {
    let host: [UInt32] = (0..<10).map { 4_026_531_835 + UInt32($0) }
    let dockerID = String(repeating: "ab", count: 32)

    func attribute(_ a: ContainerAttribution, _ f: Fixture) -> ContainerRecord? {
        f.event.withView { a.attribute($0).container }
    }

    func exec(tgid: UInt32, lineageBefore: UInt32, runtime: Bool, file: String, argv: [String]) -> Fixture {
        var f = Fixture(.exec, comm: "runc")
        f.e.pid = tgid
        f.e.tid = tgid
        f.e.cgroup_id = 1
        f.setAux(0, UInt64(lineageBefore))
        f.setAux(1, runtime ? 1 : 0)
        f.setString(0, file)
        f.setString(1, Array(argv.joined(separator: "\0").utf8))
        return f
    }

    func testCgroupOfADockerContainer() {
        let paths = RecordedCgroupPaths([99: "/docker/" + dockerID, 1: "/"])
        let a = ContainerAttribution(cgroups: paths, hostNamespaces: NamespaceSet(host))
        var f = Fixture(.mount)
        f.e.cgroup_id = 99
        XCTAssertEqual(attribute(a, f)?.id, dockerID)
        XCTAssertEqual(attribute(a, f)?.identity.runtime, .docker)
        f.e.cgroup_id = 1
        XCTAssertNil(attribute(a, f), "the root cgroup is the host")
    }

    func testCgroupLearnedFromMkdirResolvesAfterTheContainerIsGone() {
        let a = ContainerAttribution(cgroups: RecordedCgroupPaths(), hostNamespaces: NamespaceSet(host))
        var mkdir = Fixture(.cgroupMkdir, comm: "runc")
        mkdir.setAux(0, 1234)
        mkdir.setString(0, "/libpod_parent/libpod-" + dockerID)
        XCTAssertNil(attribute(a, mkdir))
        var f = Fixture(.unshare)
        f.e.cgroup_id = 1234
        XCTAssertEqual(attribute(a, f)?.identity, ContainerIdentity(id: dockerID, runtime: .podman))
    }

    func testRuntimeLineageAttributesTheFirstUnshareBeforeAnyCgroup() {
        let a = ContainerAttribution(cgroups: RecordedCgroupPaths([1: "/"]), hostNamespaces: NamespaceSet(host))
        XCTAssertEqual(attribute(a, exec(tgid: 500, lineageBefore: 0, runtime: true, file: "/usr/sbin/runc",
                                         argv: ["runc", "run", "-d", "-b", "/b", "web1"]))?.id, "web1")
        // runc re-executing itself as "runc init": no id in argv, inherits the lineage
        XCTAssertEqual(attribute(a, exec(tgid: 501, lineageBefore: 500, runtime: true, file: "/proc/self/exe",
                                         argv: ["runc", "init"]))?.id, "web1")
        var unshare = Fixture(.unshare, comm: "runc:[1:CHILD]")
        unshare.e.cgroup_id = 1
        unshare.e.lineage = 501
        unshare.e.flags = UInt32(NST_F_NS_BEFORE)
        unshare.setNs(Int(NST_NS_MNT), 4_026_532_700)
        let record = attribute(a, unshare)
        XCTAssertEqual(record?.id, "web1")
        XCTAssertEqual(record?.identity.runtime, .runc)

        // a host process that later enters that mount namespace is in the container
        var mount = Fixture(.mount, comm: "sh")
        mount.e.cgroup_id = 1
        mount.setNs(Int(NST_NS_MNT), 4_026_532_700)
        XCTAssertEqual(attribute(a, mount)?.id, "web1")
    }

    func testSetnsFromTheHostIsAJoinNotMembership() {
        let a = ContainerAttribution(cgroups: RecordedCgroupPaths([1: "/"]), hostNamespaces: NamespaceSet(host))
        var nsInodes = host
        nsInodes[Int(NST_NS_NET)] = 4_026_532_800
        nsInodes[Int(NST_NS_MNT)] = 4_026_532_801
        a.register(ContainerIdentity(id: dockerID, runtime: .docker), namespaces: NamespaceSet(nsInodes))
        let setns = Fixture.hostJoiningNetwork(4_026_532_800)
        let joined = setns.event.withView { a.attribute($0) }
        XCTAssertNil(joined.container, "nsenter is a host process")
        XCTAssertEqual(joined.target?.id, dockerID)
    }

    func testANamespaceCreatedAnewForgetsItsReusedInode() {
        let a = ContainerAttribution(cgroups: RecordedCgroupPaths([1: "/"]), hostNamespaces: NamespaceSet(host))
        var old = host
        old[Int(NST_NS_MNT)] = 4_026_532_900
        a.register(ContainerIdentity(id: "gone", runtime: .runc), namespaces: NamespaceSet(old))
        // a host process unshares a mount namespace that gets the dead container's inode
        var unshare = Fixture(.unshare, comm: "unshare")
        unshare.e.cgroup_id = 1
        unshare.e.flags = UInt32(NST_F_NS_BEFORE)
        unshare.setNs(Int(NST_NS_MNT), 4_026_532_900)
        XCTAssertNil(attribute(a, unshare))
        var mount = Fixture(.mount, comm: "mount")
        mount.e.cgroup_id = 1
        mount.setNs(Int(NST_NS_MNT), 4_026_532_900)
        XCTAssertNil(attribute(a, mount), "the inode now names a host namespace")
    }

    func testCommandLineConfirmsTheRuntimeTheCgroupOnlyGuessed() {
        // runc with cgroupsPath /demo/web2 looks like containerd namespace "demo" by its cgroup
        let a = ContainerAttribution(cgroups: RecordedCgroupPaths([5: "/demo/web2"]), hostNamespaces: NamespaceSet(host))
        var f = Fixture(.mount)
        f.e.cgroup_id = 5
        XCTAssertEqual(attribute(a, f)?.identity.runtime, .containerd)
        _ = attribute(a, exec(tgid: 600, lineageBefore: 0, runtime: true, file: "/usr/sbin/runc",
                              argv: ["runc", "run", "-d", "web2"]))
        let record = attribute(a, f)
        XCTAssertEqual(record?.identity.runtime, .runc)
        XCTAssertNil(record?.identity.containerdNamespace)
        XCTAssertTrue(String(decoding: record?.json ?? [], as: UTF8.self).contains("\"runtime\":\"runc\""))
    }

    func testMetadataIsAttachedWhenItArrives() {
        let a = ContainerAttribution(cgroups: RecordedCgroupPaths([99: "/docker/" + dockerID]), hostNamespaces: NamespaceSet(host))
        var f = Fixture(.mount)
        f.e.cgroup_id = 99
        XCTAssertEqual(attribute(a, f)?.column, Array(dockerID.prefix(12).utf8))
        a.apply(id: dockerID, name: "web", image: "busybox:latest")
        let record = attribute(a, f)
        XCTAssertEqual(record?.column, Array("web".utf8))
        let json = String(decoding: record?.json ?? [], as: UTF8.self)
        XCTAssertTrue(json.contains("\"name\":\"web\"") && json.contains("\"image\":\"busybox:latest\""), json)
    }
}
