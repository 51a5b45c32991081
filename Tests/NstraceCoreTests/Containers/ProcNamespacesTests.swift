import Foundation
import XCTest
@testable import NstraceCore

final class ProcNamespacesTests: XCTestCase {
    func testParseLinkTarget() {
        XCTAssertEqual(ProcNamespaces.parseLinkTarget("net:[4026531840]")?.type, "net")
        XCTAssertEqual(ProcNamespaces.parseLinkTarget("net:[4026531840]")?.inode, 4_026_531_840)
        XCTAssertEqual(ProcNamespaces.parseLinkTarget("pid_for_children:[1]")?.type, "pid_for_children")
        for bad in ["", "net", "net:", "net:[]", "net:4026531840", "[123]", ":[1]", "net:[12a]", "net:[-1]",
                    "net:[ 1]", "net:[1", "net:[99999999999999999999999]", "net:[1]x"] {
            XCTAssertNil(ProcNamespaces.parseLinkTarget(bad), bad)
        }
    }

    func testLinkNamesAndKernelTypes() {
        XCTAssertEqual(ProcNamespaceLink.allCases.map(\.rawValue),
                       ["mnt", "net", "pid", "uts", "ipc", "user", "cgroup", "time", "pid_for_children", "time_for_children"])
        XCTAssertEqual(ProcNamespaceLink.pidForChildren.kernelTypeName, "pid")
        XCTAssertEqual(ProcNamespaceLink.timeForChildren.kernelTypeName, "time")
        XCTAssertEqual(ProcNamespaceLink.net.kernelTypeName, "net")
    }

    func testReadsThisProcess() throws {
        let namespaces = try ProcNamespaces.read(pid: getpid())
        XCTAssertEqual(namespaces.pid, getpid())
        for link in ProcNamespaceLink.allCases where FileManager.default.fileExists(atPath: "/proc/self/ns/\(link.rawValue)") {
            let inode = try XCTUnwrap(namespaces[link], link.rawValue)
            XCTAssertEqual(inode, try statInode("/proc/self/ns/\(link.rawValue)"), link.rawValue)
        }
        // Without an unshare, children get the same pid namespace as the process.
        XCTAssertEqual(namespaces[.pidForChildren], namespaces[.pid])
        XCTAssertNotNil(namespaces[.mnt])
        XCTAssertNotNil(namespaces[.net])
    }

    func testSingleNamespaceMatchesReadlink() throws {
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
        let inode = try ProcNamespaces.inode(of: .net, pid: getpid())
        XCTAssertEqual(target, "net:[\(try XCTUnwrap(inode))]")
    }

