import NstraceABI
import XCTest
@testable import NstraceCore

/// Issue 8: an id taken from a cut argv is not an id. The BPF side copies 511 bytes of argv
/// (and, when cut, its last 511 bytes too); `docker exec`'s runc argv is longer than that.
final class CutArgvTests: XCTestCase {
    let host: [UInt32] = (0..<10).map { 4_026_531_835 + UInt32($0) }
    let dockerID = "3f2a9c1b7d8e4f6a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a"

    /// `runc --root … exec --process … --pid-file … <id>`, as the shim runs it for `docker exec`.
    var dockerExecArgv: [String] {
        let task = "/run/containerd/io.containerd.runtime.v2.task/moby/\(dockerID)"
        return ["runc", "--root", "/var/run/docker/runtime-runc/moby", "--log", "\(task)/log.json", "--log-format", "json",
                "--systemd-cgroup", "exec", "--process", "/tmp/runc-process2950382913", "--console-socket", "/tmp/pty1293/pty.sock",
                "--detach", "--pid-file", "\(task)/0e9c4f1d2b7a9e3c5d1f0a8b6c4e2d0f9a7b5c3e1d9f7b5a3c1e9d7f5b3a1c9e.pid", dockerID]
    }

    /// An exec event as the BPF side makes it: argv cut at 511 bytes, tail in slot 2 or not.
    func execEvent(tgid: UInt32, lineageBefore: UInt32, argv: [String], withTail: Bool) -> Fixture {
        var f = Fixture(.exec, comm: "runc")
        f.e.pid = tgid
        f.e.tid = tgid
        f.e.cgroup_id = 1
        f.setAux(0, UInt64(lineageBefore))
        f.setAux(1, 1)
        f.setString(0, "/usr/sbin/runc")
        let bytes = Array(argv.joined(separator: "\0").utf8) + [0]
        XCTAssertGreaterThan(bytes.count, 512, "the fixture argv must be longer than a string slot")
        f.setString(1, Array(bytes.prefix(511)))
        f.e.flags |= UInt32(NST_F_STR1_TRUNC)
        if withTail { f.setString(2, Array(bytes.suffix(511).dropLast())) }
        return f
    }

    func testCutArgvWithoutTailNamesNoContainerNeverAPrefix() {
        let f = execEvent(tgid: 700, lineageBefore: 0, argv: dockerExecArgv, withTail: false)
        f.event.withView { ev in
            let args = ev.execArguments
            XCTAssertTrue(args.cut)
            XCTAssertNil(args.last)
            XCTAssertNil(RuntimeCommandLine.identify(filename: "/usr/sbin/runc", arguments: args))
            // every argument kept is whole: none is a prefix of a longer real one
            for a in args.head { XCTAssertTrue(dockerExecArgv.contains(a), "cut argument kept: \(a)") }
        }
        let a = ContainerAttribution(cgroups: RecordedCgroupPaths([1: "/"]), hostNamespaces: NamespaceSet(host))
        XCTAssertNil(f.event.withView { a.attribute($0).container }, "a cut argv with no lineage gives null")
        XCTAssertTrue(a.containers.isEmpty, "no container made up from a cut id: \(a.containers.map(\.id))")
    }

    func testCutArgvWithTailGivesTheFullID() {
        let f = execEvent(tgid: 700, lineageBefore: 0, argv: dockerExecArgv, withTail: true)
        let a = ContainerAttribution(cgroups: RecordedCgroupPaths([1: "/"]), hostNamespaces: NamespaceSet(host))
        let record = f.event.withView { a.attribute($0).container }
        XCTAssertEqual(record?.id, dockerID)
        XCTAssertEqual(record?.identity.runtime, .docker)
    }

    func testCutArgvInheritsTheShimsID() {
        let a = ContainerAttribution(cgroups: RecordedCgroupPaths([1: "/"]), hostNamespaces: NamespaceSet(host))
        var shim = Fixture(.exec, comm: "containerd-shim")
        shim.e.pid = 600
        shim.e.tid = 600
        shim.e.cgroup_id = 1
        shim.setAux(1, 1)
        shim.setString(0, "/usr/bin/containerd-shim-runc-v2")
        shim.setString(1, Array(["/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", dockerID,
                                 "-address", "/run/containerd/containerd.sock"].joined(separator: "\0").utf8))
        XCTAssertEqual(shim.event.withView { a.attribute($0).container }?.id, dockerID)
        let runc = execEvent(tgid: 700, lineageBefore: 600, argv: dockerExecArgv, withTail: false)
        XCTAssertEqual(runc.event.withView { a.attribute($0).container }?.id, dockerID, "the shim's -id, not a prefix from the cut argv")
        XCTAssertEqual(a.containers.map(\.id), [dockerID])
    }

    func testACutShimFlagValueIsNotTaken() {
        // `-id` is the last whole argument of the head: its value was cut away
        let args = ExecArguments(head: ["containerd-shim-runc-v2", "-namespace", "moby", "-id"], tail: ["-address", "/run/x.sock"], cut: true)
        XCTAssertNil(RuntimeCommandLine.identify(filename: "/usr/bin/containerd-shim-runc-v2", arguments: args))
    }
}

/// The container argument is the first one after the subcommand's options, not the last.
final class ContainerArgumentTests: XCTestCase {
    func id(_ argv: [String]) -> String? {
        RuntimeCommandLine.identify(filename: "/usr/sbin/" + argv[0], argv: argv)?.id
    }

    func testExecWithACommandAndKillWithASignal() {
        XCTAssertEqual(id(["runc", "exec", "web1", "true"]), "web1")
        XCTAssertEqual(id(["runc", "exec", "-t", "--cwd", "/", "web1", "sh", "-c", "x"]), "web1")
        XCTAssertEqual(id(["crun", "exec", "web2", "true"]), "web2")
        XCTAssertEqual(id(["runc", "--root", "/run/containerd/runc/k8s", "kill", "web1", "9"]), "web1")
        XCTAssertEqual(id(["runc", "kill", "--all", "web1", "KILL"]), "web1")
        XCTAssertEqual(id(["crun", "delete", "-f", "web2"]), "web2")
        XCTAssertEqual(id(["runc", "ps", "-f", "json", "web1"]), "web1")
    }

    func testAnUnknownOptionGivesNoID() {
        XCTAssertNil(id(["runc", "exec", "--some-new-option", "value", "web1", "true"]))
    }

    func testCutExecWithACommandTakesNoTail() {
        // `runc exec <long options…> <id> sh -c …` cut before the id: the tail ends in the command
        let args = ExecArguments(head: ["runc", "exec", "--cwd", "/"], tail: ["sh", "-c", "echo"], cut: true)
        XCTAssertNil(RuntimeCommandLine.identify(filename: "/usr/sbin/runc", arguments: args))
    }
}

final class CtrCommandLineTests: XCTestCase {
    func testCtrRunNamesItsContainer() {
        let argv = ["ctr", "-n", "nstrace-e2e", "run", "-d", "--rm", "--env", "A=b", "docker.io/x/busybox:latest", "web3", "sleep", "1"]
        XCTAssertEqual(RuntimeCommandLine.identify(filename: "/usr/bin/ctr", argv: argv),
                       ContainerIdentity(id: "web3", runtime: .containerd, containerdNamespace: "nstrace-e2e"))
        XCTAssertNil(RuntimeCommandLine.identify(filename: "/usr/bin/ctr", argv: ["ctr", "task", "ls"]))
        XCTAssertNil(RuntimeCommandLine.identify(filename: "/usr/bin/ctr", argv: ["ctr", "run", "image"]))
    }
}
