import XCTest
@testable import NstraceCore

/// The decoder's named fields for the calls whose args/aux mean different things per type.
final class EventCallsTests: XCTestCase {
    func testSetnsByFileAndByPidfd() {
        var file = Fixture(.setns)
        file.setArg(0, int: 7)
        file.setArg(1, 0x4000_0000)
        file.setAux(0, 0x4000_0000)
        file.setAux(1, 4_026_532_800)
        file.event.withView { ev in
            let call = ev.setns
            XCTAssertEqual(call.fd, 7)
            XCTAssertFalse(call.viaPidfd)
            XCTAssertEqual(call.targetType, 0x4000_0000)
            XCTAssertEqual(call.targetInode, 4_026_532_800)
            XCTAssertEqual(call.targetPID, 0)
        }
        var pidfd = Fixture(.setns)
        pidfd.setArg(0, int: 5)
        pidfd.setArg(1, 0x6000_0000)
        pidfd.setAux(0, 0x6000_0000)
        pidfd.setAux(1, 99)      // not an inode for a pidfd: ignored
        pidfd.setAux(2, 4242)
        pidfd.setAux(3, 1)
        pidfd.event.withView { ev in
            let call = ev.setns
            XCTAssertTrue(call.viaPidfd)
            XCTAssertEqual(call.targetInode, 0)
            XCTAssertEqual(call.targetPID, 4242)
            XCTAssertEqual(call.nstype, 0x6000_0000)
        }
    }

    func testFsconfigCommandsAndMountSetattr() {
        XCTAssertEqual(FsconfigCommand.allCases.filter(\.hasStringValue), [.setString, .setPath, .setPathEmpty])
        XCTAssertEqual(FsconfigCommand.allCases.filter(\.takesDirectoryFD), [.setPath, .setPathEmpty])
        for command in FsconfigCommand.allCases {
            XCTAssertEqual("\(FlagNames.fsconfigCommandName(command.rawValue)!)".hasPrefix("FSCONFIG_"), true)
        }
        var f = Fixture(.fsconfig)
        f.setArg(1, 99)
        f.setArg(4, int: -100)
        f.event.withView { ev in
            XCTAssertNil(ev.fsconfig.command)
            XCTAssertEqual(ev.fsconfig.rawCommand, 99)
            XCTAssertEqual(ev.fsconfig.aux, -100)
        }
        var m = Fixture(.mountSetattr)
        m.setAux(0, MountSetattrCall.idmapFlag | 1)
        m.setAux(3, 12)
        m.event.withView { XCTAssertEqual($0.mountSetattr.usernsFD, 12) }
        m.setAux(0, 1)
        m.event.withView { XCTAssertNil($0.mountSetattr.usernsFD, "userns_fd only with MOUNT_ATTR_IDMAP") }
    }

    /// Every call of the mount family and the namespace calls by name: each field from the
    /// argument the ABI header says it is.
    func testNamedFieldsOfEveryCall() {
        var u = Fixture(.unshare)
        u.setArg(0, 0x4002_0000)
        u.event.withView { XCTAssertEqual($0.unshare.flags, 0x4002_0000) }

        var c = Fixture(.clone)
        c.setArg(0, 0x2000_0000 | 17)
        c.setAux(2, 4242)
        c.event.withView { ev in
            XCTAssertEqual(ev.clone.flags, 0x2000_0000)
            XCTAssertEqual(ev.clone.rawFlags, 0x2000_0011)
            XCTAssertEqual(ev.clone.exitSignal, 17)
            XCTAssertEqual(ev.clone.childPID, 4242)
            XCTAssertEqual(ev.cloneFlags, 0x2000_0000)
        }
        var c3 = Fixture(.clone3)
        c3.setAux(0, 0x80)
        c3.setAux(1, 17)
        c3.event.withView { ev in
            XCTAssertEqual(ev.clone.flags, 0x80, "clone3: CLONE_NEWTIME is a flag, not the signal byte")
            XCTAssertEqual(ev.clone.exitSignal, 17)
        }

        var m = Fixture(.mount)
        m.setArg(3, 0xC0ED_0000 | 0x1000)
        m.event.withView { ev in
            XCTAssertEqual(ev.mount.rawFlags, 0xC0ED_1000)
            XCTAssertEqual(ev.mount.flags, MountCall.bindFlag)
        }
        var um = Fixture(.umount)
        um.setArg(1, 2)
        um.event.withView { XCTAssertEqual($0.umount.flags, 2) }
        var fo = Fixture(.fsopen)
        fo.setArg(1, 1)
        fo.event.withView { XCTAssertEqual($0.fsopen.flags, 1) }
        var fm = Fixture(.fsmount)
        fm.setArg(0, int: 5)
        fm.setArg(1, 1)
        fm.setArg(2, 0x11)
        fm.event.withView { ev in
            XCTAssertEqual(ev.fsmount.fsFD, 5)
            XCTAssertEqual(ev.fsmount.flags, 1)
            XCTAssertEqual(ev.fsmount.attrFlags, 0x11)
        }
        var mm = Fixture(.moveMount)
        mm.setArg(0, int: 7)
        mm.setArg(2, int: -100)
        mm.setArg(4, 0x4)
        mm.event.withView { ev in
            XCTAssertEqual(ev.moveMount.fromDfd, 7)
            XCTAssertEqual(ev.moveMount.toDfd, -100)
            XCTAssertEqual(ev.moveMount.flags, 0x4)
        }
        var ot = Fixture(.openTree)
        ot.setArg(0, int: -100)
        ot.setArg(2, 0x8001)
        ot.event.withView { ev in
            XCTAssertEqual(ev.openTree.dfd, -100)
            XCTAssertEqual(ev.openTree.flags, 0x8001)
        }
        var sa = Fixture(.mountSetattr)
        sa.setArg(2, 0x8000)
        sa.setAux(1, 0x70)
        sa.event.withView { ev in
            XCTAssertEqual(ev.mountSetattr.flags, 0x8000)
            XCTAssertTrue(ev.mountSetattr.setsRelatime)
        }
    }
}
