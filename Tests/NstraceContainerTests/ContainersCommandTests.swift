import Foundation
import XCTest
import NstraceTestSupport

/// Test 7 of issue 3: `nstrace containers -o json` lists the running containers of all five
/// runtimes with the ids and host pids the runtimes report.
final class ContainersCommandTests: XCTestCase {
    func testListsTheContainersOfEveryRuntime() throws {
        _ = try Suite.require()
        let json = try NstraceCommand.json(["containers", "-o", "json"])
        let entries = json.objects
        XCTAssertFalse(entries.isEmpty, "nstrace containers -o json is not a non-empty array of objects: \(json)")
        for runtime in Runtime.allCases {
            let container = try Fixtures.container(runtime)
            let matches = entries.filter { $0["id"]?.string == container.id }
            XCTAssertEqual(matches.count, 1, "\(container): entries with its id: \(matches.count)")
            guard let entry = matches.first else { continue }
            XCTAssertEqual(entry["runtime"]?.string, runtime.reportedRuntime, "\(container): \(entry)")
            XCTAssertEqual(ParsedJSON.first(entry, ["pid", "host_pid", "init_pid"])?.int, Int(container.pid),
                           "\(container): host pid: \(entry)")
            if runtime.hasOwnName {
                XCTAssertEqual(entry["name"]?.string, container.name, "\(container): name: \(entry)")
            }
        }
    }
}
