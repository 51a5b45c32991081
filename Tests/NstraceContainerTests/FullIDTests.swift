import Foundation
import XCTest
import NstraceTestSupport

/// Issue 8: a container id is full or null. `docker exec` makes the shim run
/// `runc --root … exec --process … --pid-file … <id>`, an argv longer than nstrace copies; its
/// events (the bind of /proc/self/exe under runtime-runc/moby/<id>/) must carry the full id.
final class FullIDTests: XCTestCase {
    func testNoEventCarriesAPrefixOfAnID() throws {
        _ = try Suite.require()
        let later = try Suite.get(Fixtures.later)
        let startup = try Suite.get(Fixtures.startup)
        let ids = Set(startup.containers.values.compactMap { try? $0.get().id }
            + [try? later.preexisting[.docker]?.get().id].compactMap { $0 })
        XCTAssertFalse(ids.isEmpty)
        var checked = 0
        for (label, trace) in [("startup", startup.trace), ("later", later.trace)] {
            for event in trace.events {
                guard let id = event.container?.id else { continue }
                checked += 1
                let prefixOf = ids.filter { $0 != id && $0.hasPrefix(id) }
                XCTAssertTrue(prefixOf.isEmpty, "\(label): \(event.brief) carries a cut id \(id) of \(prefixOf.sorted())")
            }
        }
        XCTAssertGreaterThan(checked, 0, "no attributed event in either run")
    }

    func testDockerExecAndRuncExecEventsCarryTheFullID() throws {
        _ = try Suite.require()
        let later = try Suite.get(Fixtures.later)
        _ = try Suite.get(later.dockerExec)
        for runtime in [Runtime.docker, .runc] {
            let container = try Fixtures.container(runtime)
            // the runtime's own calls that name the container in a path (runc's self-bind under
            // its state directory <root>/<id>/runc.XXXX), during `docker exec` / `runc exec`
            let named = later.trace.events.filter { event in
                (event.comm.hasPrefix("runc") || event.comm == "exe") && JSONEvent.mountFamily.contains(event.event)
                    && event.args.values.contains { $0.string?.contains("/" + container.id + "/") == true }
            }
            let full = named.filter { $0.container?.id == container.id }
            print("\(runtime.rawValue) exec: \(full.count)/\(named.count) runc calls naming the container carry its full id")
            XCTAssertFalse(named.isEmpty, "\(runtime.rawValue) exec: no runc mount call under the container's state directory was traced")
            XCTAssertEqual(full.count, named.count, "\(runtime.rawValue) exec, not carrying \(container.id):\n"
                           + named.filter { $0.container?.id != container.id }.prefix(6).map { "  " + $0.brief }.joined(separator: "\n"))
        }
    }
}
