import Foundation
import XCTest
import NstraceTestSupport

/// Test 4 of issue 3: containers started before nstrace are recognised. The later run's
/// containers were all running before its nstrace started; inside each, an exec'd
/// `mount -t tmpfs nste2e-probe /mnt` makes a mount call in the container's mount namespace
/// (EPERM without CAP_SYS_ADMIN, which does not matter: the call is made there), and the exec
/// itself joins the container's namespaces (setns).
final class PreexistingContainerTests: XCTestCase {
    func testDockerContainerStartedBeforeNstraceIsRecognised() throws {
        try checkPreexisting(.docker)
    }

    func testContainersOfEveryRuntimeStartedBeforeNstraceAreRecognised() throws {
        for runtime in [Runtime.runc, .crun, .ctr, .podman] { try checkPreexisting(runtime) }
    }

    private func checkPreexisting(_ runtime: Runtime, file: StaticString = #filePath, line: UInt = #line) throws {
        _ = try Suite.require(file: file, line: line)
        let run = try Suite.get(Fixtures.later, file: file, line: line)
        let container: Container
        switch run.preexisting[runtime] {
        case .success(let c)?: container = c
        case .failure(let error)?: XCTFail("no \(runtime.rawValue) container: \(error)", file: file, line: line); throw error
        case nil: XCTFail("no \(runtime.rawValue) container", file: file, line: line); throw HarnessError("no container")
        }
        let probe = run.probes[runtime].map { (try? $0.get())?.summary ?? "\($0)" } ?? "not run"

        let mounts = run.trace.events.filter { $0.isMount(in: container) }
        let probeMounts = mounts.filter { $0.event == "mount" && $0.string("source") == "nste2e-probe" }
        XCTAssertFalse(probeMounts.isEmpty,
                       "\(container): the exec'd probe mount is not in the stream (probe: \(probe))", file: file, line: line)
        XCTAssertTrue(run.trace.hasContainerKey, "nstrace's JSON events have no `container` key", file: file, line: line)
        let attributed = mounts.filter { $0.container?.id == container.id }
        print("pre-existing \(runtime.rawValue): \(attributed.count)/\(mounts.count) calls in its mount namespace carry its id")
        XCTAssertEqual(attributed.count, mounts.count,
                       "\(container), started before nstrace: calls in its mount namespace without its id:\n"
                       + mounts.filter { $0.container?.id != container.id }.prefix(8).map { "  " + $0.brief }.joined(separator: "\n"),
                       file: file, line: line)
        let joins = run.trace.joins(of: container)
        XCTAssertFalse(joins.isEmpty, "\(container): its exec made no setns into its namespaces (probe: \(probe))", file: file, line: line)
        XCTAssertTrue(joins.allSatisfy { $0.targetContainer?.id == container.id },
                      "\(container), started before nstrace: joins without its target_container:\n"
                      + joins.filter { $0.targetContainer?.id != container.id }.prefix(8).map { "  " + $0.brief }.joined(separator: "\n"),
                      file: file, line: line)
        for event in probeMounts {
            XCTAssertEqual(event.container?.runtime, runtime.reportedRuntime, event.brief, file: file, line: line)
            if runtime.hasOwnName {
                // Long known by the time of the exec: the name must be there.
                XCTAssertEqual(event.container?.name, container.name, event.brief, file: file, line: line)
            }
        }
    }
}
