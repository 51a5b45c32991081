/// One element of a decoded flags value.
public enum FlagPiece: Equatable, Sendable {
    /// A known flag (or multi-bit field value).
    case name(StaticString)
    /// Bits no table entry claims, shown in hex.
    case unknown(UInt64)

    public static func == (a: FlagPiece, b: FlagPiece) -> Bool {
        switch (a, b) {
        case (.name(let x), .name(let y)): return x.description == y.description
        case (.unknown(let x), .unknown(let y)): return x == y
        default: return false
        }
    }

    func append(into out: inout OutputBuffer) {
        switch self {
        case .name(let s): out.append(s)
        case .unknown(let v): out.appendHex(v)
        }
    }
}

/// A table of flag names. Each entry claims the bits of `mask` and matches when those bits of
/// the value equal `value` (for a plain flag mask == value; for a multi-bit field such as
/// MOUNT_ATTR__ATIME mask is the field and value one setting of it). Entries are tried in
/// table order, which is the output order; bits no entry claims come last, in hex.
public struct FlagTable: Sendable {
    public struct Entry: Sendable {
        public let mask: UInt64
        public let value: UInt64
        public let name: StaticString
        public init(_ value: UInt64, _ name: StaticString, mask: UInt64? = nil) {
            self.mask = mask ?? value
            self.value = value
            self.name = name
        }
    }

    public let entries: [Entry]
    /// The longest `append` can write before the leftover bits: every name and a "|" each.
    private let namesCapacity: Int

    public init(_ entries: [Entry]) {
        precondition(entries.allSatisfy { $0.name.utf8CodeUnitCount > 0 }, "a flag without a name")
        self.entries = entries
        namesCapacity = entries.reduce(0) { $0 + $1.name.utf8CodeUnitCount + 1 }
    }

    /// Calls `body` for each name in `value`, then once with the leftover bits if any.
    /// Nothing for 0. Allocation-free.
    @inline(__always)
    public func forEach(_ value: UInt64, _ body: (FlagPiece) -> Void) {
        var rest = value
        for e in entries {
            // no entry matches once every bit is named (a container's mount flags usually end
            // at MS_RELATIME, two thirds of the way down its table)
            if rest == 0 { break }
            if e.value != 0 && rest & e.mask == e.value {
                body(.name(e.name))
                rest &= ~e.mask
            }
        }
        if rest != 0 { body(.unknown(rest)) }
    }

    /// Appends names joined with "|" ("0" for 0).
    /// The names go in one reservation (an append per name and per "|" cost most of a mount
    /// line's detail in the HTML report, which formats every event's).
    public func append(_ value: UInt64, into out: inout OutputBuffer) {
        if value == 0 { out.append(byte: 0x30); return }
        var rest: UInt64 = 0, named = false
        out.write(maxBytes: namesCapacity) { p in
            var o = 0
            forEach(value) { piece in
                switch piece {
                case .name(let name):
                    if o > 0 { p[o] = 0x7C; o += 1 }
                    name.withUTF8Buffer { n in (p + o).update(from: n.baseAddress!, count: n.count); o += n.count }
                case .unknown(let bits):
                    rest = bits   // written after the names, past the reservation
                }
            }
            named = o > 0
            return o
        }
        if rest != 0 {
            if named { out.append(byte: 0x7C) }
            out.appendHex(rest)
        }
    }

    /// Appends the names as a JSON array: `["A","B","0x100"]`; `[]` for 0.
    public func appendJSONArray(_ value: UInt64, into out: inout OutputBuffer) {
        out.append(byte: 0x5B)
        var first = true
        forEach(value) { p in
            if !first { out.append(byte: 0x2C) }
            first = false
            out.append(byte: 0x22)
            p.append(into: &out)
            out.append(byte: 0x22)
        }
        out.append(byte: 0x5D)
    }
}

/// Which syscall a CLONE_* value came from: clone() keeps the exit signal in the low byte
/// (CSIGNAL, which is why it cannot take CLONE_NEWTIME = 0x80); unshare and clone3 do not.
public enum CloneSyscall: Sendable {
    case unshare, clone, clone3
}

