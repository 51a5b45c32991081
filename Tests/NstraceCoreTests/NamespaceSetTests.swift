import NstraceABI
import XCTest
@testable import NstraceCore

/// The one slot enum and the fixed-size NamespaceSet.
final class NamespaceSetTests: XCTestCase {
    func testSlotsFollowTheABIAndProc() {
        XCTAssertEqual(NamespaceSlot.allCases.map(\.index), Array(0..<Int(NST_NS_SLOTS)))
        XCTAssertEqual(NamespaceSlot.jsonMembers.count, NamespaceSlot.count)
        XCTAssertEqual(NamespaceSlot.allCases.map(\.name),
                       ["mnt", "net", "pid", "uts", "ipc", "user", "cgroup", "time", "pid_for_children", "time_for_children"])
        for slot in NamespaceSlot.allCases {
            XCTAssertEqual("\(NamespaceSlot.name(slot.index))", slot.name, "the per-event name table")
            XCTAssertEqual("\(NamespaceSlot.jsonMembers[slot.index])", (slot.index == 0 ? "" : ",") + "\"\(slot.name)\":",
                           "the JSON ns object's member prefixes")
            XCTAssertEqual(NamespaceSlot(index: slot.index), slot)
            XCTAssertTrue(slot.type.slots.contains(slot.index))
            XCTAssertEqual(slot.cloneFlag, slot.type.cloneFlag)
        }
        XCTAssertEqual(NamespaceSlot.pidForChildren.kernelTypeName, "pid")
        XCTAssertNil(NamespaceSlot(index: 10))
    }

    func testSetByIndexByNameAndFromAnEvent() {
        var set = NamespaceSet()
        XCTAssertTrue(set.isEmpty)
        set[.net] = 4_026_532_800
        set[.timeForChildren] = 4_026_532_801
        XCTAssertEqual(set[NamespaceSlot.net.index], 4_026_532_800)
        XCTAssertEqual(set[42], 0)
        XCTAssertEqual(set.byName, ["net": 4_026_532_800, "time_for_children": 4_026_532_801])
        XCTAssertEqual(NamespaceSet(byName: set.byName + ["future": 7]), set)
        XCTAssertEqual(NamespaceSet([1, 2, 3]), [1, 2, 3] as NamespaceSet)
        XCTAssertEqual(MemoryLayout<NamespaceSet>.size, 64, "fixed size, no heap")

        var f = Fixture(.unshare)
        f.e.flags = UInt32(NST_F_NS_BEFORE)
        f.setNs(NamespaceSlot.net.index, 4_026_532_900)
        f.event.withView { ev in
            for slot in NamespaceSlot.allCases {
                XCTAssertEqual(ev.namespaces[slot], ev.ns(slot.index))
                XCTAssertEqual(ev.namespacesBefore[slot], ev.nsBefore(slot.index))
            }
            XCTAssertNotEqual(ev.namespaces, ev.namespacesBefore)
        }
    }

    func testFromProc() throws {
        let own = try ProcNamespaces.read(pid: getpid())
        let set = own.set
        for slot in NamespaceSlot.allCases {
            XCTAssertEqual(UInt64(set[slot]), own[slot] ?? 0, slot.name)
        }
        XCTAssertNotEqual(set[.mnt], 0)
    }
}

private func + (a: [String: UInt32], b: [String: UInt32]) -> [String: UInt32] { a.merging(b) { x, _ in x } }
