import XCTest
import Foundation
@testable import NstraceCore

final class FlagTests: XCTestCase {
    func testCloneFlags() {
        XCTAssertEqual(Text.clone(0x4002_0000), "CLONE_NEWNS|CLONE_NEWNET")
        // namespace flags come first, in slot order
        XCTAssertEqual(Text.clone(0x2400_0000 | 17, syscall: .clone), "CLONE_NEWPID|CLONE_NEWUTS|SIGCHLD")
        XCTAssertEqual(Text.clone(0x0000_4111, syscall: .clone), "CLONE_VM|CLONE_VFORK|SIGCHLD")
        XCTAssertEqual(Text.clone(17, syscall: .clone), "SIGCHLD")
        XCTAssertEqual(Text.clone(0, syscall: .clone), "0")
        // 0x80 is CLONE_NEWTIME for unshare/clone3 but part of the signal byte for clone()
        XCTAssertEqual(Text.clone(0x80), "CLONE_NEWTIME")
        XCTAssertEqual(Text.clone(0x80, syscall: .clone), "128")
        XCTAssertEqual(Text.clone(0x2000_0080, syscall: .clone3, exitSignal: 17), "CLONE_NEWPID|CLONE_NEWTIME|SIGCHLD")
        XCTAssertEqual(Text.clone(0x3_0000_0000, syscall: .clone3), "CLONE_CLEAR_SIGHAND|CLONE_INTO_CGROUP")
        XCTAssertEqual(Text.clone(0x20000 | 0x4_0000_0000), "CLONE_NEWNS|0x400000000")
        XCTAssertEqual(Text.clone(0x7E02_0080),
                       "CLONE_NEWNS|CLONE_NEWNET|CLONE_NEWPID|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWCGROUP|CLONE_NEWTIME")
        XCTAssertEqual(Text.clone(0x8000_0000 | 0x0040_0000 | 0x1000), "CLONE_PIDFD|CLONE_DETACHED|CLONE_IO")
        XCTAssertEqual(Text.names(FlagNames.cloneTable, 0x0170_0000 | 0x0008_0000 | 0x0004_0000 | 0x0001_0000 | 0xF00 | 0xA000),
                       ["CLONE_VM", "CLONE_FS", "CLONE_FILES", "CLONE_SIGHAND", "CLONE_PTRACE", "CLONE_PARENT",
                        "CLONE_THREAD", "CLONE_SYSVSEM", "CLONE_SETTLS", "CLONE_PARENT_SETTID", "CLONE_CHILD_CLEARTID", "CLONE_DETACHED",
                        "CLONE_CHILD_SETTID"])
        XCTAssertEqual(Text.names(FlagNames.cloneTable, 0x0080_0000), ["CLONE_UNTRACED"])
    }

    func testSignals() {
        XCTAssertEqual(Text.signal(17), "SIGCHLD")
        XCTAssertEqual(Text.signal(9), "SIGKILL")
        XCTAssertEqual(Text.signal(31), "SIGSYS")
        XCTAssertEqual(Text.signal(34), "SIGRT_2")
        XCTAssertEqual(Text.signal(200), "200")
    }

    func testMountFlags() {
        XCTAssertEqual(Text.mount(2), "MS_NOSUID")
        XCTAssertEqual(Text.mount(0xC0ED_0000 | 0x1000 | 0x4000), "MS_BIND|MS_REC")
        XCTAssertEqual(Text.mount(0xC0ED_0000), "0")
        XCTAssertEqual(Text.mount((1 << 18) | (1 << 14)), "MS_REC|MS_PRIVATE")
        XCTAssertEqual(Text.mount(32 | 1), "MS_RDONLY|MS_REMOUNT")
        XCTAssertEqual(Text.mount(512), "0x200")
        XCTAssertEqual(Text.mount(0x1_0000_0000 | 4), "MS_NODEV|0x100000000")
        XCTAssertEqual(Text.names(FlagNames.mountTable, 0x03FF_FDFF).count, 25)
    }

