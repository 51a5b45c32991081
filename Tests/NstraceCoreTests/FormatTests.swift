import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import NstraceCore

final class FormatTests: XCTestCase {
    /// `TIME PID COMM EVENT ` as the text formatter lays it out.
    private func prefix(_ event: String, comm: String = "nstest") -> String {
        "08:40:01.123456    4242 " + comm.padding(toLength: 16, withPad: " ", startingAt: 0) + " "
            + event.padding(toLength: 13, withPad: " ", startingAt: 0) + " "
    }

    private func assertText(_ f: Fixture, _ detail: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(f.event.text(), prefix(f.type.name) + detail + "\n", file: file, line: line)
    }

    private func json(_ f: Fixture, file: StaticString = #filePath, line: UInt = #line) -> [String: Any] {
        let s = f.event.json()
        XCTAssertTrue(s.hasSuffix("}\n"), file: file, line: line)
        XCTAssertEqual(s.filter { $0 == "\n" }.count, 1, "one line", file: file, line: line)
        guard let obj = try? JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any] else {
            XCTFail("invalid JSON: \(s)", file: file, line: line)
            return [:]
        }
        return obj
    }

    // MARK: text

    func testHeader() {
        var o = OutputBuffer()
        TextFormatter(color: false, clock: testClock).appendHeader(into: &o)
        XCTAssertEqual(o.string, "TIME                PID COMM             EVENT         DETAIL\n")
        // the header's columns line up with the events'
        let line = unshareFixture().event.text()
        XCTAssertEqual(Array(o.string.utf8).firstIndex(of: UInt8(ascii: "C")), 24)
        XCTAssertEqual(Array(line.utf8)[24...].starts(with: Array("nstest".utf8)), true)
    }

    private func unshareFixture() -> Fixture {
        var f = Fixture(.unshare)
        f.setArg(0, 0x4002_0000)
        f.e.flags = EventFlags.nsBefore
        f.setNsBefore(NamespaceSlot.mnt.index, 4_026_531_841)
        f.setNs(NamespaceSlot.mnt.index, 4_026_532_693)
        f.setNsBefore(NamespaceSlot.net.index, 4_026_531_840)
        f.setNs(NamespaceSlot.net.index, 4_026_532_696)
        return f
    }

    func testUnshare() {
        var f = unshareFixture()
        assertText(f, "CLONE_NEWNS|CLONE_NEWNET mnt:[4026531841→4026532693] net:[4026531840→4026532696]")
        // without NST_F_NS_BEFORE nothing is compared
        f.e.flags = 0
        assertText(f, "CLONE_NEWNS|CLONE_NEWNET")
        // unshare(CLONE_NEWPID) changes pid_for_children, not pid
        f = Fixture(.unshare)
        f.setArg(0, 0x2000_0000)
        f.e.flags = EventFlags.nsBefore
        f.setNs(NamespaceSlot.pidForChildren.index, 4_026_532_800)
        assertText(f, "CLONE_NEWPID pid_for_children:[4026531843→4026532800]")
        f.e.ret = -1
        f.setNs(NamespaceSlot.pidForChildren.index, 4_026_531_843)
        assertText(f, "CLONE_NEWPID = -1 EPERM")
    }

    func testMount() {
        var f = Fixture(.mount)
        f.setString(0, "tmpfs")
        f.setString(1, "/mnt")
        f.setString(2, "tmpfs")
        f.setString(3, [], null: true)
        f.setArg(3, 2)
        assertText(f, "tmpfs on /mnt type tmpfs (MS_NOSUID)")
        f.setString(3, "size=1m,mode=\"755\"")
        assertText(f, "tmpfs on /mnt type tmpfs (MS_NOSUID) data=\"size=1m,mode=\\\"755\\\"\"")
        f.e.ret = -16
        assertText(f, "tmpfs on /mnt type tmpfs (MS_NOSUID) data=\"size=1m,mode=\\\"755\\\"\" = -1 EBUSY")
    }

    func testBindAndPropagationMounts() {
        var f = Fixture(.mount)
        f.setString(0, "/src")
        f.setString(1, "/dst")
        f.setString(2, [], null: true)
        f.setString(3, [], null: true)
        f.setArg(3, 0xC0ED_0000 | 0x1000 | 0x4000)
        assertText(f, "/src on /dst (MS_BIND|MS_REC)")
        f = Fixture(.mount)
        f.setString(0, [], null: true)
        f.setString(1, "/")
        f.setString(2, [], null: true)
        f.setString(3, [], null: true)
        f.setArg(3, (1 << 18) | (1 << 14))
        assertText(f, "/ (MS_REC|MS_PRIVATE)")
        f.setString(0, "none")
        assertText(f, "none on / (MS_REC|MS_PRIVATE)")
    }

    func testTruncatedAndFaultedStrings() {
        var f = Fixture(.mount)
        f.setString(0, "tmpfs")
        f.setString(1, [UInt8](repeating: UInt8(ascii: "a"), count: 600))
        f.setString(2, "tmpfs")
        f.setString(3, [], null: true)
        assertText(f, "tmpfs on " + String(repeating: "a", count: 511) + "… type tmpfs")
        f.fault(2)
        f.strings[2] = []
        assertText(f, "tmpfs on " + String(repeating: "a", count: 511) + "… type <fault>")
    }

    func testUmountPivotRoot() {
        var f = Fixture(.umount)
        f.setString(0, "/mnt")
        f.setArg(1, 2)
        assertText(f, "/mnt (MNT_DETACH)")
        f.setArg(1, 0)
        f.e.ret = -22
        assertText(f, "/mnt = -1 EINVAL")

        var p = Fixture(.pivotRoot)
        p.setString(0, "/x")
        p.setString(1, "/x/old")
        assertText(p, "new_root=/x put_old=/x/old")
    }

    func testSetns() {
        var f = Fixture(.setns)
        f.setArg(0, 3)
        f.setArg(1, 0)
        f.setAux(0, 0x4000_0000)
        f.setAux(1, 4_026_532_700)
        assertText(f, "fd=3 net:[4026532700]")
        f.setArg(1, 0x4000_0000)
        assertText(f, "fd=3 nstype=CLONE_NEWNET net:[4026532700]")
        f.e.ret = -22
        f.setArg(1, 0x0400_0000)
        assertText(f, "fd=3 nstype=CLONE_NEWUTS net:[4026532700] = -1 EINVAL")

        var p = Fixture(.setns)
        p.setArg(0, 4)
        p.setArg(1, 0x4400_0000)
        p.setAux(0, 0x4400_0000)
        p.setAux(2, 1234)
        p.setAux(3, 1)
        assertText(p, "pidfd=4 (pid 1234) CLONE_NEWNET|CLONE_NEWUTS")
        p.e.flags = EventFlags.nsBefore
        p.setNs(NamespaceSlot.net.index, 4_026_532_700)
        assertText(p, "pidfd=4 (pid 1234) CLONE_NEWNET|CLONE_NEWUTS net:[4026531836→4026532700]")
    }

    func testClone() {
        var f = Fixture(.clone)
        f.setArg(0, 0x2400_0000 | 17)
        f.setAux(2, 1234)
        f.e.ret = 1234
        f.e.flags = EventFlags.nsBefore | EventFlags.childNs
        f.setNs(NamespaceSlot.pid.index, 4_026_532_900)
        f.setNs(NamespaceSlot.uts.index, 4_026_532_901)
        f.setNs(NamespaceSlot.pidForChildren.index, 4_026_532_900)
        assertText(f, "CLONE_NEWPID|CLONE_NEWUTS|SIGCHLD child=1234 pid:[4026531837→4026532900] uts:[4026531838→4026532901] pid_for_children:[4026531843→4026532900]")
        f.e.ret = -1
        f.e.flags = 0
        assertText(f, "CLONE_NEWPID|CLONE_NEWUTS|SIGCHLD = -1 EPERM")

        var c3 = Fixture(.clone3)
        c3.setArg(1, 88)
        c3.setAux(0, 0x1000_0000 | 0x80)
        c3.setAux(1, 17)
        c3.setAux(2, 0)
        c3.e.ret = 77
        assertText(c3, "CLONE_NEWUSER|CLONE_NEWTIME|SIGCHLD child=77")
    }

    func testNewMountAPI() {
        var o = Fixture(.fsopen)
        o.setString(0, "tmpfs")
        o.setArg(1, 1)
        o.e.ret = 3
        assertText(o, "\"tmpfs\" (FSOPEN_CLOEXEC) = 3")
        o.e.ret = -19
        assertText(o, "\"tmpfs\" (FSOPEN_CLOEXEC) = -1 ENODEV")

        var c = Fixture(.fsconfig)
        c.setArg(0, 3)
        c.setArg(1, 1)
        c.setString(0, "size")
        c.setString(1, "1m")
        assertText(c, "fd=3 FSCONFIG_SET_STRING key=\"size\" value=\"1m\"")
        c = Fixture(.fsconfig)
        c.setArg(0, 3)
        c.setArg(1, 6)
        c.setString(0, [], null: true)
        c.setString(1, [], null: true)
        assertText(c, "fd=3 FSCONFIG_CMD_CREATE")
        c.setArg(1, 0)
        c.setString(0, "ro")
        assertText(c, "fd=3 FSCONFIG_SET_FLAG key=\"ro\"")
        c.setArg(1, 5)
        c.setString(0, "source")
        c.setArg(4, 7)
        assertText(c, "fd=3 FSCONFIG_SET_FD key=\"source\" value_fd=7")
        c.setArg(1, 3)
        c.setString(1, "/dev/sda1")
        c.setArg(4, int: -100)
        assertText(c, "fd=3 FSCONFIG_SET_PATH key=\"source\" value=\"/dev/sda1\" dfd=AT_FDCWD")

        var m = Fixture(.fsmount)
        m.setArg(0, 3)
        m.setArg(1, 1)
        m.setArg(2, 4)
        m.e.ret = 4
        assertText(m, "fs_fd=3 (FSMOUNT_CLOEXEC) attr=MOUNT_ATTR_NODEV = 4")

        var mv = Fixture(.moveMount)
        mv.setArg(0, 4)
        mv.setString(0, "")
        mv.setArg(2, UInt64(bitPattern: -100))      // sign-extended
        mv.setString(1, "/mnt")
        mv.setArg(4, 4)
        assertText(mv, "from fd=4 \"\" to fd=AT_FDCWD \"/mnt\" (MOVE_MOUNT_F_EMPTY_PATH)")
        mv.setArg(2, 0xFFFF_FF9C)                   // zero-extended int
        assertText(mv, "from fd=4 \"\" to fd=AT_FDCWD \"/mnt\" (MOVE_MOUNT_F_EMPTY_PATH)")

        var t = Fixture(.openTree)
        t.setArg(0, int: -100)
        t.setString(0, "/src")
        t.setArg(2, 1 | 0x80000 | 0x8000)
        t.e.ret = 5
        assertText(t, "fd=AT_FDCWD \"/src\" (OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_RECURSIVE) = 5")

        var s = Fixture(.mountSetattr)
        s.setArg(0, int: -100)
        s.setString(0, "/mnt")
        s.setArg(2, 0x8000)
        s.setAux(0, 1)
        s.setAux(1, 2)
        s.setAux(2, 1 << 18)
        assertText(s, "fd=AT_FDCWD \"/mnt\" (AT_RECURSIVE) attr_set=MOUNT_ATTR_RDONLY attr_clr=MOUNT_ATTR_NOSUID propagation=MS_PRIVATE")
        s.setAux(0, 0x10_0000)
        s.setAux(1, 0x70)
        s.setAux(2, 0)
        s.setAux(3, 9)
        assertText(s, "fd=AT_FDCWD \"/mnt\" (AT_RECURSIVE) attr_set=MOUNT_ATTR_IDMAP|MOUNT_ATTR_RELATIME attr_clr=MOUNT_ATTR__ATIME userns_fd=9")
    }

    func testHostileText() {
        var f = Fixture(.mount)
        f.setComm([0x1B, 0x5B, 0x32, 0x4A, 0x41])          // ESC [ 2 J A
        f.setString(0, [0x1B, 0x5D, 0x30, 0x3B, 0x07])     // ESC ] 0 ; BEL
        f.setString(1, Array("/mnt/\u{1B}[2J\n\u{9B}x\\".utf8) + [0xFF])
        f.setString(2, "tmpfs")
        f.setString(3, [], null: true)
        let line = f.event.text()
        XCTAssertEqual(line, prefix("mount", comm: "\\x1B[2JA") + "\\x1B]0;\\x07 on /mnt/\\x1B[2J\\n\\xC2\\x9Bx\\\\\\xFF type tmpfs\n")
        let bytes = Array(line.utf8)
        XCTAssertFalse(bytes.dropLast().contains { $0 < 0x20 || $0 == 0x7F })
    }

    func testColor() {
        let ns = unshareFixture().event.text(color: true)
        XCTAssertTrue(ns.contains("\u{1B}[36munshare\u{1B}[0m       CLONE_NEWNS"), ns)
        var m = Fixture(.umount)
        m.setString(0, "/mnt")
        XCTAssertTrue(m.event.text(color: true).contains("\u{1B}[33mumount\u{1B}[0m"))
        m.e.ret = -1
        let failed = m.event.text(color: true)
        XCTAssertTrue(failed.contains("\u{1B}[1;31mumount\u{1B}[0m"))
        XCTAssertTrue(failed.hasSuffix("/mnt\u{1B}[1;31m = -1 EPERM\u{1B}[0m\n"))
        XCTAssertFalse(m.event.text(color: false).contains("\u{1B}"))
    }

    func testContainerColumnAndKeys() {
        let record = ContainerAttribution(cgroups: nil, hostNamespaces: []).register(ContainerIdentity(id: "web1", runtime: .runc, name: "we\u{1B}b"))
        let tf = TextFormatter(color: false, clock: testClock, showsContainer: true)
        var header = OutputBuffer()
        tf.appendHeader(into: &header)
        XCTAssertTrue(header.string.contains(" COMM             CONTAINER    EVENT "), header.string)
        var o = OutputBuffer()
        unshareFixture().event.withView { tf.append(AttributedEvent($0, container: record), into: &o) }
        unshareFixture().event.withView { tf.append(AttributedEvent($0), into: &o) }
        let lines = o.string.split(separator: "\n")
        XCTAssertTrue(lines[0].contains(" we\\x1Bb      unshare "), String(lines[0]))
        XCTAssertTrue(lines[1].contains(" -            unshare "), String(lines[1]))

        let jf = JSONFormatter(clock: testClock, includesContainer: true)
        var j = OutputBuffer()
        Fixture(.setns).event.withView { jf.append(AttributedEvent($0, container: nil, target: record), into: &j) }
        let obj = try! JSONSerialization.jsonObject(with: Data(j.bytes)) as! [String: Any]
        XCTAssertTrue(obj["container"] is NSNull)
        XCTAssertEqual((obj["target_container"] as? [String: Any])?["name"] as? String, "we\u{1B}b")
    }

    // MARK: JSON

    static let keys = ["time", "ts_ns", "event", "pid", "tid", "ppid", "ns_pid", "comm", "uid", "gid", "cgroup_id",
                       "ns", "ns_before", "flags", "args", "ret", "errno", "latency_ns", "truncated"]

    func testJSONUnshare() {
        let f = unshareFixture()
        let line = f.event.json()
        // key order
        var last = line.startIndex
        for k in Self.keys {
            guard let r = line.range(of: "\"\(k)\":", range: last..<line.endIndex) else { XCTFail(k); continue }
            last = r.upperBound
        }
        let o = json(f)
        XCTAssertEqual(Set(o.keys), Set(Self.keys))
        XCTAssertEqual(o["time"] as? String, "2026-11-29T07:40:01.123456789Z")
        XCTAssertEqual((o["ts_ns"] as? NSNumber)?.uint64Value, Fixture.ts)
        XCTAssertEqual(o["event"] as? String, "unshare")
        XCTAssertEqual(o["pid"] as? Int, 4242)
        XCTAssertEqual(o["tid"] as? Int, 4243)
        XCTAssertEqual(o["ppid"] as? Int, 1)
        XCTAssertEqual(o["ns_pid"] as? Int, 42)
        XCTAssertEqual(o["comm"] as? String, "nstest")
        XCTAssertEqual(o["uid"] as? Int, 0)
        XCTAssertEqual(o["gid"] as? Int, 0)
        XCTAssertEqual(o["cgroup_id"] as? Int, 7777)
        let ns = o["ns"] as? [String: Int] ?? [:]
        XCTAssertEqual(ns.count, 10)
        XCTAssertEqual(ns["mnt"], 4_026_532_693)
        XCTAssertEqual(ns["net"], 4_026_532_696)
        XCTAssertEqual(ns["pid_for_children"], 4_026_531_843)
        XCTAssertEqual(ns["time_for_children"], 4_026_531_844)
        XCTAssertEqual(o["ns_before"] as? [String: Int], ["mnt": 4_026_531_841, "net": 4_026_531_840])
        XCTAssertEqual(o["flags"] as? [String], ["CLONE_NEWNS", "CLONE_NEWNET"])
        XCTAssertEqual(o["args"] as? [String: Int], ["flags_raw": 0x4002_0000])
        XCTAssertEqual(o["ret"] as? Int, 0)
        XCTAssertTrue(o["errno"] is NSNull)
        XCTAssertEqual(o["latency_ns"] as? Int, 2500)
        XCTAssertEqual(o["truncated"] as? [String], [])
    }

    func testJSONMountFailure() {
        var f = Fixture(.mount)
        f.setString(0, "/src")
        f.setString(1, "/dst")
        f.setString(2, [], null: true)
        f.setString(3, [], null: true)
        f.setArg(3, 0xC0ED_0000 | 0x1000)
        f.e.ret = -13
        let o = json(f)
        XCTAssertEqual(o["errno"] as? String, "EACCES")
        XCTAssertEqual(o["ret"] as? Int, -13)
        XCTAssertEqual(o["flags"] as? [String], ["MS_BIND"])
        XCTAssertEqual(o["ns_before"] as? [String: Int], [:])
        let a = o["args"] as? [String: Any] ?? [:]
        XCTAssertEqual(a["source"] as? String, "/src")
        XCTAssertEqual(a["target"] as? String, "/dst")
        XCTAssertTrue(a["fstype"] is NSNull)
        XCTAssertTrue(a["data"] is NSNull)
        XCTAssertEqual(a["flags_raw"] as? Int, 0xC0ED_1000)
    }

    func testJSONArgsPerEvent() {
        var s = Fixture(.setns)
        s.setArg(0, 3)
        s.setAux(0, 0x4000_0000)
        s.setAux(1, 4_026_532_700)
        var a = json(s)["args"] as? [String: Any] ?? [:]
        XCTAssertEqual(a["fd"] as? Int, 3)
        XCTAssertEqual(a["nstype"] as? String, "any")
        XCTAssertEqual(a["pidfd"] as? Bool, false)
        XCTAssertEqual(a["target_ns_type"] as? String, "net")
        XCTAssertEqual(a["target_ns_inode"] as? Int, 4_026_532_700)
        XCTAssertTrue(a["target_pid"] is NSNull)
        XCTAssertEqual(json(s)["flags"] as? [String], [])

        var p = Fixture(.setns)
        p.setArg(0, 4)
        p.setArg(1, 0x4400_0000)
        p.setAux(0, 0x4400_0000)
        p.setAux(2, 1234)
        p.setAux(3, 1)
        a = json(p)["args"] as? [String: Any] ?? [:]
        XCTAssertEqual(a["nstype"] as? String, "CLONE_NEWNET|CLONE_NEWUTS")
        XCTAssertEqual(a["pidfd"] as? Bool, true)
        XCTAssertEqual(a["target_pid"] as? Int, 1234)
        XCTAssertTrue(a["target_ns_type"] is NSNull)
        XCTAssertEqual(json(p)["flags"] as? [String], ["CLONE_NEWNET", "CLONE_NEWUTS"])

        var c = Fixture(.clone)
        c.setArg(0, 0x2000_0000 | 17)
        c.setAux(2, 999)
        c.e.ret = 5
        let co = json(c)
        a = co["args"] as? [String: Any] ?? [:]
        XCTAssertEqual(a["child_pid"] as? Int, 999)
        XCTAssertEqual(a["exit_signal"] as? String, "SIGCHLD")
        XCTAssertEqual(a["flags_raw"] as? Int, 0x2000_0011)
        XCTAssertEqual(co["flags"] as? [String], ["CLONE_NEWPID"])

        var fc = Fixture(.fsconfig)
        fc.setArg(0, 3)
        fc.setArg(1, 1)
        fc.setString(0, "size")
        fc.setString(1, "1m")
        a = json(fc)["args"] as? [String: Any] ?? [:]
        XCTAssertEqual(a["cmd"] as? String, "FSCONFIG_SET_STRING")
        XCTAssertEqual(a["key"] as? String, "size")
        XCTAssertEqual(a["value"] as? String, "1m")
        XCTAssertEqual(a["fd"] as? Int, 3)

        var mv = Fixture(.moveMount)
        mv.setArg(0, 4)
        mv.setString(0, "")
        mv.setArg(2, UInt64(bitPattern: -100))
        mv.setString(1, "/mnt")
        mv.setArg(4, 4)
        let mo = json(mv)
        a = mo["args"] as? [String: Any] ?? [:]
        XCTAssertEqual(a["from_dfd"] as? Int, 4)
        XCTAssertEqual(a["from_path"] as? String, "")
        XCTAssertEqual(a["to_dfd"] as? Int, -100)
        XCTAssertEqual(a["to_path"] as? String, "/mnt")
        XCTAssertEqual(mo["flags"] as? [String], ["MOVE_MOUNT_F_EMPTY_PATH"])

        var fm = Fixture(.fsmount)
        fm.setArg(0, 3)
        fm.setArg(1, 1)
        fm.setArg(2, 0x14)
        fm.e.ret = 4
        a = json(fm)["args"] as? [String: Any] ?? [:]
        XCTAssertEqual(a["attr_flags"] as? [String], ["MOUNT_ATTR_NODEV", "MOUNT_ATTR_NOATIME"])

        var ms = Fixture(.mountSetattr)
        ms.setArg(0, int: -100)
        ms.setString(0, "/mnt")
        ms.setArg(2, 0x8000)
        ms.setAux(0, 1)
        ms.setAux(1, 0x70)
        ms.setAux(2, 1 << 20)
        let mso = json(ms)
        a = mso["args"] as? [String: Any] ?? [:]
        XCTAssertEqual(a["attr_set"] as? [String], ["MOUNT_ATTR_RDONLY", "MOUNT_ATTR_RELATIME"])
        XCTAssertEqual(a["attr_clr"] as? [String], ["MOUNT_ATTR__ATIME"])
        XCTAssertEqual(a["propagation"] as? String, "MS_SHARED")
        XCTAssertTrue(a["userns_fd"] is NSNull)
        XCTAssertEqual(mso["flags"] as? [String], ["AT_RECURSIVE"])

        // every event type produces valid JSON even from an all-zero body
        for t in EventType.allCases {
            let o = json(Fixture(t))
            XCTAssertEqual(o["event"] as? String, t.name)
            XCTAssertEqual(Set(o.keys), Set(Self.keys))
        }
    }

    func testJSONHostileBytes() {
        var f = Fixture(.mount)
        f.setComm([0x22, 0x5C, 0x01, 0xFF, 0x1B])
        f.setString(0, [UInt8](repeating: UInt8(ascii: "s"), count: 700))      // cut at 511
        f.setString(1, Array("/mnt/\u{1B}[2J".utf8) + [0x0A, 0x09, 0x00, 0x7F, 0xC0, 0x80, 0xED, 0xA0, 0x80, 0xF4, 0x90, 0x80, 0x80]
                       + Array("\"q\"\\é€😀\u{2028}".utf8) + [0xE2, 0x82])
        f.setString(2, [0xFF])
        f.setString(3, [0x00, 0x1F])
        let o = json(f)
        XCTAssertEqual(o["comm"] as? String, "\"\\\u{01}\u{FFFD}\u{1B}")
        let a = o["args"] as? [String: Any] ?? [:]
        XCTAssertEqual(a["source"] as? String, String(repeating: "s", count: 511))
        XCTAssertEqual(a["target"] as? String,
                       "/mnt/\u{1B}[2J\n\t\u{0}\u{7F}" + String(repeating: "\u{FFFD}", count: 9) + "\"q\"\\é€😀\u{2028}\u{FFFD}\u{FFFD}")
        XCTAssertEqual(a["fstype"] as? String, "\u{FFFD}")
        XCTAssertEqual(a["data"] as? String, "\u{0}\u{1F}")
        XCTAssertEqual(o["truncated"] as? [String], ["source"])
        // and the raw line carries no control bytes, and is valid UTF-8
        let raw = f.event.withView { ev -> [UInt8] in
            var out = OutputBuffer()
            JSONFormatter(clock: testClock).append(ev, into: &out)
            return out.bytes
        }
        XCTAssertFalse(raw.dropLast().contains { $0 < 0x20 || $0 == 0x7F })
        XCTAssertNotNil(String(validating: raw, as: UTF8.self))
    }

    func testJSONFaultAndContainer() {
        var f = Fixture(.umount)
        f.fault(0)
        let jf = JSONFormatter(clock: testClock, includesContainer: true)
        let line = f.event.withView { jf.line($0) }
        let o = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        XCTAssertTrue((o["args"] as! [String: Any])["target"] is NSNull)
        XCTAssertTrue(o["container"] is NSNull)
        XCTAssertTrue(line.hasSuffix(",\"truncated\":[],\"paths\":{},\"container\":null,\"attributed_by\":null,\"actor\":null}\n")
                      || line.hasSuffix(",\"truncated\":[],\"container\":null,\"attributed_by\":null,\"actor\":null}\n"), line)
    }

    // MARK: clock

    func testWallClock() {
        XCTAssertEqual(testClock.rfc3339(bootNs: Fixture.ts), "2026-11-29T07:40:01.123456789Z")
        XCTAssertEqual(testClock.localTime(bootNs: Fixture.ts), "08:40:01.123456")
        let epochClock = WallClock(bootToRealtimeNs: 0, utcOffsetSeconds: -3600)
        XCTAssertEqual(epochClock.rfc3339(bootNs: 0), "1970-01-01T00:00:00.000000000Z")
        XCTAssertEqual(epochClock.localTime(bootNs: 0), "23:00:00.000000")
        let neg = WallClock(bootToRealtimeNs: -1, utcOffsetSeconds: 0)
        XCTAssertEqual(neg.rfc3339(bootNs: 0), "1969-12-31T23:59:59.999999999Z")
        let leap = WallClock(bootToRealtimeNs: 951_868_799 * 1_000_000_000, utcOffsetSeconds: 0)
        XCTAssertEqual(leap.rfc3339(bootNs: 5), "2000-02-29T23:59:59.000000005Z")
        XCTAssertEqual(leap.rfc3339(bootNs: 1_000_000_000), "2000-03-01T00:00:00.000000000Z")
    }

    func testCivilAgainstGmtime() {
        var d: Int64 = -1_000_000
        while d < 1_000_000 {
            let (y, m, dd) = WallClock.civil(fromDays: d)
            XCTAssertEqual(WallClock.days(fromCivil: y, m, dd), d)
            d += 997
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let secs = Int64.random(in: 0...4_102_444_800, using: &rng)   // 1970...2100
            var t = time_t(secs)
            var tmv = tm()
            gmtime_r(&t, &tmv)
            let (y, m, dd) = WallClock.civil(fromDays: secs / 86400)
            XCTAssertEqual(y, Int64(tmv.tm_year) + 1900)
            XCTAssertEqual(m, Int64(tmv.tm_mon) + 1)
            XCTAssertEqual(dd, Int64(tmv.tm_mday))
        }
    }

    func testCurrentClock() {
        let c = WallClock.current()
        var ts = timespec()
        clock_gettime(CLOCK_BOOTTIME, &ts)
        let boot = UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
        let real = c.realtimeNs(bootNs: boot)
        var rt = timespec()
        clock_gettime(CLOCK_REALTIME, &rt)
        let now = Int64(rt.tv_sec) * 1_000_000_000 + Int64(rt.tv_nsec)
        XCTAssertLessThan(abs(now - real), 1_000_000_000)
        XCTAssertEqual(c.rfc3339(bootNs: boot).count, 30)
    }
}