/// Flag-name tables. Every value was checked against this machine's <linux/mount.h>,
/// <linux/sched.h>, <linux/fcntl.h>, <sys/mount.h> and <bits/fcntl-linux.h> (x86-64);
/// MOVE_MOUNT_BENEATH (Linux 6.5) and FSCONFIG_CMD_CREATE_EXCL (6.6) are newer than those
/// headers and come from the kernel's include/uapi/linux/mount.h.
public enum FlagNames {
    /// CSIGNAL: the exit-signal byte of clone()'s flags.
    public static let cloneSignalMask: UInt64 = 0xFF

    /// CLONE_*: the namespace flags first, in namespace-slot order (mnt net pid uts ipc user
    /// cgroup time), then the others by value. CLONE_NEWTIME (0x80) only matches for
    /// unshare/clone3: clone()'s values are looked up with the CSIGNAL byte removed.
    public static let cloneTable = FlagTable([
        .init(0x0002_0000, "CLONE_NEWNS"),
        .init(0x4000_0000, "CLONE_NEWNET"),
        .init(0x2000_0000, "CLONE_NEWPID"),
        .init(0x0400_0000, "CLONE_NEWUTS"),
        .init(0x0800_0000, "CLONE_NEWIPC"),
        .init(0x1000_0000, "CLONE_NEWUSER"),
        .init(0x0200_0000, "CLONE_NEWCGROUP"),
        .init(0x0000_0080, "CLONE_NEWTIME"),
        .init(0x0000_0100, "CLONE_VM"),
        .init(0x0000_0200, "CLONE_FS"),
        .init(0x0000_0400, "CLONE_FILES"),
        .init(0x0000_0800, "CLONE_SIGHAND"),
        .init(0x0000_1000, "CLONE_PIDFD"),
        .init(0x0000_2000, "CLONE_PTRACE"),
        .init(0x0000_4000, "CLONE_VFORK"),
        .init(0x0000_8000, "CLONE_PARENT"),
        .init(0x0001_0000, "CLONE_THREAD"),
        .init(0x0004_0000, "CLONE_SYSVSEM"),
        .init(0x0008_0000, "CLONE_SETTLS"),
        .init(0x0010_0000, "CLONE_PARENT_SETTID"),
        .init(0x0020_0000, "CLONE_CHILD_CLEARTID"),
        .init(0x0040_0000, "CLONE_DETACHED"),
        .init(0x0080_0000, "CLONE_UNTRACED"),
        .init(0x0100_0000, "CLONE_CHILD_SETTID"),
        .init(0x8000_0000, "CLONE_IO"),
        .init(0x1_0000_0000, "CLONE_CLEAR_SIGHAND"),
        .init(0x2_0000_0000, "CLONE_INTO_CGROUP"),
    ])

    /// Only the CLONE_NEW* flags (setns nstype), in namespace-slot order.
    public static let namespaceTable = FlagTable(NamespaceType.allCases.map { .init($0.cloneFlag, $0.cloneFlagName) })