    func testOtherTables() {
        XCTAssertEqual(Text.umount(2), "MNT_DETACH")
        XCTAssertEqual(Text.umount(1 | 4 | 8), "MNT_FORCE|MNT_EXPIRE|UMOUNT_NOFOLLOW")
        XCTAssertEqual(Text.mountAttr(4), "MOUNT_ATTR_NODEV")
        XCTAssertEqual(Text.mountAttr(0x1 | 0x10), "MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOATIME")
        XCTAssertEqual(Text.mountAttr(0x20 | 0x80), "MOUNT_ATTR_STRICTATIME|MOUNT_ATTR_NODIRATIME")
        XCTAssertEqual(Text.mountAttr(0x70), "MOUNT_ATTR__ATIME")
        XCTAssertEqual(Text.mountAttr(0x30), "0x30")      // not a valid atime setting
        XCTAssertEqual(Text.mountAttr(0x10_0000 | 0x20_0000 | 0x2 | 0x8),
                       "MOUNT_ATTR_NOSUID|MOUNT_ATTR_NOEXEC|MOUNT_ATTR_IDMAP|MOUNT_ATTR_NOSYMFOLLOW")
        XCTAssertEqual(Text.moveMount(4), "MOVE_MOUNT_F_EMPTY_PATH")
        XCTAssertEqual(Text.moveMount(0x377),
                       "MOVE_MOUNT_F_SYMLINKS|MOVE_MOUNT_F_AUTOMOUNTS|MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_SYMLINKS|MOVE_MOUNT_T_AUTOMOUNTS|MOVE_MOUNT_T_EMPTY_PATH|MOVE_MOUNT_SET_GROUP|MOVE_MOUNT_BENEATH")
        XCTAssertEqual(Text.fsopen(1), "FSOPEN_CLOEXEC")
        XCTAssertEqual(Text.fsmount(1), "FSMOUNT_CLOEXEC")
        XCTAssertEqual(Text.openTree(1 | 0x80000 | 0x8000), "OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_RECURSIVE")
        XCTAssertEqual(Text.mountSetattr(0x8000 | 0x1000 | 0x800 | 0x100),
                       "AT_SYMLINK_NOFOLLOW|AT_NO_AUTOMOUNT|AT_EMPTY_PATH|AT_RECURSIVE")
        XCTAssertEqual(Text.propagation(1 << 18), "MS_PRIVATE")
        XCTAssertEqual(Text.propagation(1 << 17), "MS_UNBINDABLE")
        XCTAssertEqual(Text.propagation(1 << 19), "MS_SLAVE")
        XCTAssertEqual(Text.propagation(1 << 20), "MS_SHARED")
        XCTAssertEqual(Text.setnsType(0), "any")
        XCTAssertEqual(Text.setnsType(0x4000_0000), "CLONE_NEWNET")
        XCTAssertEqual(Text.setnsType(0x4400_0000), "CLONE_NEWNET|CLONE_NEWUTS")
        XCTAssertEqual((0...9).map { Text.fsconfigCommand($0) },
                       ["FSCONFIG_SET_FLAG", "FSCONFIG_SET_STRING", "FSCONFIG_SET_BINARY", "FSCONFIG_SET_PATH",
                        "FSCONFIG_SET_PATH_EMPTY", "FSCONFIG_SET_FD", "FSCONFIG_CMD_CREATE",
                        "FSCONFIG_CMD_RECONFIGURE", "FSCONFIG_CMD_CREATE_EXCL", "9"])
    }

    func testAppendForms() {
        var o = OutputBuffer()
        FlagNames.mountTable.appendJSONArray(0x1002, into: &o)
        XCTAssertEqual(o.string, "[\"MS_NOSUID\",\"MS_BIND\"]")
        o.removeAll()
        FlagNames.mountTable.appendJSONArray(0, into: &o)
        XCTAssertEqual(o.string, "[]")
        o.removeAll()
        FlagNames.umountTable.appendJSONArray(0x12, into: &o)
        XCTAssertEqual(o.string, "[\"MNT_DETACH\",\"0x10\"]")
    }

