import Foundation
import XCTest
import NstraceTestSupport

/// Test 3 of issue 3: `docker exec` and `nsenter -t PID -n` are joins of the container: their
/// setns events carry `target_container` with its id. Which setns calls join the container is
/// decided from the kernel: the namespace inode the call entered is one of the container's own
/// (readlink /proc/PID/ns/*).
final class JoinTests: XCTestCase {
    func testDockerExecIsAJoinOfTheContainer() throws {
        _ = try Suite.require()
        let run = try Suite.get(Fixtures.later)
        let container = try Fixtures.container(.docker)
        _ = try Suite.get(run.dockerExec)
        let nsenterPID = (try? run.nsenter.get())?.pid
        let joins = run.trace.joins(of: container).filter { $0.pid != Int(nsenterPID ?? -1) }
        checkJoins(joins, of: container, label: "docker exec")
    }

    func testNsenterIsAJoinOfTheContainerByAHostProcess() throws {
        _ = try Suite.require()
        let run = try Suite.get(Fixtures.later)
        let container = try Fixtures.container(.docker)
        let nsenter = try Suite.get(run.nsenter)
        let events = run.trace.events.filter { $0.pid == Int(nsenter.pid) && $0.event == "setns" }
        XCTAssertEqual(events.count, 1, "setns events of nsenter (pid \(nsenter.pid)): \(events.map(\.brief))")
        let event = try XCTUnwrap(events.first)
        XCTAssertEqual(event.comm, "nsenter")
        XCTAssertEqual(event.ret, 0)
        XCTAssertEqual(event.string("target_ns_type"), "net")
        XCTAssertEqual(event.args["target_ns_inode"]?.uint64, container.namespaces["net"],
                       "the namespace nsenter entered vs. readlink /proc/\(container.pid)/ns/net")
        XCTAssertTrue(event.hasTargetContainerKey, "setns event without a `target_container` key: \(event.line)")
        XCTAssertEqual(event.targetContainer?.id, container.id, "nsenter -t \(container.pid) -n: \(event.brief)")
        XCTAssertEqual(event.targetContainer?.runtime, "docker", event.brief)
        XCTAssertTrue(event.hasContainerKey, "event without a `container` key: \(event.line)")
        XCTAssertNil(event.container, "nsenter is a host process: its own `container` is null: \(event.brief)")
    }

    func testExecIntoEveryOtherRuntimeIsAJoinOfItsContainer() throws {
        _ = try Suite.require()
        let run = try Suite.get(Fixtures.later)
        for runtime in [Runtime.runc, .crun, .ctr, .podman] {
            let container = try Fixtures.container(runtime)
            checkJoins(run.trace.joins(of: container), of: container, label: "\(runtime.rawValue) exec")
        }
    }

    /// During the startup run, runtimes and network plugins enter the new container's namespaces
    /// (dockerd and CNI plugins configure its network namespace, crun joins podman's pre-made one):
    /// those are joins of the container too.
    func testJoinsDuringStartupCarryTargetContainer() throws {
        _ = try Suite.require()
        let run = try Suite.get(Fixtures.startup)
        var checked = 0
        for runtime in Runtime.allCases {
            let container = try Fixtures.container(runtime)
            let joins = run.trace.joins(of: container).filter { $0.ts_ns >= container.startedAfter }
            let good = joins.filter { $0.targetContainer?.id == container.id }
            // podman's engine makes the network namespace before the container has any process
            // (docs/events.md): live, joins into it before an event ties that namespace to the
            // container (the runtime joining it) cannot name it either. After that, every join must.
            let net = container.namespaces["net"]
            let firstNamed = run.trace.events.filter {
                ($0.container?.id == container.id && $0.ns["net"] == net)
                    || ($0.targetContainer?.id == container.id && $0.args["target_ns_inode"]?.uint64 == net)
            }.map(\.ts_ns).min() ?? .max
            let beforeNamed = runtime != .podman ? [] : joins.filter {
                $0.targetContainer?.id != container.id && $0.ts_ns < firstNamed && $0.container == nil
            }
            print("joins during startup \(runtime.rawValue): \(good.count)/\(joins.count) carry target_container, \(beforeNamed.count) before the container was named (\(Set(joins.map(\.comm)).sorted().joined(separator: ",")))")
            checked += joins.count
            XCTAssertEqual(good.count + beforeNamed.count, joins.count,
                           "\(container): setns into its namespaces during its startup without its target_container:\n"
                           + joins.filter { $0.targetContainer?.id != container.id }.prefix(8).map { "  " + $0.brief }.joined(separator: "\n"))
        }
        XCTAssertGreaterThan(checked, 0, "no runtime entered its container's namespaces during startup: the trace lacks setns events")
    }

    private func checkJoins(_ joins: [JSONEvent], of container: Container, label: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        let good = joins.filter { $0.targetContainer?.id == container.id }
        print("joins \(label): \(good.count)/\(joins.count) setns into \(container.name) carry target_container")
        XCTAssertFalse(joins.isEmpty, "\(label): no setns into the namespaces of \(container)", file: file, line: line)
        XCTAssertEqual(good.count, joins.count,
                       "\(label): setns into \(container) without its target_container:\n"
                       + joins.filter { $0.targetContainer?.id != container.id }.prefix(8).map { "  " + $0.brief }.joined(separator: "\n"),
                       file: file, line: line)
    }
}
