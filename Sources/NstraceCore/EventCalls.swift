/// Named fields of the calls whose args[] / aux[] mean different things per event type (the
/// ABI header's table of their meaning, in Swift): attribution, filters and exporters read
/// these, not positions. Each is a small value read from the record on access (no copy of
/// the record, no allocation); read the one that matches `type`.

/// setns(fd, nstype), with what the kernel side found out about the fd.
public struct SetnsCall {
    /// The fd argument: a namespace file, or a pidfd.
    public let fd: Int32
    /// The nstype argument (CLONE_NEW* bits; 0: any).
    public let nstype: UInt64
    /// The fd was a pidfd (join several namespaces of a process at once).
    public let viaPidfd: Bool
    /// The CLONE_NEW* type of the namespace the fd refers to; for a pidfd, the nstype bits.
    /// 0 when the kernel side could not tell.
    public let targetType: UInt64
    /// The inode of the namespace the fd refers to; 0 for a pidfd or when unknown.
    public let targetInode: UInt32
    /// For a pidfd, the target process's host pid; else 0.
    public let targetPID: UInt32
}

/// fsconfig(fd, cmd, key, value, aux)'s command (linux/mount.h FSCONFIG_*).
public enum FsconfigCommand: UInt64, CaseIterable, Sendable {
    case setFlag = 0, setString = 1, setBinary = 2, setPath = 3, setPathEmpty = 4, setFD = 5
    case create = 6, reconfigure = 7, createExclusive = 8

    /// SET_STRING, SET_PATH, SET_PATH_EMPTY: `value` is a string the kernel side read.
    public var hasStringValue: Bool { self == .setString || self == .setPath || self == .setPathEmpty }
    /// SET_PATH, SET_PATH_EMPTY: `aux` is the dfd the path is relative to.
    public var takesDirectoryFD: Bool { self == .setPath || self == .setPathEmpty }
}

public struct FsconfigCall {
    public let fd: Int32
    /// nil for a command number this version does not know (`rawCommand` has it).
    public let command: FsconfigCommand?
    public let rawCommand: UInt64
    /// The aux argument: a dfd (SET_PATH*), a length (SET_BINARY), an fd (SET_FD).
    public let aux: Int32
}

/// mount_setattr(dfd, path, flags, uattr, usize), with struct mount_attr read by the kernel side.
public struct MountSetattrCall {
    /// MOUNT_ATTR_IDMAP (linux/mount.h): the call maps ids through `usernsFD`.
    public static let idmapFlag: UInt64 = 0x10_0000

    public let dfd: Int32
    public let flags: UInt64
    public let attrSet: UInt64
    public let attrClr: UInt64
    public let propagation: UInt64
    /// The user namespace fd of an idmapped mount (with MOUNT_ATTR_IDMAP only).
    public let usernsFD: Int32?
}

/// exec inside a container runtime's process tree (not a syscall record: the kernel side's).
public struct ExecRecord {
    /// The runtime lineage the task was in before (0: none).
    public let lineageBefore: UInt32
    /// The new program is a container runtime (it starts a lineage of its own); false: what a
    /// runtime started (the container's entrypoint).
    public let isRuntime: Bool
}

/// A cgroup v2 directory was created (not a syscall record: the kernel side's).
public struct CgroupMkdirRecord {
    /// The cgroup id (its inode), as events' cgroup_id.
    public let id: UInt64
    public let hierarchyID: UInt64
}

extension EventView {
    /// For a setns event.
    public var setns: SetnsCall {
        let pidfd = aux(3) == 1
        return SetnsCall(fd: intArg(0), nstype: arg(1), viaPidfd: pidfd, targetType: aux(0),
                         targetInode: pidfd ? 0 : UInt32(truncatingIfNeeded: aux(1)),
                         targetPID: pidfd ? UInt32(truncatingIfNeeded: aux(2)) : 0)
    }

    /// For an fsconfig event.
    public var fsconfig: FsconfigCall {
        FsconfigCall(fd: intArg(0), command: FsconfigCommand(rawValue: arg(1)), rawCommand: arg(1), aux: intArg(4))
    }

    /// For a mount_setattr event.
    public var mountSetattr: MountSetattrCall {
        let set = aux(0)
        return MountSetattrCall(dfd: intArg(0), flags: arg(2), attrSet: set, attrClr: aux(1), propagation: aux(2),
                                usernsFD: set & MountSetattrCall.idmapFlag != 0 ? Int32(truncatingIfNeeded: aux(3)) : nil)
    }

    /// For an exec record.
    public var exec: ExecRecord {
        ExecRecord(lineageBefore: UInt32(truncatingIfNeeded: aux(0)), isRuntime: aux(1) != 0)
    }

    /// For a cgroup_mkdir record.
    public var cgroupMkdir: CgroupMkdirRecord {
        CgroupMkdirRecord(id: aux(0), hierarchyID: aux(1))
    }
}

extension EventView {
    /// clone/clone3: the child's host pid (aux[2]), or ret when aux[2] is 0; 0 on failure.
    public var childPid: UInt64 {
        guard type == .clone || type == .clone3, !failed else { return 0 }
        let a = aux(2)
        return a != 0 ? a : (ret > 0 ? UInt64(ret) : 0)
    }

    /// mount_setattr resets atime to relatime: attr_clr has all of MOUNT_ATTR__ATIME and
    /// attr_set none of it (MOUNT_ATTR_RELATIME is 0, so it is otherwise invisible).
    public var setsRelatime: Bool {
        type == .mountSetattr && aux(1) & 0x70 == 0x70 && aux(0) & 0x70 == 0
    }
}