    /// MS_* (mount flags). MS_VERBOSE is MS_SILENT. Apply `stripMountMagic` first.
    public static let mountTable = FlagTable([
        .init(1, "MS_RDONLY"),
        .init(2, "MS_NOSUID"),
        .init(4, "MS_NODEV"),
        .init(8, "MS_NOEXEC"),
        .init(16, "MS_SYNCHRONOUS"),
        .init(32, "MS_REMOUNT"),
        .init(64, "MS_MANDLOCK"),
        .init(128, "MS_DIRSYNC"),
        .init(256, "MS_NOSYMFOLLOW"),
        .init(1024, "MS_NOATIME"),
        .init(2048, "MS_NODIRATIME"),
        .init(4096, "MS_BIND"),
        .init(8192, "MS_MOVE"),
        .init(16384, "MS_REC"),
        .init(32768, "MS_SILENT"),
        .init(1 << 16, "MS_POSIXACL"),
        .init(1 << 17, "MS_UNBINDABLE"),
        .init(1 << 18, "MS_PRIVATE"),
        .init(1 << 19, "MS_SLAVE"),
        .init(1 << 20, "MS_SHARED"),
        .init(1 << 21, "MS_RELATIME"),
        .init(1 << 22, "MS_KERNMOUNT"),
        .init(1 << 23, "MS_I_VERSION"),
        .init(1 << 24, "MS_STRICTATIME"),
        .init(1 << 25, "MS_LAZYTIME"),
        .init(1 << 26, "MS_SUBMOUNT"),
        .init(1 << 27, "MS_NOREMOTELOCK"),
        .init(1 << 28, "MS_NOSEC"),
        .init(1 << 29, "MS_BORN"),
        .init(1 << 30, "MS_ACTIVE"),
        .init(1 << 31, "MS_NOUSER"),
    ])

    /// Propagation types (mount_setattr's mount_attr.propagation; also MS_* bits).
    public static let propagationTable = FlagTable([
        .init(1 << 17, "MS_UNBINDABLE"),
        .init(1 << 18, "MS_PRIVATE"),
        .init(1 << 19, "MS_SLAVE"),
        .init(1 << 20, "MS_SHARED"),
    ])

    /// umount2 flags.
    public static let umountTable = FlagTable([
        .init(1, "MNT_FORCE"),
        .init(2, "MNT_DETACH"),
        .init(4, "MNT_EXPIRE"),
        .init(8, "UMOUNT_NOFOLLOW"),
    ])

    /// MOUNT_ATTR_* (fsmount attr_flags, mount_setattr attr_set/attr_clr). The atime field
    /// (MOUNT_ATTR__ATIME, 0x70) is one setting, not bits: 0x10 NOATIME, 0x20 STRICTATIME,
    /// 0x70 the whole field (as attr_clr uses it); RELATIME is 0 and so never shown here.
    public static let mountAttrTable = FlagTable([
        .init(0x1, "MOUNT_ATTR_RDONLY"),
        .init(0x2, "MOUNT_ATTR_NOSUID"),
        .init(0x4, "MOUNT_ATTR_NODEV"),
        .init(0x8, "MOUNT_ATTR_NOEXEC"),
        .init(0x10, "MOUNT_ATTR_NOATIME", mask: 0x70),
        .init(0x20, "MOUNT_ATTR_STRICTATIME", mask: 0x70),
        .init(0x70, "MOUNT_ATTR__ATIME", mask: 0x70),
        .init(0x80, "MOUNT_ATTR_NODIRATIME"),
        .init(0x10_0000, "MOUNT_ATTR_IDMAP"),
        .init(0x20_0000, "MOUNT_ATTR_NOSYMFOLLOW"),
    ])

    public static let moveMountTable = FlagTable([
        .init(0x1, "MOVE_MOUNT_F_SYMLINKS"),
        .init(0x2, "MOVE_MOUNT_F_AUTOMOUNTS"),
        .init(0x4, "MOVE_MOUNT_F_EMPTY_PATH"),
        .init(0x10, "MOVE_MOUNT_T_SYMLINKS"),
        .init(0x20, "MOVE_MOUNT_T_AUTOMOUNTS"),
        .init(0x40, "MOVE_MOUNT_T_EMPTY_PATH"),
        .init(0x100, "MOVE_MOUNT_SET_GROUP"),
        .init(0x200, "MOVE_MOUNT_BENEATH"),
    ])

    public static let fsopenTable = FlagTable([.init(1, "FSOPEN_CLOEXEC")])
    public static let fsmountTable = FlagTable([.init(1, "FSMOUNT_CLOEXEC")])