    func testErrnoNames() {
        XCTAssertEqual(Errno.name(1), "EPERM")
        XCTAssertEqual(Errno.name(2), "ENOENT")
        XCTAssertEqual(Errno.name(11), "EAGAIN")
        XCTAssertEqual(Errno.name(13), "EACCES")
        XCTAssertEqual(Errno.name(16), "EBUSY")
        XCTAssertEqual(Errno.name(22), "EINVAL")
        XCTAssertEqual(Errno.name(35), "EDEADLK")
        XCTAssertEqual(Errno.name(95), "EOPNOTSUPP")
        XCTAssertEqual(Errno.name(133), "EHWPOISON")
        XCTAssertEqual(Errno.name(512), "ERESTARTSYS")
        XCTAssertEqual(Errno.name(531), "ENOGRACE")
        XCTAssertNil(Errno.name(0))
        XCTAssertNil(Errno.name(41))
        XCTAssertNil(Errno.name(58))
        XCTAssertNil(Errno.name(134))
        XCTAssertNil(Errno.name(520))
        XCTAssertNil(Errno.name(-1))
        XCTAssertEqual(Errno.number(named: "EPERM"), 1)
        XCTAssertEqual(Errno.number(named: "EWOULDBLOCK"), 11)
        XCTAssertEqual(Errno.number(named: "ERESTARTSYS"), 512)
        XCTAssertNil(Errno.number(named: "EFOO"))
        var o = OutputBuffer()
        Errno.appendName(4000, into: &o)
        XCTAssertEqual(o.string, "ERRNO_4000")
        // every number 1...133 but 41 and 58 has a name
        XCTAssertEqual((1...133).filter { Errno.name(Int32($0)) == nil }, [41, 58])
    }

    /// Errno names agree with this machine's C library (strerrorname_np, glibc ≥ 2.32).
    func testErrnoAgainstHeaders() throws {
        let text = try headers(["/usr/include/asm-generic/errno-base.h", "/usr/include/asm-generic/errno.h"])
        let defs = parseDefines(text)
        var checked = 0
        for (name, value) in defs where name.hasPrefix("E") {
            guard let n = Int32(exactly: value) else { continue }
            if name == "EWOULDBLOCK" || name == "EDEADLOCK" { continue }
            XCTAssertEqual(Errno.name(n), name)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 120)
    }

    /// Every named constant that this machine's uapi / libc headers define has the same value
    /// in the tables (the few newer than these headers are checked in testOtherTables).
    func testTablesAgainstSystemHeaders() throws {
        let text = try headers(["/usr/include/linux/mount.h", "/usr/include/linux/sched.h",
                                "/usr/include/linux/fcntl.h", "/usr/include/x86_64-linux-gnu/sys/mount.h",
                                "/usr/include/x86_64-linux-gnu/bits/fcntl-linux.h"])
        var defs = parseDefines(text)
        // glibc's sys/mount.h defines some as enum members: NAME = value,
        let enumRe = try NSRegularExpression(pattern: #"^\s*(MNT_[A-Z]+|UMOUNT_NOFOLLOW|MS_[A-Z_]+|FSCONFIG_[A-Z_]+)\s*=\s*([0-9x]+|1 << [0-9]+)"#, options: [.anchorsMatchLines])
        for m in enumRe.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let name = String(text[Range(m.range(at: 1), in: text)!])
            let expr = String(text[Range(m.range(at: 2), in: text)!])
            if let v = evaluate(expr) { defs[name] = defs[name] ?? v }
        }
        defs["O_CLOEXEC"] = defs["__O_CLOEXEC"]
        defs["OPEN_TREE_CLOEXEC"] = defs["__O_CLOEXEC"]

        let tables: [FlagTable] = [FlagNames.cloneTable, FlagNames.mountTable, FlagNames.umountTable,
                                   FlagNames.mountAttrTable, FlagNames.moveMountTable, FlagNames.fsopenTable,
                                   FlagNames.fsmountTable, FlagNames.openTreeTable, FlagNames.atTable,
                                   FlagNames.propagationTable, FlagNames.namespaceTable]
        var checked = 0
        var missing: [String] = []
        for t in tables {
            for e in t.entries {
                let name = e.name.description
                if let v = defs[name] {
                    XCTAssertEqual(e.value, v, name)
                    checked += 1
                } else {
                    missing.append(name)
                }
            }
        }
        XCTAssertGreaterThan(checked, 90)
        // only the constants newer than these (Linux 6.1) headers may be missing
        XCTAssertEqual(Set(missing), ["MOVE_MOUNT_BENEATH"])
        for (i, n) in FlagNames.fsconfigCommands.enumerated() {
            if let v = defs[n.description] { XCTAssertEqual(v, UInt64(i), n.description) }
        }
        XCTAssertEqual(defs["AT_FDCWD"].map { Int64(bitPattern: $0) }, -100)
        XCTAssertEqual(defs["CSIGNAL"], FlagNames.cloneSignalMask)
        XCTAssertEqual(defs["MS_MGC_VAL"], 0xC0ED_0000)
        XCTAssertEqual(defs["MOUNT_ATTR__ATIME"], 0x70)
        for t in NamespaceType.allCases { XCTAssertEqual(defs[t.cloneFlagName.description], t.cloneFlag) }
    }

