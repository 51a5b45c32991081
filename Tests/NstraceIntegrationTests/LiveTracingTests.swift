import Foundation
import XCTest
import NstraceTestSupport

/// The real BPF programs, loaded by the real `nstrace`, watching real syscalls made by
/// `nstrace-testdriver`; every expected value comes from the driver (and /proc), never from
/// nstrace itself.
final class LiveTracingTests: XCTestCase {
    private func trace(file: StaticString = #filePath, line: UInt = #line) throws -> TraceRun {
        guard Harness.requireRoot(file: file, line: line) else { throw HarnessError("not root") }
        return try Harness.shared.get()
    }

    private func single(_ run: TraceRun, _ event: String, pid: Int, where predicate: (JSONEvent) -> Bool = { _ in true },
                        file: StaticString = #filePath, line: UInt = #line) throws -> JSONEvent {
        let matches = run.events(event, pid: pid).filter(predicate)
        guard matches.count == 1 else {
            XCTFail("expected one \(event) event of pid \(pid), got \(matches.count) (of \(run.events.count) events)", file: file, line: line)
            throw HarnessError("no single \(event) event")
        }
        return matches[0]
    }

    func testUnshareOfEachNamespaceType() throws {
        let run = try trace()
        let facts = run.facts("unshare")
        XCTAssertEqual(facts.count, 8, "the driver unshares all eight namespace types")
        for fact in facts {
            let event = try single(run, "unshare", pid: fact.int("pid"))
            let slot = fact["slot"]
            XCTAssertEqual(event.int("flags_raw"), Int64(fact.int("flags")), fact["type"])
            XCTAssertEqual(event.ns[slot], fact.uint("after"), "\(fact["type"]): ns after = readlink /proc/PID/ns/\(slot)")
            XCTAssertEqual(event.ns_before[slot], fact.uint("before"), "\(fact["type"]): ns before")
            XCTAssertNotEqual(fact.uint("before"), fact.uint("after"))
            XCTAssertEqual(event.ret, 0)
            XCTAssertNil(event.errno)
            XCTAssertEqual(event.comm, "nstdrv")
            XCTAssertEqual(event.tid, event.pid)
            XCTAssertGreaterThan(event.latency_ns, 0)
            XCTAssertEqual(event.flags.count, 1, "\(event.flags)")
        }
        // The types that did not change are not in ns_before.
        if let mnt = facts.first(where: { $0["type"] == "mnt" }) {
            let event = try single(run, "unshare", pid: mnt.int("pid"))
            XCTAssertEqual(Set(event.ns_before.keys), ["mnt"])
            XCTAssertEqual(event.flags, ["CLONE_NEWNS"])
        }
    }

    func testCloneWithNewPidAndUtsNamespaces() throws {
        let run = try trace()
        let fact = try XCTUnwrap(run.facts("clone").first)
        let event = try single(run, "clone", pid: fact.int("pid"))
        XCTAssertEqual(event.int("child_pid"), Int64(fact.int("child")))
        XCTAssertEqual(event.ret, Int64(fact.int("child")))
        XCTAssertEqual(event.ns["pid"], fact.uint("pid_ns"), "the child's own pid namespace")
        XCTAssertEqual(event.ns["uts"], fact.uint("uts"))
        XCTAssertEqual(event.ns["net"], fact.uint("net"))
        XCTAssertEqual(event.ns_before["uts"], fact.uint("parent_uts"))
        XCTAssertEqual(event.ns_before["pid"], fact.uint("parent_pid_ns"))
        XCTAssertNil(event.ns_before["net"], "net did not change")
        XCTAssertTrue(event.flags.contains("CLONE_NEWPID") && event.flags.contains("CLONE_NEWUTS"), "\(event.flags)")
    }

    func testClone3WithNewUtsIpcNetNamespaces() throws {
        let run = try trace()
        let fact = try XCTUnwrap(run.facts("clone3").first)
        let event = try single(run, "clone3", pid: fact.int("pid"))
        XCTAssertEqual(event.int("child_pid"), Int64(fact.int("child")))
        XCTAssertEqual(event.int("flags_raw"), Int64(fact.int("flags")))
        XCTAssertEqual(event.ns["uts"], fact.uint("uts"))
        XCTAssertEqual(event.ns["ipc"], fact.uint("ipc"))
        XCTAssertEqual(event.ns["net"], fact.uint("net"))
        XCTAssertEqual(event.ns_before["net"], fact.uint("parent_net"))
        XCTAssertEqual(Set(event.flags), ["CLONE_NEWUTS", "CLONE_NEWIPC", "CLONE_NEWNET"])
    }

    func testPlainForkIsNoEvent() throws {
        let run = try trace()
        // Every scenario forks children without CLONE_NEW*: only the two clone scenarios may show.
        let clones = run.events.filter { $0.event == "clone" || $0.event == "clone3" }
        XCTAssertEqual(clones.count, 2, clones.map { "\($0.event) \($0.flags)" }.joined(separator: "; "))
    }