    /// open_tree flags. OPEN_TREE_CLOEXEC is O_CLOEXEC (02000000 octal on x86-64).
    public static let openTreeTable = FlagTable([
        .init(1, "OPEN_TREE_CLONE"),
        .init(0x8_0000, "OPEN_TREE_CLOEXEC"),
        .init(0x100, "AT_SYMLINK_NOFOLLOW"),
        .init(0x800, "AT_NO_AUTOMOUNT"),
        .init(0x1000, "AT_EMPTY_PATH"),
        .init(0x8000, "AT_RECURSIVE"),
    ])

    /// mount_setattr flags.
    public static let atTable = FlagTable([
        .init(0x100, "AT_SYMLINK_NOFOLLOW"),
        .init(0x800, "AT_NO_AUTOMOUNT"),
        .init(0x1000, "AT_EMPTY_PATH"),
        .init(0x8000, "AT_RECURSIVE"),
    ])

    /// fsconfig commands (an enumeration), index = value.
    static let fsconfigCommands: [StaticString] = [
        "FSCONFIG_SET_FLAG", "FSCONFIG_SET_STRING", "FSCONFIG_SET_BINARY", "FSCONFIG_SET_PATH",
        "FSCONFIG_SET_PATH_EMPTY", "FSCONFIG_SET_FD", "FSCONFIG_CMD_CREATE",
        "FSCONFIG_CMD_RECONFIGURE", "FSCONFIG_CMD_CREATE_EXCL",
    ]

    /// Signals 1...31, Linux x86-64, index = number.
    static let signals: [StaticString] = [
        "", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS",
        "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
        "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG",
        "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
    ]

    // MARK: helpers

    /// mount(2) ignores the old magic 0xC0ED in the upper 16 bits of the low word.
    @inline(__always)
    public static func stripMountMagic(_ flags: UInt64) -> UInt64 {
        flags & 0xFFFF_0000 == 0xC0ED_0000 ? flags & ~0xFFFF_0000 : flags
    }

    public static func fsconfigCommandName(_ cmd: UInt64) -> StaticString? {
        cmd < UInt64(fsconfigCommands.count) ? fsconfigCommands[Int(cmd)] : nil
    }

    public static func signalName(_ sig: UInt64) -> StaticString? {
        sig > 0 && sig < UInt64(signals.count) ? signals[Int(sig)] : nil
    }

    /// SIGCHLD…; 32...64 as SIGRT_<n-32> (kernel numbering, as strace); others as the number.
    public static func appendSignal(_ sig: UInt64, into out: inout OutputBuffer) {
        if let s = signalName(sig) {
            out.append(s)
        } else if sig >= 32 && sig <= 64 {
            out.append("SIGRT_")
            out.appendDecimal(sig - 32)
        } else {
            out.appendDecimal(sig)
        }
    }

    /// Appends the fsconfig command name, or its number.
    public static func appendFsconfigCommand(_ cmd: UInt64, into out: inout OutputBuffer) {
        if let s = fsconfigCommandName(cmd) { out.append(s) } else { out.appendDecimal(cmd) }
    }

    /// setns nstype: "any" for 0, else the CLONE_NEW* names.
    public static func appendSetnsType(_ nstype: UInt64, into out: inout OutputBuffer) {
        if nstype == 0 { out.append("any") } else { namespaceTable.append(nstype, into: &out) }
    }

    /// "CLONE_NEWNS|CLONE_NEWNET"; for `.clone` the low byte of `flags` is the exit signal and
    /// comes last ("CLONE_NEWPID|SIGCHLD"); for `.clone3` pass the exit signal separately.
    public static func appendClone(_ flags: UInt64, syscall: CloneSyscall, exitSignal: UInt64 = 0, into out: inout OutputBuffer) {
        let bits = syscall == .clone ? flags & ~cloneSignalMask : flags
        let sig = syscall == .clone ? flags & cloneSignalMask : exitSignal
        if bits == 0 && sig == 0 { out.append(byte: 0x30); return }
        if bits != 0 { cloneTable.append(bits, into: &out) }
        if sig != 0 {
            if bits != 0 { out.append(byte: 0x7C) }
            appendSignal(sig, into: &out)
        }
    }
}
