import XCTest
@testable import NstraceCore

final class FilterTests: XCTestCase {
    private func matches(_ filter: EventFilter, _ f: Fixture) -> Bool {
        f.event.withView { filter.matches($0) }
    }

    func testEmptyMatchesAll() {
        let f = EventFilter()
        XCTAssertTrue(f.isEmpty)
        for t in EventType.allCases { XCTAssertTrue(matches(f, Fixture(t))) }
    }

    func testPids() {
        let f = EventFilter(pids: [4243])          // the fixture's tid
        XCTAssertTrue(matches(f, Fixture(.unshare)))
        XCTAssertTrue(matches(EventFilter(pids: [4242]), Fixture(.unshare)))
        XCTAssertFalse(matches(EventFilter(pids: [1, 2]), Fixture(.unshare)))
    }

    func testComms() {
        XCTAssertTrue(matches(EventFilter(comms: ["nstest"]), Fixture(.mount)))
        XCTAssertTrue(matches(EventFilter(comms: ["x", "nstest"]), Fixture(.mount)))
        XCTAssertFalse(matches(EventFilter(comms: ["nstes"]), Fixture(.mount)))
        XCTAssertFalse(matches(EventFilter(comms: ["nstest2"]), Fixture(.mount)))
        // the kernel keeps 15 bytes of a longer name
        let long = Fixture(.mount, comm: "0123456789abcde")
        XCTAssertTrue(matches(EventFilter(comms: ["0123456789abcdefghij"]), long))
        var f = EventFilter()
        f.comms = [Array("nstest".utf8)]
        XCTAssertTrue(matches(f, Fixture(.mount)))
        f.comms = [Array("other".utf8)]
        XCTAssertFalse(matches(f, Fixture(.mount)))
    }

    func testEventsAndFailed() {
        var f = EventFilter(events: [.mount, .umount])
        XCTAssertTrue(matches(f, Fixture(.mount)))
        XCTAssertFalse(matches(f, Fixture(.unshare)))
        f.events = [.unshare]
        XCTAssertTrue(matches(f, Fixture(.unshare)))
        XCTAssertFalse(matches(f, Fixture(.mount)))

        let failed = EventFilter(failedOnly: true)
        var e = Fixture(.setns)
        XCTAssertFalse(matches(failed, e))
        e.e.ret = -1
        XCTAssertTrue(matches(failed, e))
        var c = Fixture(.clone)
        c.e.ret = 1234
        XCTAssertFalse(matches(failed, c))
    }

    func testNamespaceTypes() {
        let net = EventFilter(nsTypes: [.net])
        var u = Fixture(.unshare)
        u.setArg(0, 0x4000_0000)
        XCTAssertTrue(matches(net, u))
        u.setArg(0, 0x0002_0000)
        XCTAssertFalse(matches(net, u))
        XCTAssertTrue(matches(EventFilter(nsTypes: [.mnt]), u))

        // clone(): 0x80 is the exit signal byte, not CLONE_NEWTIME
        var c = Fixture(.clone)
        c.setArg(0, 0x80 | 17)
        XCTAssertFalse(matches(EventFilter(nsTypes: [.time]), c))
        var c3 = Fixture(.clone3)
        c3.setAux(0, 0x80)
        XCTAssertTrue(matches(EventFilter(nsTypes: [.time]), c3))

        // setns: by the fd's namespace type, or by nstype
        var s = Fixture(.setns)
        s.setAux(0, 0x4000_0000)
        XCTAssertTrue(matches(net, s))
        XCTAssertFalse(matches(EventFilter(nsTypes: [.uts]), s))
        s.setAux(0, 0)
        s.setArg(1, 0x0400_0000)
        XCTAssertTrue(matches(EventFilter(nsTypes: [.uts]), s))

        // a changed slot: pid_for_children counts as pid
        var p = Fixture(.unshare)
        p.e.flags = EventFlags.nsBefore
        p.setNs(NamespaceSlot.pidForChildren.index, 1)
        XCTAssertTrue(matches(EventFilter(nsTypes: [.pid]), p))
        XCTAssertFalse(matches(EventFilter(nsTypes: [.ipc]), p))
        p.e.flags = 0
        XCTAssertFalse(matches(EventFilter(nsTypes: [.pid]), p))

        // mount-family events touch mnt
        for t in EventType.allCases where t.isMountEvent {
            XCTAssertTrue(matches(EventFilter(nsTypes: [.mnt]), Fixture(t)), t.name)
            XCTAssertFalse(matches(net, Fixture(t)), t.name)
        }
    }

    func testCombined() {
        var u = Fixture(.unshare)
        u.setArg(0, 0x4000_0000)
        u.e.ret = -1
        let f = EventFilter(pids: [4242], comms: ["nstest"], events: [.unshare], nsTypes: [.net, .uts], failedOnly: true)
        XCTAssertTrue(matches(f, u))
        u.e.ret = 0
        XCTAssertFalse(matches(f, u))
    }
}