    func testExitedProcessSaysWhichPID() {
        let pid = ContainersTestSupport.unusedPID()
        XCTAssertThrowsError(try ProcNamespaces.read(pid: pid)) { error in
            guard let error = error as? ProcReadError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.pid, pid)
            XCTAssertEqual(error.reason, .processExited)
            XCTAssertEqual(error.description, "process \(pid) exited")
        }
    }

    func testReapedChildHasExited() throws {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let pid = child.processIdentifier
        XCTAssertThrowsError(try ProcNamespaces.read(pid: pid)) { error in
            XCTAssertEqual((error as? ProcReadError)?.reason, .processExited, "\(error)")
        }
    }

    func testZombieHasExited() throws {
        // `true` exits at once; the exec'd sleep never reaps it, so it stays a zombie.
        let parent = Process()
        parent.executableURL = URL(fileURLWithPath: "/bin/sh")
        parent.arguments = ["-c", "true & exec sleep 5"]
        try parent.run()
        defer { parent.terminate(); parent.waitUntilExit() }
        let childrenFile = "/proc/\(parent.processIdentifier)/task/\(parent.processIdentifier)/children"

        var zombie: Int32?
        for _ in 0..<100 where zombie == nil {
            usleep(20_000)
            guard let children = try? String(contentsOfFile: childrenFile, encoding: .utf8),
                  let pid = children.split(separator: " ").first.flatMap({ Int32($0) }),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  stat.contains(") Z ")
            else { continue }
            zombie = pid
        }
        guard let zombie else { return XCTFail("no zombie child appeared (no /proc/PID/task/TID/children?)") }

        XCTAssertThrowsError(try ProcNamespaces.read(pid: zombie)) { error in
            XCTAssertEqual((error as? ProcReadError)?.reason, .processExited, "\(error)")
        }
        XCTAssertThrowsError(try MountInfo.read(pid: zombie)) { error in
            XCTAssertEqual((error as? ProcReadError)?.reason, .processExited, "\(error)")
        }
    }

    func testPIDOneIsReadableOrClearlyRefused() {
        // In this sandbox /proc/1/ns/* cannot be read; elsewhere it can.
        do {
            let namespaces = try ProcNamespaces.read(pid: 1)
            XCTAssertNotNil(namespaces[.mnt])
        } catch {
            XCTAssertEqual(error.pid, 1)
            XCTAssertEqual(error.reason, .permissionDenied)
            XCTAssertEqual(error.description, "cannot read /proc/1/ns/mnt of process 1: permission denied")
        }
    }

    // MARK: a fake /proc (symlinks behave like the kernel's for readlink)

    func testFakeProcMissingLinksAreUnsupportedTypes() throws {
        let root = try makeFakeProc(pid: 4242, links: [
            "mnt": "mnt:[4026531841]", "net": "net:[4026531840]", "pid": "pid:[4026531836]",
            "uts": "uts:[4026531838]", "ipc": "ipc:[4026531839]", "user": "user:[4026531837]",
            "cgroup": "cgroup:[4026531835]", "pid_for_children": "pid:[4026532999]",
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let namespaces = try ProcNamespaces.read(pid: 4242, procRoot: root)
        XCTAssertEqual(namespaces[.net], 4_026_531_840)
        XCTAssertEqual(namespaces[.pidForChildren], 4_026_532_999)
        XCTAssertNil(namespaces[.time], "a kernel before 5.6 has no time namespace")
        XCTAssertNil(namespaces[.timeForChildren])
        XCTAssertEqual(namespaces.inodes.count, 8)
    }

    func testFakeProcMalformedAndMismatchedLinks() throws {
        let root = try makeFakeProc(pid: 7, links: ["mnt": "garbage", "net": "pid:[5]", "pid_for_children": "net:[6]"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        XCTAssertThrowsError(try ProcNamespaces.inode(of: .mnt, pid: 7, procRoot: root)) { error in
            XCTAssertEqual((error as? ProcReadError)?.reason, .malformed("garbage"))
            XCTAssertEqual((error as? ProcReadError)?.path, root + "/7/ns/mnt")
        }
        XCTAssertThrowsError(try ProcNamespaces.inode(of: .net, pid: 7, procRoot: root))
        XCTAssertThrowsError(try ProcNamespaces.inode(of: .pidForChildren, pid: 7, procRoot: root))
        XCTAssertThrowsError(try ProcNamespaces.read(pid: 8, procRoot: root)) { error in
            XCTAssertEqual((error as? ProcReadError)?.reason, .processExited)
        }
    }

    // MARK: listing processes

    func testAllProcessesIncludesThisOne() {
        let pids = ProcNamespaces.allProcesses()
        XCTAssertTrue(pids.contains(getpid()))
        XCTAssertEqual(pids, pids.sorted())
        XCTAssertTrue(pids.allSatisfy { $0 > 0 })
    }

    func testAllProcessesOnlyListsNumericEntries() throws {
        let root = NSTemporaryDirectory() + "nstrace-fakeproc-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        for name in ["1", "42", "self", "abc", "0x1", "007", "12a", "99999999999"] {
            try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
        }
        defer { try? FileManager.default.removeItem(atPath: root) }
        XCTAssertEqual(ProcNamespaces.allProcesses(procRoot: root), [1, 42])
        XCTAssertEqual(ProcNamespaces.allProcesses(procRoot: root + "/missing"), [])
    }

    // MARK: helpers

    private func makeFakeProc(pid: Int32, links: [String: String]) throws -> String {
        let root = NSTemporaryDirectory() + "nstrace-fakeproc-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let nsDirectory = "\(root)/\(pid)/ns"
        try FileManager.default.createDirectory(atPath: nsDirectory, withIntermediateDirectories: true)
        for (name, target) in links {
            try FileManager.default.createSymbolicLink(atPath: nsDirectory + "/" + name, withDestinationPath: target)
        }
        return root
    }

    private func statInode(_ path: String) throws -> UInt64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CocoaError(.fileNoSuchFile) }
        return UInt64(info.st_ino)
    }
}
