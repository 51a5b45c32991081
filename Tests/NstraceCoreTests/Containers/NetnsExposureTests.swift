import Foundation
import XCTest
@testable import NstraceCore
#if canImport(Glibc)
import Glibc
#endif

/// Mounts for real (needs root, like the rest of `make test`), in a private directory that
/// plays /run/netns, so `ip netns` on the host is not disturbed.
final class NetnsExposureTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "nstrace-netns-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    override func tearDown() {
        // Whatever a failed test left: the namespace files, then the directory's self-bind.
        if let names = try? FileManager.default.contentsOfDirectory(atPath: directory) {
            for name in names {
                _ = umount2(directory + "/" + name, Int32(MNT_DETACH))
                _ = unlink(directory + "/" + name)
            }
        }
        while umount2(directory, Int32(MNT_DETACH)) == 0 {}
        _ = rmdir(directory)
    }

    private func ownNetInode() throws -> UInt64 {
        try XCTUnwrap(ProcNamespaces.inode(of: .net, pid: getpid()))
    }

    func testExposeAndUnexposeLikeIpNetns() throws {
        XCTAssertEqual(geteuid(), 0, "needs root: mounts")
        let exposure = NetnsExposure(runDirectory: directory)
        let inode = try ownNetInode()

        XCTAssertEqual(try exposure.expose(pid: getpid(), expectedInode: inode, name: "t1"), .exposed(path: directory + "/t1"))
        var info = stat()
        XCTAssertEqual(stat(directory + "/t1", &info), 0)
        XCTAssertEqual(UInt64(info.st_ino), inode, "the file shows the namespace")
        XCTAssertTrue(NetnsExposure.isMountPoint(directory), "the directory became a mount point, as ip netns makes it")
        let table = try MountInfo.read(pid: getpid())
        let own = try XCTUnwrap(table.entries.last { $0.mountPoint == directory })
        XCTAssertEqual(own.propagation.kind, .shared, "and a shared one")
        let file = try XCTUnwrap(table.entries.last { $0.mountPoint == directory + "/t1" })
        XCTAssertEqual(file.fsType, "nsfs")

        XCTAssertEqual(try exposure.expose(pid: getpid(), expectedInode: inode, name: "t1"), .alreadyExposed(path: directory + "/t1"))
        // A second name for the same namespace is fine; the directory is not bound again.
        XCTAssertEqual(try exposure.expose(pid: getpid(), expectedInode: inode, name: "t2"), .exposed(path: directory + "/t2"))
        XCTAssertEqual(try MountInfo.read(pid: getpid()).entries.filter { $0.mountPoint == directory }.count, 1)

        try exposure.unexpose(name: "t1")
        try exposure.unexpose(name: "t2")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/t1"))
        XCTAssertFalse(try MountInfo.read(pid: getpid()).entries.contains { $0.mountPoint.hasPrefix(directory + "/") })
        XCTAssertThrowsError(try exposure.unexpose(name: "t1")) { error in
            XCTAssertEqual(error as? NetnsExposureError, .notExposed(path: directory + "/t1"))
        }
    }

    func testRefusals() throws {
        let exposure = NetnsExposure(runDirectory: directory)
        let inode = try ownNetInode()
        for bad in ["", ".", "..", "a/b", String(repeating: "n", count: 256)] {
            XCTAssertThrowsError(try exposure.expose(pid: getpid(), expectedInode: inode, name: bad)) { error in
                XCTAssertEqual(error as? NetnsExposureError, .invalidName(bad))
            }
            XCTAssertThrowsError(try exposure.unexpose(name: bad))
        }
        // The pid's namespace is not the one expected (the pid was reused): refused.
        XCTAssertThrowsError(try exposure.expose(pid: getpid(), expectedInode: inode + 1, name: "x")) { error in
            XCTAssertEqual(error as? NetnsExposureError, .processExited(pid: getpid()))
        }
        let gone = ContainersTestSupport.unusedPID()
        XCTAssertThrowsError(try exposure.expose(pid: gone, expectedInode: inode, name: "x")) { error in
            XCTAssertEqual(error as? NetnsExposureError, .processExited(pid: gone))
        }
        // Something else already has the name.
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: directory + "/taken", contents: Data("data".utf8))
        // (issue 10) a regular file, a directory, a dangling link, a link to a file, an empty
        // file that expose did not make: each named as what it is, and not ours to remove
        try FileManager.default.createDirectory(atPath: directory + "/dir", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: directory + "/dangling", withDestinationPath: "/nonexistent-\(getpid())")
        try FileManager.default.createSymbolicLink(atPath: directory + "/passwd", withDestinationPath: "/etc/passwd")
        _ = FileManager.default.createFile(atPath: directory + "/user-empty", contents: nil, attributes: [.posixPermissions: 0o644])
        let occupied = [("taken", "a regular file"), ("dir", "a directory"), ("dangling", "a dangling symbolic link to /nonexistent-\(getpid())"),
                        ("passwd", "a symbolic link to /etc/passwd"), ("user-empty", "an empty file (mode 644, not made by expose)")]
        for (name, what) in occupied {
            let expected = NetnsExposureError.occupied(path: directory + "/" + name, what: what)
            XCTAssertThrowsError(try exposure.expose(pid: getpid(), expectedInode: inode, name: name)) { error in
                XCTAssertEqual(error as? NetnsExposureError, expected)
                XCTAssertFalse("\(error)".contains("another network namespace"), "\(error)")
            }
            XCTAssertThrowsError(try exposure.unexpose(name: name)) { error in
                XCTAssertEqual(error as? NetnsExposureError, expected)
            }
            var info = stat()
            XCTAssertEqual(lstat(directory + "/" + name, &info), 0, "\(name) was removed")
        }
        XCTAssertEqual(try String(contentsOfFile: "/etc/passwd", encoding: .utf8).isEmpty, false)
        // A symlink made by hand (the seed article's `ln -s /proc/PID/ns/net`) is removed.
        try FileManager.default.createSymbolicLink(atPath: directory + "/link", withDestinationPath: "/proc/\(getpid())/ns/net")
        try exposure.unexpose(name: "link")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/link"))
        // The empty mode-0 file an interrupted expose or `ip netns add` leaves is removed.
        _ = FileManager.default.createFile(atPath: directory + "/empty", contents: nil, attributes: [.posixPermissions: 0])
        try exposure.unexpose(name: "empty")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/empty"))
    }
}
