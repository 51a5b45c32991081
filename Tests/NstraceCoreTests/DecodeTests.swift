import XCTest
import NstraceABI
@testable import NstraceCore

final class DecodeTests: XCTestCase {
    private func decode(_ bytes: [UInt8]) -> Result<EventType, EventDecodeError> {
        bytes.withUnsafeBytes { raw in
            do throws(EventDecodeError) {
                return .success(try EventView(bytes: raw).type)
            } catch {
                return .failure(error)
            }
        }
    }

    private func assertError(_ bytes: [UInt8], _ expected: EventDecodeError, mentions: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        switch decode(bytes) {
        case .success(let t): XCTFail("decoded as \(t)", file: file, line: line)
        case .failure(let e):
            XCTAssertEqual(e, expected, file: file, line: line)
            XCTAssertTrue(e.description.contains(mentions), e.description, file: file, line: line)
            XCTAssertFalse(e.description.contains("\n"), file: file, line: line)
        }
    }

    func testDecodeNamespaceEvent() throws {
        var f = Fixture(.unshare, comm: "unshare")
        f.setArg(0, 0x4002_0000)
        f.e.ret = 0
        f.e.flags = EventFlags.nsBefore
        f.setNs(NamespaceSlot.mnt.index, 4_026_532_693)
        let ev = f.event
        XCTAssertEqual(ev.bytes.count, 256)
        ev.withView { v in
            XCTAssertEqual(v.type, .unshare)
            XCTAssertEqual(v.pid, 4242)
            XCTAssertEqual(v.tid, 4243)
            XCTAssertEqual(v.ppid, 1)
            XCTAssertEqual(v.nsPid, 42)
            XCTAssertEqual(v.tsNs, Fixture.ts)
            XCTAssertEqual(v.latencyNs, 2500)
            XCTAssertEqual(v.cgroupId, 7777)
            XCTAssertEqual(v.cpu, 1)
            XCTAssertEqual(v.unshare.flags, 0x4002_0000)
            XCTAssertEqual(Array(v.comm), Array("unshare".utf8))
            XCTAssertEqual(v.ns(0), 4_026_532_693)
            XCTAssertEqual(v.nsBefore(0), 4_026_531_835)
            XCTAssertTrue(v.hasNsBefore)
            XCTAssertEqual(v.changedSlots, 1)
            XCTAssertFalse(v.failed)
            XCTAssertEqual(v.errno, 0)
            XCTAssertEqual(v.string(0).count, 0)
            XCTAssertEqual(v.header.pid, 4242)
        }
    }

    func testDecodeStringEvent() throws {
        var f = Fixture(.mount)
        f.setString(0, "tmpfs")
        f.setString(1, "/mnt")
        f.setString(2, "tmpfs")
        f.setString(3, [UInt8](repeating: 0x41, count: 600))
        f.e.ret = -1
        f.fault(2)
        let ev = f.event
        XCTAssertEqual(ev.bytes.count, 2304)
        ev.withView { v in
            XCTAssertEqual(Array(v.string(0)), Array("tmpfs".utf8))
            XCTAssertEqual(Array(v.string(1)), Array("/mnt".utf8))
            XCTAssertEqual(v.string(3).count, 511)
            XCTAssertTrue(v.isTruncated(slot: 3))
            XCTAssertFalse(v.isTruncated(slot: 0))
            XCTAssertTrue(v.stringFault(slot: 2))
            XCTAssertFalse(v.stringFault(slot: 1))
            XCTAssertTrue(v.failed)
            XCTAssertEqual(v.errno, 1)
            XCTAssertFalse(v.stringIsNull(slot: 0))
        }
    }

    func testCommWithoutNul() {
        var f = Fixture(.setns)
        f.setComm(Array("0123456789abcdef".utf8))
        f.event.withView { XCTAssertEqual($0.comm.count, 16) }
        f.setComm([])
        f.event.withView { XCTAssertEqual($0.comm.count, 0) }
    }

    func testUnalignedAndOversizedBuffer() throws {
        var f = Fixture(.umount)
        f.setString(0, "/mnt")
        let bytes = [0xEE] + f.bytes + [1, 2, 3]
        bytes.withUnsafeBytes { raw in
            let sub = UnsafeRawBufferPointer(rebasing: raw[1...])
            let v = try! EventView(bytes: sub)
            XCTAssertEqual(v.bytes.count, 2304)   // cut to size
            XCTAssertEqual(Array(v.string(0)), Array("/mnt".utf8))
        }
        let owned = try Event(bytes: f.bytes + [9, 9])
        XCTAssertEqual(owned.bytes.count, 2304)
        XCTAssertEqual(owned.type, .umount)
        // an owned copy of a view is equal to the original
        let copy = owned.withView { Event($0) }
        XCTAssertEqual(copy, owned)
    }

    func testTooShort() {
        let b = Fixture(.unshare).bytes
        assertError(Array(b.prefix(100)), .tooShort(length: 100), mentions: "100 bytes")
        assertError([], .tooShort(length: 0), mentions: "256")
    }

