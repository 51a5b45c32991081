import Foundation
import XCTest
import NstraceTestSupport

/// Test 6 of issue 3: `nstrace netns expose ID NAME` makes the docker container's network
/// namespace usable by `ip netns exec NAME`, which shows its eth0 with the address docker gave it;
/// `nstrace netns unexpose NAME` removes it again.
final class NetnsTests: XCTestCase {
    func testExposeShowsTheContainersEth0AndUnexposeRemovesIt() throws {
        let info = try Suite.require()
        let container = try Fixtures.container(.docker)
        let ip = Paths.tool("ip")
        let name = "nste2e-netns-\(UInt32.random(in: 0...UInt32.max))"
        defer { _ = try? Command.run(ip, ["netns", "delete", name], timeout: 30) }

        let address = try Command.check(info.docker, ["inspect", "-f", "{{.NetworkSettings.IPAddress}}", container.id], timeout: 30)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertFalse(address.isEmpty, "docker inspect gave the container no IP address")

        let expose = try NstraceCommand.run(["netns", "expose", container.id, name])
        XCTAssertTrue(expose.succeeded, "nstrace netns expose: \(expose.summary)")

        let addr = try Command.run(ip, ["netns", "exec", name, "ip", "addr"], timeout: 30)
        XCTAssertTrue(addr.succeeded, addr.summary)
        XCTAssertTrue(addr.stdout.contains("eth0"), "ip netns exec \(name) ip addr shows no eth0:\n\(addr.stdout)")
        XCTAssertTrue(addr.stdout.contains("inet \(address)/"), "ip netns exec \(name) ip addr does not show docker's address \(address):\n\(addr.stdout)")
        let inode = try Command.run(ip, ["netns", "exec", name, Paths.tool("readlink"), "/proc/self/ns/net"], timeout: 30)
        XCTAssertEqual(inode.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "net:[\(container.namespaces["net"] ?? 0)]",
                       "the exposed namespace vs. readlink /proc/\(container.pid)/ns/net")

        let unexpose = try NstraceCommand.run(["netns", "unexpose", name])
        XCTAssertTrue(unexpose.succeeded, "nstrace netns unexpose: \(unexpose.summary)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/run/netns/\(name)"), "/run/netns/\(name) is still there")
        let list = try Command.run(ip, ["netns", "list"], timeout: 30)
        XCTAssertFalse(list.stdout.split(separator: "\n").contains { $0.split(separator: " ").first == Substring(name) },
                       "ip netns list still shows \(name): \(list.stdout)")
        let gone = try Command.run(ip, ["netns", "exec", name, "true"], timeout: 30)
        XCTAssertFalse(gone.succeeded, "ip netns exec \(name) still works after unexpose")
    }
}
