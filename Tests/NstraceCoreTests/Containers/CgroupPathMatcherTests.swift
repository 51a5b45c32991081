import XCTest
@testable import NstraceCore

/// Real-looking cgroup paths of every layout the matcher knows, positive and negative.
/// Paths are relative to the cgroup root, as in /proc/PID/cgroup.
final class CgroupPathMatcherTests: XCTestCase {
    private let idA = "9b81a1700b37d6ffd290226c5697cc58dc621b974ceee7820e48eee8811eb319"
    private let idB = "79134a3399f8c34a8d79a1443d1dfcbb7a7d0694ea1e4e4157699861f96853ea"
    private let podUID = "0fac00fb-59b9-4289-a0cf-359c48c7519b"
    private var podUIDUnderscored: String { podUID.replacingOccurrences(of: "-", with: "_") }
    /// Static (mirror) pods have a 32-hex hash as UID.
    private let staticPodUID = "492e6b9c1419ccd132ea926337c3482e"

    private func assertIdentity(
        _ path: String, _ expected: ContainerIdentity, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(CgroupPathMatcher.identify(cgroupPath: path), expected, path, file: file, line: line)
    }

    private func assertHost(_ path: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNil(CgroupPathMatcher.identify(cgroupPath: path), path, file: file, line: line)
    }

    // MARK: docker

    func testDockerCgroupfsDriver() {
        assertIdentity("/docker/\(idA)", ContainerIdentity(id: idA, runtime: .docker))
    }

    func testDockerSystemdDriver() {
        assertIdentity("/system.slice/docker-\(idA).scope", ContainerIdentity(id: idA, runtime: .docker))
    }

    func testDockerRootless() {
        assertIdentity("/user.slice/user-1000.slice/user@1000.service/user.slice/docker-\(idA).scope",
                       ContainerIdentity(id: idA, runtime: .docker))
    }

    func testDockerInDockerGivesInnermost() {
        assertIdentity("/docker/\(idA)/docker/\(idB)", ContainerIdentity(id: idB, runtime: .docker))
    }

    func testDockerSubCgroupOfContainer() {
        assertIdentity("/docker/\(idA)/init.scope", ContainerIdentity(id: idA, runtime: .docker))
    }

    func testDockerNegatives() {
        assertHost("/docker")
        assertHost("/docker/")
        assertHost("/docker/buildkit")
        assertHost("/docker/\(idA.dropLast())")          // 63 hex digits
        assertHost("/docker/\(idA.uppercased())")        // docker ids are lowercase
        assertHost("/system.slice/docker.service")
        assertHost("/system.slice/docker.socket")
        assertHost("/system.slice/docker-\(idA).service")
        assertHost("/system.slice/containerd.service")
    }

    // MARK: containerd

    func testContainerdCtrNamespaceLayout() {
        assertIdentity("/default/myctr", ContainerIdentity(id: "myctr", runtime: .containerd, containerdNamespace: "default"))
        assertIdentity("/rtdemo/rtdemo123-ctr",
                       ContainerIdentity(id: "rtdemo123-ctr", runtime: .containerd, containerdNamespace: "rtdemo"))
        assertIdentity("/k8s.io/\(idA)", ContainerIdentity(id: idA, runtime: .containerd, containerdNamespace: "k8s.io"))
        assertIdentity("/moby/web_1.v2", ContainerIdentity(id: "web_1.v2", runtime: .containerd, containerdNamespace: "moby"))
    }

    func testContainerdCRIScopeWithoutPod() {
        assertIdentity("/system.slice/cri-containerd-\(idA).scope", ContainerIdentity(id: idA, runtime: .containerd))
    }

    func testContainerdSystemdCgroupsPathTakenLiterally() {
        let expected = ContainerIdentity(id: idA, runtime: .kubernetes, podUID: podUID)
        assertIdentity("/kubepods-besteffort-pod\(podUIDUnderscored).slice:cri-containerd:\(idA)", expected)
        assertIdentity("/system.slice/containerd.service/kubepods-burstable-pod\(podUIDUnderscored).slice:cri-containerd:\(idA)",
                       expected)
        assertIdentity("/system.slice:cri-containerd:\(idA)", ContainerIdentity(id: idA, runtime: .containerd))
        assertIdentity("/kubepods-pod\(podUIDUnderscored).slice:crio:\(idA)", expected)
    }

