import XCTest
@testable import NstraceCore

final class RuntimeCommandLineTests: XCTestCase {
    let dockerID = "3f2a9c1b7d8e4f6a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a"

    func testDockerRuncCreate() {
        let argv = ["runc", "--root", "/run/containerd/runc/moby", "--log", "/run/containerd/io.containerd.runtime.v2.task/moby/\(dockerID)/log.json",
                    "--log-format", "json", "create", "--bundle", "/run/containerd/io.containerd.runtime.v2.task/moby/\(dockerID)",
                    "--pid-file", "/run/containerd/io.containerd.runtime.v2.task/moby/\(dockerID)/init.pid", dockerID]
        let id = RuntimeCommandLine.identify(filename: "/usr/sbin/runc", argv: argv)
        XCTAssertEqual(id, ContainerIdentity(id: dockerID, runtime: .docker, containerdNamespace: "moby"))
    }

    func testContainerdRuncCreate() {
        let argv = ["runc", "--root", "/run/containerd/runc/rtdemo", "--log", "x/log.json", "--log-format", "json",
                    "create", "--bundle", "/run/containerd/io.containerd.runtime.v2.task/rtdemo/demo-ctr", "--pid-file", "p", "demo-ctr"]
        XCTAssertEqual(RuntimeCommandLine.identify(filename: "/usr/sbin/runc", argv: argv),
                       ContainerIdentity(id: "demo-ctr", runtime: .containerd, containerdNamespace: "rtdemo"))
    }

    func testPlainRuncAndCrunRun() {
        XCTAssertEqual(RuntimeCommandLine.identify(filename: "/usr/sbin/runc", argv: ["runc", "run", "-d", "--pid-file", "/b/pid", "-b", "/b", "web1"]),
                       ContainerIdentity(id: "web1", runtime: .runc))
        XCTAssertEqual(RuntimeCommandLine.identify(filename: "/usr/bin/crun", argv: ["crun", "run", "-d", "--pid-file", "/b/pid", "-b", "/b", "web2"]),
                       ContainerIdentity(id: "web2", runtime: .crun))
    }

    func testPodmanCrunAndConmon() {
        let crun = ["/usr/bin/crun", "--root", "/run/crun", "--log", "x", "create", "--bundle",
                    "/var/lib/containers/storage/overlay-containers/\(dockerID)/userdata", "--pid-file", "p", dockerID]
        XCTAssertEqual(RuntimeCommandLine.identify(filename: "/usr/bin/crun", argv: crun), ContainerIdentity(id: dockerID, runtime: .podman))
        let conmon = ["/usr/bin/conmon", "--api-version", "1", "-c", dockerID, "-u", dockerID, "-r", "/usr/bin/crun"]
        XCTAssertEqual(RuntimeCommandLine.identify(filename: "/usr/bin/conmon", argv: conmon), ContainerIdentity(id: dockerID, runtime: .podman))
    }

    func testShim() {
        let argv = ["/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", dockerID, "-address", "/run/containerd/containerd.sock"]
        XCTAssertEqual(RuntimeCommandLine.identify(filename: argv[0], argv: argv),
                       ContainerIdentity(id: dockerID, runtime: .docker, containerdNamespace: "moby"))
    }

    func testNoContainerNamed() {
        XCTAssertNil(RuntimeCommandLine.identify(filename: "/usr/sbin/runc", argv: ["runc", "init"]))
        XCTAssertNil(RuntimeCommandLine.identify(filename: "/usr/sbin/runc", argv: ["runc", "--version"]))
        XCTAssertNil(RuntimeCommandLine.identify(filename: "/usr/sbin/runc", argv: ["runc", "list"]))
        XCTAssertNil(RuntimeCommandLine.identify(filename: "/usr/sbin/runc", argv: ["runc", "create"]))
        XCTAssertNil(RuntimeCommandLine.identify(filename: "/usr/sbin/runc", argv: ["runc", "run", "bad/id"]))
        XCTAssertNil(RuntimeCommandLine.identify(filename: "/bin/sh", argv: ["sh", "-c", "runc run x"]))
        XCTAssertNil(RuntimeCommandLine.identify(filename: "/usr/sbin/runc", argv: []))
    }
}

extension RuntimeCommandLineTests {
    func testDockersOwnRuncRoot() {
        let argv = ["runc", "--root", "/var/run/docker/runtime-runc/moby", "--log", "x", "--log-format", "json",
                    "exec", "--process", "/tmp/runc-process1", "--detach", "--pid-file", "p", dockerID]
        XCTAssertEqual(RuntimeCommandLine.identify(filename: "/usr/sbin/runc", argv: argv),
                       ContainerIdentity(id: dockerID, runtime: .docker, containerdNamespace: "moby"))
    }
}
