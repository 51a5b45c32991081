import Foundation
import XCTest
import NstraceTestSupport

/// Test 1 of issue 3: while `nstrace -o json` (no filter) runs, one container of each runtime
/// starts. Ground truth comes from the kernel: the container's host pid (pid file, `task ls`,
/// `inspect`) -> `readlink /proc/PID/ns/*`. The startup's namespace creations are the
/// unshare/clone/clone3 events whose `ns` inode of a created type is the container's; its
/// mounts are the mount-family events whose `ns.mnt` is the container's. Every one of them must
/// carry the container's id (measured share printed; 100 % asserted).
final class StartupAttributionTests: XCTestCase {
    func testRuncStartupIsAttributed() throws { try checkStartup(.runc) }
    func testCrunStartupIsAttributed() throws { try checkStartup(.crun) }
    func testContainerdCtrStartupIsAttributed() throws { try checkStartup(.ctr) }
    func testDockerStartupIsAttributed() throws { try checkStartup(.docker) }
    func testPodmanStartupIsAttributed() throws { try checkStartup(.podman) }

    private func checkStartup(_ runtime: Runtime, file: StaticString = #filePath, line: UInt = #line) throws {
        _ = try Suite.require(file: file, line: line)
        let run = try Suite.get(Fixtures.startup, file: file, line: line)
        let container = try Fixtures.container(runtime, file: file, line: line)

        // The ground truth itself: every runtime gives its container these namespaces of its own.
        let expectedOwn: Set<String> = ["mnt", "net", "pid", "uts", "ipc"]
        XCTAssertTrue(container.ownTypes.isSuperset(of: expectedOwn),
                      "\(container): /proc/\(container.pid)/ns shows own namespaces \(container.ownTypes.sorted()), expected at least \(expectedOwn.sorted())",
                      file: file, line: line)

        let attribution = Attribution(run.trace, container)
        print(attribution.line(runtime.rawValue, id: container.id))

        XCTAssertEqual(run.trace.lost, 0, "nstrace lost events, so the measured share is incomplete: \(run.trace.stderr)",
                       file: file, line: line)
        // The trace saw the startup at all: each of the container's own namespaces was created by
        // a traced call, and the runtime mounted its root inside the new mount namespace.
        XCTAssertEqual(attribution.createdTypes, container.ownTypes,
                       "\(container): the namespace types created by traced unshare/clone/clone3 calls vs. those /proc/\(container.pid)/ns shows as its own",
                       file: file, line: line)
        XCTAssertTrue(attribution.mounts.contains { $0.event == "pivot_root" },
                      "\(container): no pivot_root in its mount namespace among \(attribution.mounts.count) mount-family events",
                      file: file, line: line)
        XCTAssertTrue(attribution.mounts.contains { $0.event == "mount" && $0.ret == 0 },
                      "\(container): no successful mount in its mount namespace", file: file, line: line)

        XCTAssertTrue(run.trace.hasContainerKey, "nstrace's JSON events have no `container` key", file: file, line: line)
        // The one gap, podman's: its engine process (`podman`, a host process) creates the
        // container's network namespace itself, before the container has a runtime process or
        // a cgroup, so nothing at that moment names the container (docs/events.md). Exactly that
        // event may go unattributed; every other one must not.
        let engineNetns = runtime != .podman ? [] : attribution.unattributed.filter {
            $0.event == "unshare" && $0.comm == "podman" && $0.flags == ["CLONE_NEWNET"]
        }
        XCTAssertLessThanOrEqual(engineNetns.count, 1, file: file, line: line)
        XCTAssertEqual(attribution.attributed.count + engineNetns.count, attribution.total,
                       "\(attribution.line(runtime.rawValue, id: container.id)) for \(container); not attributed:\n\(attribution.unattributedList())",
                       file: file, line: line)

        let wrongRuntime = attribution.attributed.filter { $0.container?.runtime != runtime.reportedRuntime }
        XCTAssertTrue(wrongRuntime.isEmpty,
                      "\(wrongRuntime.count) events of \(container) do not say runtime \"\(runtime.reportedRuntime)\", e.g. \(wrongRuntime.first?.brief ?? "")",
                      file: file, line: line)
        // No event of another container's namespaces is given this container's id.
        let others = run.containers.values.compactMap { try? $0.get() }.filter { $0.id != container.id }
        let misattributed = others.flatMap { other in
            Attribution(run.trace, other).unattributed.filter { $0.container?.id == container.id }
        }
        XCTAssertTrue(misattributed.isEmpty,
                      "events of other containers carry \(container.id): \(misattributed.prefix(5).map(\.brief))",
                      file: file, line: line)
    }
}