    func testSetnsIntoNetAndMntNamespacesAndThroughPidfd() throws {
        let run = try trace()
        let facts = run.facts("setns")
        let net = try XCTUnwrap(facts.first { $0["type"] == "net" })
        let netEvent = try single(run, "setns", pid: net.int("pid")) { $0.int("fd") == Int64(net.int("fd")) && $0.ret == 0 }
        XCTAssertEqual(netEvent.string("nstype"), "CLONE_NEWNET")
        XCTAssertEqual(netEvent.string("target_ns_type"), "net")
        XCTAssertEqual(netEvent.int("target_ns_inode"), Int64(net.uint("inode")))
        XCTAssertEqual(netEvent.ns["net"], net.uint("inode"))
        XCTAssertEqual(netEvent.ns_before["net"], net.uint("before"))

        let mnt = try XCTUnwrap(facts.first { $0["type"] == "mnt" })
        let mntEvent = try single(run, "setns", pid: mnt.int("pid")) { $0.int("fd") == Int64(mnt.int("fd")) }
        XCTAssertEqual(mntEvent.string("target_ns_type"), "mnt", "nstype 0: the type comes from the fd")
        XCTAssertEqual(mntEvent.int("target_ns_inode"), Int64(mnt.uint("inode")))
        XCTAssertEqual(mntEvent.ns["mnt"], mnt.uint("inode"))
        XCTAssertEqual(mntEvent.ns_before["mnt"], mnt.uint("before"))

        let pidfd = try XCTUnwrap(facts.first { $0["type"] == "pidfd" })
        let pidfdEvent = try single(run, "setns", pid: pidfd.int("pid")) { $0.int("fd") == Int64(pidfd.int("fd")) }
        XCTAssertEqual(pidfdEvent.args["pidfd"], .bool(true))
        XCTAssertEqual(pidfdEvent.int("target_pid"), Int64(pidfd.int("target")))
        XCTAssertEqual(pidfdEvent.ns["uts"], pidfd.uint("uts"))

        let failed = try XCTUnwrap(facts.first { $0["type"] == "fail" })
        let failedEvent = try single(run, "setns", pid: failed.int("pid")) { $0.ret < 0 }
        XCTAssertEqual(failedEvent.ret, -Int64(failed.int("errno")))
        XCTAssertEqual(failedEvent.errno, "EINVAL")
    }

    func testMountBindAndUmountOfTmpfs() throws {
        let run = try trace()
        let tmpfs = try XCTUnwrap(run.facts("mount-tmpfs").first)
        let pid = tmpfs.int("pid")
        let mount = try single(run, "mount", pid: pid) { $0.string("fstype") == "tmpfs" }
        XCTAssertEqual(mount.string("source"), "nstrace-test")
        XCTAssertEqual(mount.string("target"), tmpfs["target"])
        XCTAssertEqual(mount.string("data"), "size=1m,mode=755")
        XCTAssertEqual(Set(mount.flags), ["MS_NOSUID", "MS_NODEV"])
        XCTAssertEqual(mount.ret, 0)

        let privateRoot = try single(run, "mount", pid: pid) { $0.string("target") == "/" }
        XCTAssertEqual(Set(privateRoot.flags), ["MS_REC", "MS_PRIVATE"])

        let bind = try XCTUnwrap(run.facts("mount-bind").first)
        let bindEvent = try single(run, "mount", pid: pid) { $0.flags.contains("MS_BIND") }
        XCTAssertEqual(bindEvent.string("source"), bind["source"])
        XCTAssertEqual(bindEvent.string("target"), bind["target"])

        for fact in run.facts("umount") {
            let event = try single(run, "umount", pid: fact.int("pid")) { $0.string("target") == fact["target"] }
            XCTAssertEqual(event.int("flags_raw"), Int64(fact.int("flags")))
            XCTAssertEqual(event.flags, fact.int("flags") == 2 ? ["MNT_DETACH"] : [])
        }
        XCTAssertEqual(run.facts("umount").count, 2)
        // mount events carry the mount namespace they happened in: the one the child unshared
        let unshare = try single(run, "unshare", pid: pid)
        XCTAssertEqual(mount.ns["mnt"], unshare.ns["mnt"])
        XCTAssertNotEqual(unshare.ns["mnt"], unshare.ns_before["mnt"])
    }

    func testPivotRootIntoTmpfs() throws {
        let run = try trace()
        let fact = try XCTUnwrap(run.facts("pivot_root").first)
        let event = try single(run, "pivot_root", pid: fact.int("pid"))
        XCTAssertEqual(event.string("new_root"), fact["new_root"])
        XCTAssertEqual(event.string("put_old"), fact["put_old"])
        XCTAssertEqual(event.ret, 0)
        let detach = try single(run, "umount", pid: fact.int("pid")) { $0.string("target") == "/old" }
        XCTAssertEqual(detach.flags, ["MNT_DETACH"])
    }

