import NstraceABI
import XCTest
@testable import NstraceCore

/// The pipeline's observer (`--metrics`' live startup analysis, `--otlp`'s pod names) is told
/// of every valid event once attributed, whatever the filters let through.
final class EventPipelineObserverTests: XCTestCase {
    func testTheObserverSeesFilteredEventsWithTheirContainer() {
        let a = ContainerAttribution(cgroups: RecordedCgroupPaths([1: "/", 99: "/web1"]),
                                     hostNamespaces: NamespaceSet((0..<10).map { 4_026_531_835 + UInt32($0) }))
        let p = EventPipeline(attribution: a, filter: EventFilter(events: [.unshare]))
        var seen: [(EventType, String?)] = []
        p.observer = { ev, found in seen.append((ev.type, found.container?.id)) }
        var mount = Fixture(.mount)
        mount.e.cgroup_id = 99
        var unshare = Fixture(.unshare)
        unshare.e.cgroup_id = 1
        let outcomes: [String] = [mount, unshare].map { f in
            f.event.withView { view in
                if case .passed = p.process(view) { return "passed" }
                return "not passed"
            }
        }
        XCTAssertEqual(outcomes, ["not passed", "passed"])
        XCTAssertEqual(seen.map(\.0), [.mount, .unshare], "the filtered mount too")
        XCTAssertEqual(seen.map(\.1), ["web1", nil])
    }
}
