import Foundation
import XCTest
import NstraceTestSupport

/// The text stream of the startup run (issue 3, Output): a CONTAINER column showing the
/// container's short id or name on the lines of its events.
final class TextOutputTests: XCTestCase {
    func testTextOutputHasAContainerColumn() throws {
        _ = try Suite.require()
        let run = try Suite.get(Fixtures.startup)
        let header = run.textHeader
        XCTAssertFalse(header.isEmpty, "the text tracer printed nothing")
        let lines = run.textPivotRootLines
        XCTAssertTrue(header.split(separator: " ").contains("CONTAINER"), "no CONTAINER column in the header: \(header)")

        for runtime in Runtime.allCases {
            let container = try Fixtures.container(runtime)
            // Ground truth for "the container's line": the pivot_root made in its mount namespace.
            guard let pivot = run.trace.events.first(where: { $0.event == "pivot_root" && $0.isMount(in: container) }) else {
                XCTFail("\(container): no pivot_root in its mount namespace in the JSON stream")
                continue
            }
            let matching = lines.filter { line in
                let fields = line.split(separator: " ")
                return fields.count > 3 && fields[1] == Substring(String(pivot.pid)) && fields.contains("pivot_root")
            }
            guard let textLine = matching.first else {
                XCTFail("\(container): no text line for pid \(pivot.pid)'s pivot_root")
                continue
            }
            XCTAssertTrue(textLine.contains(container.shortID) || textLine.contains(container.name),
                          "\(container): the text line of its pivot_root shows neither \(container.shortID) nor \(container.name): \(textLine)")
        }
    }
}