    func testNewMountAPI() throws {
        let run = try trace()
        let fact = try XCTUnwrap(run.facts("fsmount").first)
        let pid = fact.int("pid")
        let fsopen = try single(run, "fsopen", pid: pid)
        XCTAssertEqual(fsopen.string("fsname"), "tmpfs")
        XCTAssertEqual(fsopen.ret, Int64(fact.int("fs_fd")))
        XCTAssertEqual(fsopen.flags, ["FSOPEN_CLOEXEC"])

        let size = try single(run, "fsconfig", pid: pid) { $0.string("key") == "size" }
        XCTAssertEqual(size.string("value"), "1m")
        XCTAssertEqual(size.string("cmd"), "FSCONFIG_SET_STRING")
        let create = try single(run, "fsconfig", pid: pid) { $0.string("cmd") == "FSCONFIG_CMD_CREATE" }
        XCTAssertEqual(create.int("fd"), Int64(fact.int("fs_fd")))

        let fsmount = try single(run, "fsmount", pid: pid)
        XCTAssertEqual(fsmount.ret, Int64(fact.int("mnt_fd")))
        XCTAssertEqual(fsmount.args["attr_flags"]?.strings, ["MOUNT_ATTR_NODEV"])

        let move = try single(run, "move_mount", pid: pid)
        XCTAssertEqual(move.int("from_dfd"), Int64(fact.int("mnt_fd")))
        XCTAssertEqual(move.string("from_path"), "")
        XCTAssertEqual(move.string("to_path"), fact["target"])
        XCTAssertEqual(move.int("to_dfd"), -100)
        XCTAssertEqual(move.flags, ["MOVE_MOUNT_F_EMPTY_PATH"])

        let openTree = try single(run, "open_tree", pid: pid)
        XCTAssertEqual(openTree.string("filename"), fact["target"])
        XCTAssertEqual(openTree.ret, Int64(fact.int("tree_fd")))
        XCTAssertTrue(openTree.flags.contains("OPEN_TREE_CLONE"), "\(openTree.flags)")

        let setattr = try single(run, "mount_setattr", pid: pid)
        XCTAssertEqual(setattr.string("path"), fact["target"])
        XCTAssertEqual(setattr.args["attr_set"]?.strings, ["MOUNT_ATTR_RDONLY"])
        XCTAssertEqual(setattr.string("propagation"), "MS_PRIVATE")
    }

    func testFailingMountCarriesItsErrno() throws {
        let run = try trace()
        let fact = try XCTUnwrap(run.facts("mount-fail").first)
        let event = try single(run, "mount", pid: fact.int("pid")) { $0.string("target") == fact["target"] }
        XCTAssertEqual(event.ret, -Int64(fact.int("errno")))
        XCTAssertEqual(event.errno, "ENOENT")
    }

    func testPathLongerThanTheStringCapIsFlaggedTruncated() throws {
        let run = try trace()
        let fact = try XCTUnwrap(run.facts("mount-long").first)
        XCTAssertGreaterThan(fact.int("length"), 511)
        let event = try single(run, "mount", pid: fact.int("pid")) { $0.truncated.contains("target") }
        XCTAssertEqual(event.string("target")?.utf8.count, 511, "the slot keeps 511 bytes")
        XCTAssertEqual(event.truncated, ["target"])
        // strings that fit are not flagged
        let failed = try single(run, "mount", pid: fact.int("pid")) { $0.string("target") == "/nonexistent-nstrace-target" }
        XCTAssertEqual(failed.truncated, [])
    }

    func testHostilePathIsEscapedInTextAndValidInJSON() throws {
        let run = try trace()
        let fact = try XCTUnwrap(run.facts("mount-hostile").first)
        // JSON: the whole output parsed (TraceRun would have failed otherwise); the path survived
        let event = try single(run, "mount", pid: fact.int("pid")) { $0.string("target")?.contains("evil") == true }
        XCTAssertTrue(event.string("target")?.contains("\u{1b}[2J\n") == true, event.string("target") ?? "nil")
        // Text: no raw control byte reaches the terminal; one line per event
        let text = run.textOutput
        XCTAssertFalse(text.contains(0x1b), "a raw ESC reached the text output")
        let lines = text.split(separator: UInt8(ascii: "\n"))
        let evil = lines.filter { String(decoding: $0, as: UTF8.self).contains("evil") }
        XCTAssertEqual(evil.count, 1, "the newline in the path must not split the line")
        XCTAssertTrue(String(decoding: evil[0], as: UTF8.self).contains("\\x1B[2J\\n"), String(decoding: evil[0], as: UTF8.self))
    }

    func testTextAndJSONSawTheSameEventsAndNothingWasLost() throws {
        let run = try trace()
        let textLines = run.textOutput.split(separator: UInt8(ascii: "\n")).dropFirst() // header
        XCTAssertEqual(textLines.count, run.events.count)
        XCTAssertTrue(run.jsonStderr.contains(" 0 lost"), run.jsonStderr)
        XCTAssertTrue(run.events.allSatisfy { $0.comm == "nstdrv" }, "--comm filters")
        // time is RFC 3339 with nanoseconds, UTC
        let time = try XCTUnwrap(run.events.first?.time)
        XCTAssertNotNil(time.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$"#, options: .regularExpression), time)
        XCTAssertEqual(run.events.map(\.ts_ns), run.events.map(\.ts_ns).sorted(), "one CPU's events arrive in order")
    }
}
