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
}
