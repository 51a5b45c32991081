import NstraceABI
import XCTest
@testable import NstraceCore

/// The one per-event path, from bytes: attribution learns from every event, bookkeeping events
/// are kept apart, filters and the container filter apply after attribution.
final class EventPipelineTests: XCTestCase {
    let host: [UInt32] = (0..<10).map { 4_026_531_835 + UInt32($0) }
    let webID = "web1"

    private func pipeline(filter: EventFilter = EventFilter(), containers: ContainerFilter = ContainerFilter()) -> EventPipeline {
        let a = ContainerAttribution(cgroups: RecordedCgroupPaths([1: "/", 99: "/" + webID]), hostNamespaces: NamespaceSet(host))
        return EventPipeline(attribution: a, filter: filter, containerFilter: containers)
    }

    private func outcome(_ p: EventPipeline, _ f: Fixture) -> String {
        f.event.withView { view in
            switch p.process(view) {
            case .passed(let a): return "passed:" + (a.container?.id ?? "host") + (a.target.map { "->" + $0.id } ?? "")
            case .bookkeeping: return "bookkeeping"
            case .filtered: return "filtered"
            case .malformed: return "malformed"
            }
        }
    }

    private func mount(cgroup: UInt64) -> Fixture {
        var f = Fixture(.mount)
        f.e.cgroup_id = cgroup
        return f
    }

    private func cgroupMkdir(id: UInt64, path: String) -> Fixture {
        var f = Fixture(.cgroupMkdir)
        f.setAux(0, id)
        f.setString(0, path)
        return f
    }

    func testAttributesAndKeepsBookkeepingApart() {
        let p = pipeline()
        XCTAssertEqual(outcome(p, mount(cgroup: 99)), "passed:web1")
        XCTAssertEqual(outcome(p, mount(cgroup: 1)), "passed:host")
        XCTAssertEqual(outcome(p, cgroupMkdir(id: 7, path: "/db2")), "bookkeeping")
        XCTAssertEqual(outcome(p, mount(cgroup: 7)), "passed:db2", "the cgroup_mkdir taught attribution")
        XCTAssertEqual(p.seen, 4)
        XCTAssertEqual(p.passed, 3)
    }

    func testBookkeepingAskedForByNamePasses() {
        let p = pipeline(filter: EventFilter(events: [.cgroupMkdir]))
        XCTAssertEqual(outcome(p, cgroupMkdir(id: 7, path: "/db2")), "passed:host")
        XCTAssertEqual(outcome(p, mount(cgroup: 7)), "filtered")
    }

    /// A filter hides events, never what attribution learns from them.
    func testFilteredEventsStillTeachAttribution() {
        let p = pipeline(filter: EventFilter(events: [.mount]))
        var unshare = Fixture(.unshare)
        unshare.e.cgroup_id = 99
        unshare.e.flags = UInt32(NST_F_NS_BEFORE)
        unshare.setNs(Int(NST_NS_MNT), 4_026_532_900)
        XCTAssertEqual(outcome(p, unshare), "filtered")
        // a process of no known cgroup, in the mount namespace the container's unshare made
        var inside = mount(cgroup: 0)
        inside.setNs(Int(NST_NS_MNT), 4_026_532_900)
        XCTAssertEqual(outcome(p, inside), "passed:web1")
    }

    func testContainerFilterSeesTheSetnsTarget() {
        let p = pipeline(containers: ContainerFilter(selectors: [webID]))
        var unshare = Fixture(.unshare)
        unshare.e.cgroup_id = 99
        unshare.e.flags = UInt32(NST_F_NS_BEFORE)
        unshare.setNs(Int(NST_NS_NET), 4_026_532_800)
        XCTAssertEqual(outcome(p, unshare), "passed:web1")
        let setns = Fixture.hostJoiningNetwork(4_026_532_800)
        XCTAssertEqual(outcome(p, setns), "passed:host->web1", "a host process joining web1 is web1's")
        XCTAssertEqual(outcome(p, mount(cgroup: 1)), "filtered")
    }

    func testMalformedRecordsAreCounted() {
        let p = pipeline()
        let short = [UInt8](repeating: 0, count: 10)
        let result = short.withUnsafeBytes { p.process(record: $0) }
        guard case .malformed(.tooShort(length: 10)) = result else { return XCTFail("\(result)") }
        XCTAssertEqual(p.malformed, 1)
        XCTAssertEqual(p.seen, 0)
        XCTAssertNotNil(p.firstMalformed)
    }
}
