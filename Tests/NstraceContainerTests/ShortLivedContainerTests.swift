import Foundation
import XCTest
import NstraceTestSupport

/// Test 2 of issue 3: `docker run --rm --cidfile F IMAGE true` exits at once and is removed;
/// its events still carry the id docker wrote to the cidfile.
final class ShortLivedContainerTests: XCTestCase {
    func testDockerRunRmTrueIsAttributed() throws {
        _ = try Suite.require()
        let run = try Suite.get(Fixtures.later)
        let container = try Suite.get(run.shortLived)
        let events = run.trace.events.filter { $0.container?.id == container.id }
        let creations = events.filter { !$0.createdTypes.isEmpty }
        let mounts = events.filter { JSONEvent.mountFamily.contains($0.event) }
        print("docker run --rm true (\(container.id.prefix(12))): \(events.count) events carry its id: \(creations.count) namespace creations, \(mounts.count) mount-family calls")
        XCTAssertTrue(run.trace.hasContainerKey, "nstrace's JSON events have no `container` key")
        XCTAssertFalse(creations.isEmpty, "no namespace creation carries the id of `docker run --rm … true` (\(container.id))")
        XCTAssertFalse(mounts.isEmpty, "no mount carries the id of `docker run --rm … true` (\(container.id))")
        XCTAssertTrue(mounts.contains { $0.event == "pivot_root" }, "its pivot_root does not carry its id")
        XCTAssertEqual(Set(creations.flatMap(\.createdTypes)).intersection(["mnt", "net", "pid", "uts", "ipc"]),
                       ["mnt", "net", "pid", "uts", "ipc"],
                       "the namespace creations carrying its id do not create all of mnt, net, pid, uts, ipc")
        // The next short-lived container usually gets the same namespace inodes: none of its
        // events (after this one's `docker run` returned) may carry this one's id.
        let late = events.filter { !container.window.contains($0.ts_ns) }
        XCTAssertTrue(late.isEmpty, "events outside the life of \(container.id.prefix(12)) carry its id (namespace inode reuse?): \(late.prefix(5).map(\.brief))")
    }

    /// The same kind of container, but it prints its namespaces from inside (readlink
    /// /proc/self/ns/*) before it exits: every creation of those and every call in its mount
    /// namespace must carry its id, as for the long-running containers.
    func testShortLivedContainerStartupIsFullyAttributed() throws {
        _ = try Suite.require()
        let run = try Suite.get(Fixtures.later)
        let container = try Suite.get(run.shortLivedWithFacts)
        let attribution = Attribution(run.trace, id: container.id, namespaces: container.namespaces, window: container.window)
        print(attribution.line("docker run --rm", id: container.id))
        XCTAssertEqual(run.trace.lost, 0, "nstrace lost events: \(run.trace.stderr)")
        XCTAssertEqual(attribution.createdTypes, Set(container.namespaces.keys),
                       "the traced namespace creations vs. the namespaces the container printed")
        XCTAssertTrue(attribution.mounts.contains { $0.event == "pivot_root" }, "no pivot_root in its mount namespace")
        XCTAssertEqual(attribution.attributed.count, attribution.total,
                       "\(attribution.line("docker run --rm", id: container.id)); not attributed:\n\(attribution.unattributedList())")
    }
}