    func testContainerdNegatives() {
        assertHost("/default/my ctr")           // space: not an id
        assertHost("/default/.hidden")
        assertHost("/default/-dash")
        assertHost("/a..b/ctr")                 // not a containerd namespace name
        assertHost("/_ns/ctr")
        assertHost("/ns-/ctr")
        assertHost("/default/ctr/extra")        // three plain components: unknown
        assertHost("/system.slice/foo.service")
        assertHost("/default/init.scope")
        assertHost("/kubepods-besteffort-pod\(podUIDUnderscored).slice:cri-containerd:notanid")
        assertHost("/x:unknown-runtime:\(idA)")
        assertHost("/\(String(repeating: "n", count: 77))/ctr")   // namespace longer than containerd allows
    }

    // MARK: CRI-O

    func testCRIO() {
        assertIdentity("/crio-\(idA)", ContainerIdentity(id: idA, runtime: .crio))
        assertIdentity("/system.slice/crio-\(idA).scope", ContainerIdentity(id: idA, runtime: .crio))
        assertIdentity("/kubepods/burstable/pod\(podUID)/crio-\(idA)",
                       ContainerIdentity(id: idA, runtime: .kubernetes, podUID: podUID))
        assertIdentity("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(podUIDUnderscored).slice/crio-\(idA).scope",
                       ContainerIdentity(id: idA, runtime: .kubernetes, podUID: podUID))
    }

    func testCRIOConmonIsNotTheContainer() {
        assertHost("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(podUIDUnderscored).slice/crio-conmon-\(idA).scope")
        assertHost("/system.slice/crio-conmon-\(idA).scope")
        assertHost("/crio-conmon-\(idA)")
        assertHost("/kubepods/burstable/pod\(podUID)/crio-conmon-\(idA)")
        assertHost("/system.slice/crio.service")
    }

    // MARK: podman

    func testPodman() {
        let expected = ContainerIdentity(id: idA, runtime: .podman)
        assertIdentity("/libpod_parent/libpod-\(idA)", expected)
        assertIdentity("/libpod_parent/libpod-\(idA)/container", expected)
        assertIdentity("/machine.slice/libpod-\(idA).scope", expected)
        assertIdentity("/machine.slice/libpod-\(idA).scope/container", expected)
        assertIdentity("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-\(idA).scope", expected)
        assertIdentity("/machine.slice/machine-libpod_pod_\(idB).slice/libpod-\(idA).scope/container", expected)
        assertIdentity("/libpod-\(idA)", expected)
    }

    func testPodmanNegatives() {
        assertHost("/libpod_parent")
        assertHost("/libpod_parent/conmon")
        assertHost("/libpod_parent/libpod-conmon-\(idA)")
        assertHost("/machine.slice/libpod-conmon-\(idA).scope")
        assertHost("/libpod-conmon-\(idA)")
        assertHost("/machine.slice/machine-libpod_pod_\(idB).slice")
        assertHost("/machine.slice/machine-libpod_pod_\(idB).slice/libpod-conmon-\(idA).scope")
    }

    // MARK: Kubernetes

    func testKubepodsCgroupfsDriver() {
        let expected = ContainerIdentity(id: idA, runtime: .kubernetes, podUID: podUID)
        assertIdentity("/kubepods/burstable/pod\(podUID)/\(idA)", expected)
        assertIdentity("/kubepods/besteffort/pod\(podUID)/\(idA)", expected)
        assertIdentity("/kubepods/pod\(podUID)/\(idA)", expected)               // guaranteed QoS
        assertIdentity("/kubepods/burstable/pod\(podUID)/docker/\(idA)", expected)
        assertIdentity("/kubepods/burstable/pod\(staticPodUID)/\(idA)",
                       ContainerIdentity(id: idA, runtime: .kubernetes, podUID: staticPodUID))
    }

