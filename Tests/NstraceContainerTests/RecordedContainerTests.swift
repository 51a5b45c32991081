import Foundation
import XCTest
import NstraceTestSupport

/// Issue 4 with real containers: a trace recorded while containers start is read back after
/// they are gone, and the file alone attributes their events, names included.
final class RecordedContainerTests: XCTestCase {
    func testATraceReadAfterTheContainersAreGoneStillNamesThem() throws {
        _ = try Suite.require()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nste2e-\(UUID().uuidString).nst").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let recorder = try NstraceTracer(["record", "-w", file, "--containers-only", "-z"])
        try recorder.waitUntilTracing()
        let docker = try Runtimes.start(.docker)
        let podman = try Runtimes.start(.podman)
        let recorded = try recorder.stop()
        XCTAssertTrue(recorded.contains("events recorded to \(file)") && recorded.contains(" 0 lost"), recorded)
        try Runtimes.stop(docker)
        try Runtimes.stop(podman)

        // the containers are gone: everything below comes from the file
        let shown = try NstraceCommand.run(["show", file, "-o", "json"])
        XCTAssertTrue(shown.succeeded, shown.summary)
        var byContainer: [String: [[String: Any]]] = [:]
        for line in shown.stdout.split(separator: "\n") {
            let event = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            // --containers-only: events of a container, or joins into one (dockerd configuring its netns)
            guard let container = event["container"] as? [String: Any] else {
                XCTAssertNotNil(event["target_container"] as? [String: Any], "--containers-only recorded a host event: \(line)")
                continue
            }
            byContainer[container["id"] as? String ?? "", default: []].append(container.merging(["event": event["event"] ?? ""]) { a, _ in a })
        }
        for c in [docker, podman] {
            let events = byContainer[c.id] ?? []
            XCTAssertTrue(events.contains { $0["event"] as? String == "unshare" || $0["event"] as? String == "clone" },
                          "\(c): no namespace creation in the file carries its id")
            XCTAssertTrue(events.contains { $0["event"] as? String == "pivot_root" }, "\(c): its pivot_root is not in the file")
            XCTAssertTrue(events.allSatisfy { $0["name"] as? String == c.name },
                          "\(c): events read from the file do not all carry its name \(c.name): \(Set(events.map { "\($0["name"] ?? "nil")" }))")
            XCTAssertEqual(events.first?["runtime"] as? String, c.runtime.reportedRuntime)
        }

        let info = try NstraceCommand.json(["info", file, "-o", "json"])
        guard case .object(let object) = info else { return XCTFail("info -o json is not an object") }
        XCTAssertEqual(object["complete"], .bool(true))
        guard case .array(let containers)? = object["containers"] else { return XCTFail("info lists no containers: \(object)") }
        let names = containers.compactMap { value -> String? in
            if case .object(let o) = value, case .string(let n)? = o["name"] { return n }
            return nil
        }
        XCTAssertTrue(Set(names).isSuperset(of: [docker.name, podman.name]), "\(names)")
    }
}