    // MARK: header parsing

    private func headers(_ paths: [String]) throws -> String {
        var text = ""
        for p in paths {
            guard let s = try? String(contentsOfFile: p, encoding: .utf8) else {
                // linux-libc-dev comes with the build tools: missing headers are a broken machine
                throw HarnessFailure("no \(p): the kernel uapi headers (linux-libc-dev) are needed")
            }
            text += s + "\n"
        }
        return text
    }

    /// `#define NAME value` where value is a number, (1<<n), octal, hex, or a negative number.
    private func parseDefines(_ text: String) -> [String: UInt64] {
        var out: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 3, parts[0] == "#define" || (parts[0] == "#" && parts[1] == "define") else { continue }
            let off = parts[0] == "#" ? 1 : 0
            guard parts.count >= 3 + off else { continue }
            let name = String(parts[1 + off])
            var expr = String(parts[2 + off])
            if expr.hasPrefix("(") && !expr.hasSuffix(")") && parts.count > 3 + off {
                expr = parts[(2 + off)...].prefix(while: { !$0.hasPrefix("/*") }).joined(separator: " ")
            }
            if let v = evaluate(expr) { out[name] = v }
        }
        return out
    }

    private func evaluate(_ raw: String) -> UInt64? {
        var s = raw.trimmingCharacters(in: .whitespaces)
        while s.hasPrefix("(") && s.hasSuffix(")") { s = String(s.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces) }
        if let r = s.range(of: "<<") {
            guard let a = evaluate(String(s[..<r.lowerBound])), let b = evaluate(String(s[r.upperBound...])) else { return nil }
            return a << b
        }
        for suffix in ["ULL", "UL", "U", "u"] where s.hasSuffix(suffix) { s = String(s.dropLast(suffix.count)) }
        if s.hasPrefix("-"), let v = Int64(s) { return UInt64(bitPattern: v) }
        if s.hasPrefix("0x") || s.hasPrefix("0X") { return UInt64(s.dropFirst(2), radix: 16) }
        if s.hasPrefix("0") && s.count > 1 { return UInt64(s.dropFirst(), radix: 8) }
        return UInt64(s)
    }
}

/// The text forms of flags, made by the append path the formatters use (no String helpers
/// in the library: they would be used by tests only).
private enum Text {
    static func text(_ body: (inout OutputBuffer) -> Void) -> String {
        var out = OutputBuffer()
        body(&out)
        return out.string
    }

    static func table(_ t: FlagTable, _ v: UInt64) -> String { text { t.append(v, into: &$0) } }

    static func names(_ t: FlagTable, _ v: UInt64) -> [String] {
        v == 0 ? [] : table(t, v).split(separator: "|").map(String.init)
    }

    static func clone(_ flags: UInt64, syscall: CloneSyscall = .unshare, exitSignal: UInt64 = 0) -> String {
        text { FlagNames.appendClone(flags, syscall: syscall, exitSignal: exitSignal, into: &$0) }
    }

    static func signal(_ sig: UInt64) -> String { text { FlagNames.appendSignal(sig, into: &$0) } }

    /// Through a decoded mount event: the decoder strips the old magic (MountCall.flags).
    static func mount(_ flags: UInt64) -> String {
        var f = Fixture(.mount)
        f.setArg(3, flags)
        return f.event.withView { table(FlagNames.mountTable, $0.mount.flags) }
    }

    static func umount(_ v: UInt64) -> String { table(FlagNames.umountTable, v) }
    static func mountAttr(_ v: UInt64) -> String { table(FlagNames.mountAttrTable, v) }
    static func moveMount(_ v: UInt64) -> String { table(FlagNames.moveMountTable, v) }
    static func fsopen(_ v: UInt64) -> String { table(FlagNames.fsopenTable, v) }
    static func fsmount(_ v: UInt64) -> String { table(FlagNames.fsmountTable, v) }
    static func openTree(_ v: UInt64) -> String { table(FlagNames.openTreeTable, v) }
    static func mountSetattr(_ v: UInt64) -> String { table(FlagNames.atTable, v) }
    static func propagation(_ v: UInt64) -> String { table(FlagNames.propagationTable, v) }
    static func setnsType(_ v: UInt64) -> String { text { FlagNames.appendSetnsType(v, into: &$0) } }
    static func fsconfigCommand(_ v: UInt64) -> String { text { FlagNames.appendFsconfigCommand(v, into: &$0) } }
}

struct HarnessFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