    func testKubepodsSystemdDriver() {
        let expected = ContainerIdentity(id: idA, runtime: .kubernetes, podUID: podUID)
        assertIdentity("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(podUIDUnderscored).slice/cri-containerd-\(idA).scope",
                       expected)
        assertIdentity("/kubepods.slice/kubepods-pod\(podUIDUnderscored).slice/cri-containerd-\(idA).scope", expected)
        assertIdentity("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(podUIDUnderscored).slice/docker-\(idA).scope",
                       expected)
        assertIdentity("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(podUIDUnderscored).slice/\(idA)",
                       expected)
    }

    func testKindNodeInsideDocker() {
        let path = "/system.slice/docker-\(idB).scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
            + "kubelet-kubepods-besteffort-pod\(podUIDUnderscored).slice/cri-containerd-\(idA).scope"
        assertIdentity(path, ContainerIdentity(id: idA, runtime: .kubernetes, podUID: podUID))
    }

    func testKubepodsNegatives() {
        assertHost("/kubepods")
        assertHost("/kubepods.slice")
        assertHost("/kubepods/burstable")
        assertHost("/kubepods/burstable/pod\(podUID)")
        assertHost("/kubepods.slice/kubepods-burstable.slice")
        assertHost("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(podUIDUnderscored).slice")
        assertHost("/kubepods/burstable/pod\(podUID)/not-a-container-id")
        assertHost("/kubepods/burstable/podnot-a-uid/\(idA)")
        assertHost("/pod\(podUID)/\(idA)")                 // a pod cgroup needs kubepods above it
        assertHost("/kubepods/burstable/pod\(podUID.uppercased())/\(idA)")
    }

    // MARK: LXC

    func testLXC() {
        assertIdentity("/lxc/c1", ContainerIdentity(id: "c1", runtime: .lxc, name: "c1"))
        assertIdentity("/lxc.payload.c1", ContainerIdentity(id: "c1", runtime: .lxc, name: "c1"))
        assertIdentity("/lxc.payload/web-01", ContainerIdentity(id: "web-01", runtime: .lxc, name: "web-01"))
        assertIdentity("/lxc.payload.web-01/init.scope", ContainerIdentity(id: "web-01", runtime: .lxc, name: "web-01"))
        assertIdentity("/lxc.payload.db.prod/system.slice/cron.service",
                       ContainerIdentity(id: "db.prod", runtime: .lxc, name: "db.prod"))
        assertIdentity("/lxc/c1/sub", ContainerIdentity(id: "c1", runtime: .lxc, name: "c1"))
    }

    func testLXCMonitorIsNotTheContainer() {
        assertHost("/lxc")
        assertHost("/lxc.payload")
        assertHost("/lxc.monitor.c1")
        assertHost("/lxc.monitor/c1")
        assertHost("/lxc.pivot")
        assertHost("/lxc.payload.")
    }

    // MARK: systemd-nspawn

    func testNspawn() {
        assertIdentity("/machine.slice/machine-debian.scope", ContainerIdentity(id: "debian", runtime: .nspawn, name: "debian"))
        assertIdentity(#"/machine.slice/machine-my\x2dcontainer.scope"#,
                       ContainerIdentity(id: "my-container", runtime: .nspawn, name: "my-container"))
        assertIdentity("/machine.slice/machine-foo.scope/payload", ContainerIdentity(id: "foo", runtime: .nspawn, name: "foo"))
        assertIdentity("/machine.slice/machine-foo.scope/payload/system.slice/cron.service",
                       ContainerIdentity(id: "foo", runtime: .nspawn, name: "foo"))
    }