    func testSizeTooSmall() {
        var f = Fixture(.unshare)
        f.e.size = 200
        assertError(f.bytes, .sizeTooSmall(size: 200), mentions: "byte 222")
    }

    func testSizeExceedsRecord() {
        var f = Fixture(.unshare)
        f.e.size = 300
        assertError(f.bytes, .sizeExceedsRecord(size: 300, length: 256), mentions: "byte 222")
        // a string event cut short in transit
        let m = Fixture(.mount).bytes
        assertError(Array(m.prefix(1000)), .sizeExceedsRecord(size: 2304, length: 1000), mentions: "1000")
    }

    func testUnknownType() {
        var f = Fixture(.unshare)
        f.e.type = 99
        assertError(f.bytes, .unknownType(99), mentions: "byte 220")
        f.e.type = 0
        assertError(f.bytes, .unknownType(0), mentions: "is 0")
    }

    func testStringEventWithoutStrings() {
        var f = Fixture(.unshare)
        f.e.type = EventType.mount.rawValue   // 256-byte record claiming to be a mount
        assertError(f.bytes, .missingStrings(type: .mount, size: 256), mentions: "2304")
    }

    func testStringLengthOutOfRange() {
        var f = Fixture(.mount)
        f.setString(1, "/x")
        var b = f.bytes
        b[EventLayout.strLen + 2] = 0x00   // str_len[1] = 512
        b[EventLayout.strLen + 3] = 0x02
        assertError(b, .stringLengthOutOfRange(slot: 1, length: 512), mentions: "byte 226")
        b[EventLayout.strLen + 2] = 0xFF   // 511: fine
        b[EventLayout.strLen + 3] = 0x01
        XCTAssertNoThrow(try Event(bytes: b))
    }

    func testEventInitThrows() {
        XCTAssertThrowsError(try Event(bytes: [1, 2, 3])) { e in
            XCTAssertEqual(e as? EventDecodeError, .tooShort(length: 3))
        }
    }

    func testNonStringEventIgnoresStrLen() throws {
        var f = Fixture(.clone)
        f.e.str_len.0 = 4000    // not a string event: not checked, and string() is empty
        let ev = try Event(bytes: f.bytes)
        ev.withView { XCTAssertEqual($0.string(0).count, 0) }
    }

    func testEventTypeNames() {
        let names = EventType.allCases.map(\.name)
        XCTAssertEqual(names, ["unshare", "setns", "clone", "clone3", "mount", "umount", "pivot_root",
                               "fsopen", "fsconfig", "fsmount", "move_mount", "open_tree", "mount_setattr",
                               "exec", "cgroup_mkdir"])
        XCTAssertEqual(EventType.timelineCases.count, 13)
        XCTAssertEqual(EventType.allCases.filter(\.isInternal), [.exec, .cgroupMkdir])
        for t in EventType.allCases { XCTAssertEqual(EventType(name: t.name), t) }
        XCTAssertEqual(EventType(name: "umount2"), .umount)
        XCTAssertNil(EventType(name: "open"))
        XCTAssertEqual(EventType.allCases.filter(\.hasStrings).count, 10)
    }

    func testNamespaceTypes() {
        XCTAssertEqual(NamespaceType.allCases.map(\.name), ["mnt", "net", "pid", "uts", "ipc", "user", "cgroup", "time"])
        XCTAssertEqual(NamespaceType.mnt.cloneFlag, 0x20000)
        XCTAssertEqual(NamespaceType.cgroup.cloneFlag, 0x0200_0000)
        XCTAssertEqual(NamespaceType.uts.cloneFlag, 0x0400_0000)
        XCTAssertEqual(NamespaceType.ipc.cloneFlag, 0x0800_0000)
        XCTAssertEqual(NamespaceType.user.cloneFlag, 0x1000_0000)
        XCTAssertEqual(NamespaceType.pid.cloneFlag, 0x2000_0000)
        XCTAssertEqual(NamespaceType.net.cloneFlag, 0x4000_0000)
        XCTAssertEqual(NamespaceType.time.cloneFlag, 0x80)
        for t in NamespaceType.allCases {
            XCTAssertEqual(NamespaceType(name: t.name), t)
            XCTAssertEqual(NamespaceType(cloneFlag: t.cloneFlag), t)
        }
        XCTAssertNil(NamespaceType(cloneFlag: 0))
        XCTAssertNil(NamespaceType(cloneFlag: 0x4002_0000))
        XCTAssertNil(NamespaceType(name: "foo"))
        XCTAssertEqual((0..<10).map { NamespaceSlot.name($0).description },
                       ["mnt", "net", "pid", "uts", "ipc", "user", "cgroup", "time", "pid_for_children", "time_for_children"])
        XCTAssertEqual(NamespaceType.pid.slots, [2, 8])
        XCTAssertEqual(NamespaceSlot.type(9), .time)
    }
}