    func testNspawnNegatives() {
        assertHost("/machine.slice")
        assertHost("/machine.slice/machine-foo.scope/supervisor")
        assertHost(#"/machine.slice/machine-qemu\x2d1\x2dvm1.scope"#)     // a libvirt VM
        assertHost(#"/machine.slice/machine-bad\x2.scope"#)              // broken escape
        assertHost("/machine.slice/machine-.scope")
        assertHost("/machine.slice/machine-foo.slice")
    }

    func testSystemdUnescape() {
        XCTAssertEqual(CgroupPathMatcher.unescapeSystemdUnitName(#"a\x2db\x5cc"#), #"a-b\c"#)
        XCTAssertNil(CgroupPathMatcher.unescapeSystemdUnitName(#"a\x"#))
        XCTAssertNil(CgroupPathMatcher.unescapeSystemdUnitName(#"a\xzz"#))
        XCTAssertNil(CgroupPathMatcher.unescapeSystemdUnitName(#"\"#))
    }

    // MARK: runc / crun cgroupsPath

    func testRuncCrunDefaultCgroupsPath() {
        assertIdentity("/mycontainer", ContainerIdentity(id: "mycontainer", runtime: .runc))
        assertIdentity("/rtdemo-crun-1", ContainerIdentity(id: "rtdemo-crun-1", runtime: .runc))
        assertIdentity("/\(idA)", ContainerIdentity(id: idA, runtime: .runc))
        assertIdentity("/mycontainer/", ContainerIdentity(id: "mycontainer", runtime: .runc))
    }

    // MARK: the host's own cgroups

    func testWellKnownHostCgroupsAreNotContainers() {
        for path in [
            "", "/", "//", "/init.scope", "/system.slice", "/user.slice", "/machine.slice",
            "/system.slice/ssh.service", "/system.slice/systemd-journald.service", "/system.slice/dev-hugepages.mount",
            "/system.slice/dbus.socket", "/user.slice/user-1000.slice", "/user.slice/user-0.slice/session-3.scope",
            "/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.service",
            "/docker", "/libpod_parent", "/kubepods", "/lxc", "/podruntime", "/system", "/kubelet", "/containerd",
            "/.hidden", "/-x", "/a b", "/a/b/c", "/üñï", "/user/init.scope",
        ] {
            assertHost(path)
        }
    }

    func testPathsOutsideOurCgroupNamespace() {
        assertHost("/../docker/\(idA)")
        assertHost("/../../mycontainer")
    }

    // MARK: mount-point prefixes (not stripped, by design)

    func testMountPointPrefixIsNotStripped() {
        // Distinctive layouts are found by component, so they survive a prefix ...
        assertIdentity("/sys/fs/cgroup/unified/docker/\(idA)", ContainerIdentity(id: idA, runtime: .docker))
        assertIdentity("/sys/fs/cgroup/system.slice/docker-\(idA).scope", ContainerIdentity(id: idA, runtime: .docker))
        assertIdentity("/sys/fs/cgroup/memory/libpod_parent/libpod-\(idA)", ContainerIdentity(id: idA, runtime: .podman))
        // ... while the depth-based guesses do not fire on a prefixed path: nil, not a wrong id.
        assertHost("/sys/fs/cgroup/unified/default/myctr")
        assertHost("/sys/fs/cgroup/unified/mycontainer")
        assertHost("/sys/fs/cgroup/mycontainer")
    }

    // MARK: /proc/PID/cgroup contents

    func testProcCgroupPrefersTheUnifiedLine() {
        let contents = """
        9:name=systemd:/
        4:memory:/docker/\(idB)
        0::/docker/\(idA)

        """
        XCTAssertEqual(CgroupPathMatcher.identify(procCgroupContents: contents), ContainerIdentity(id: idA, runtime: .docker))
    }

    func testProcCgroupOfThisSandboxIsTheHost() {
        // This machine: a host agent groups processes under memory:/process_api/<hex>.
        let contents = """
        9:name=systemd:/
        8:pids:/
        4:memory:/process_api/1675015d7a3d74fd392b8694392b846b
        3:cpuset:/
        0::/

        """
        XCTAssertNil(CgroupPathMatcher.identify(procCgroupContents: contents))
    }

    func testProcCgroupFallsBackToLegacyHierarchies() {
        let docker = """
        12:pids:/docker/\(idA)
        11:memory:/docker/\(idA)
        1:name=systemd:/docker/\(idA)
        0::/
        """
        XCTAssertEqual(CgroupPathMatcher.identify(procCgroupContents: docker), ContainerIdentity(id: idA, runtime: .docker))

        let runcOnPureV1 = """
        5:pids:/mycontainer
        4:memory:/mycontainer
        3:cpu,cpuacct:/mycontainer
        """
        XCTAssertEqual(CgroupPathMatcher.identify(procCgroupContents: runcOnPureV1),
                       ContainerIdentity(id: "mycontainer", runtime: .runc))
    }

    func testProcCgroupLegacyDisagreementOrLoneGuessIsNil() {
        let disagree = """
        4:memory:/docker/\(idA)
        5:pids:/docker/\(idB)
        """
        XCTAssertNil(CgroupPathMatcher.identify(procCgroupContents: disagree))
        XCTAssertNil(CgroupPathMatcher.identify(procCgroupContents: "4:memory:/agent/abc\n5:pids:/\n"))
    }

    func testProcCgroupPathWithColons() {
        let contents = "0::/kubepods-besteffort-pod\(podUIDUnderscored).slice:cri-containerd:\(idA)\n"
        XCTAssertEqual(CgroupPathMatcher.identify(procCgroupContents: contents),
                       ContainerIdentity(id: idA, runtime: .kubernetes, podUID: podUID))
    }

    func testProcCgroupGarbage() {
        for contents in ["", "\n\n", "garbage", "0:", "::::", "0::", "x:y:z:/docker/\(idA)"] {
            _ = CgroupPathMatcher.identify(procCgroupContents: contents)  // must not crash
        }
        XCTAssertNil(CgroupPathMatcher.identify(procCgroupContents: "0::"))
    }

    func testThisProcessMatchesWhateverItIsWithoutCrashing() throws {
        let contents = try String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)
        _ = CgroupPathMatcher.identify(procCgroupContents: contents)
    }

    // MARK: hostile input

    func testHostileInputNeverCrashes() {
        var generator = SplitMix(seed: 0x6e73_7472_6163_65)
        let alphabet = Array("/-_.:\\x2dabcdef0123456789 pod kubepods docker crio libpod lxc machine scope slice \u{0}\u{FFFD}é")
        for _ in 0..<5_000 {
            let length = Int(generator.next() % 200)
            let path = String((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
            if let identity = CgroupPathMatcher.identify(cgroupPath: path) {
                XCTAssertFalse(identity.id.isEmpty, path)
                XCTAssertFalse(identity.id.contains("/"), path)
            }
        }
        _ = CgroupPathMatcher.identify(cgroupPath: String(repeating: "/a", count: 100_000))
        _ = CgroupPathMatcher.identify(cgroupPath: "/" + String(repeating: "x", count: 1_000_000))
    }

    func testLexicalRules() {
        XCTAssertTrue(CgroupPathMatcher.isContainerdNamespace("k8s.io"))
        XCTAssertTrue(CgroupPathMatcher.isContainerdNamespace("a-b_c.d"))
        XCTAssertFalse(CgroupPathMatcher.isContainerdNamespace("a--b"))
        XCTAssertFalse(CgroupPathMatcher.isContainerdNamespace("a."))
        XCTAssertFalse(CgroupPathMatcher.isContainerdNamespace(""))
        XCTAssertTrue(CgroupPathMatcher.isPlainID("A1_b.c-d"))
        XCTAssertFalse(CgroupPathMatcher.isPlainID("_a"))
        XCTAssertFalse(CgroupPathMatcher.isPlainID(""))
        XCTAssertEqual(CgroupPathMatcher.podUID(inComponent: "pod\(podUID)"[...]), podUID)
        XCTAssertEqual(CgroupPathMatcher.podUID(inComponent: "kubepods-burstable-pod\(podUIDUnderscored).slice"[...]), podUID)
        XCTAssertNil(CgroupPathMatcher.podUID(inComponent: "system-pod\(podUIDUnderscored).slice"[...]))
        XCTAssertNil(CgroupPathMatcher.podUID(inComponent: "podman"[...]))
    }
}
