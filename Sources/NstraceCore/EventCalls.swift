/// The decoder's named fields of every call (the ABI header's table of what args[] and aux[]
/// mean per event type, in Swift): formatters, exporters, attribution, filters and the
/// analysis read these, never a position. Each is a small value read from the record on
/// access (no copy of the record, no allocation); read the one that matches `type`.
/// This file: the namespace calls and the kernel side's own records; MountCalls.swift: the
/// mount family. pivot_root has only its two string slots.

/// unshare(flags).
public struct UnshareCall {
    /// CLONE_* flags.
    public let flags: UInt64
}

/// clone(flags, newsp, parent_tid, child_tid, tls) and clone3(uargs, size), whose
/// struct clone_args the kernel side read.
public struct CloneCall {
    /// The CLONE_* flags (clone: without the exit-signal byte, CSIGNAL).
    public let flags: UInt64
    /// The flags as passed: clone's flags argument (exit signal included), clone3's clone_args.flags.
    public let rawFlags: UInt64
    /// The signal the parent gets when the child exits (0: none).
    public let exitSignal: UInt64
    /// The child's host pid; 0 when the call failed.
    public let childPID: UInt64
}

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
    /// For an unshare event.
    public var unshare: UnshareCall { UnshareCall(flags: arg(0)) }

    /// For a clone or clone3 event.
    public var clone: CloneCall {
        let isClone = type == .clone
        let raw = isClone ? arg(0) : aux(0)
        return CloneCall(flags: isClone ? raw & ~FlagNames.cloneSignalMask : raw, rawFlags: raw,
                         exitSignal: isClone ? raw & FlagNames.cloneSignalMask : aux(1), childPID: childHostPID)
    }

    /// For a setns event.
    public var setns: SetnsCall {
        let pidfd = aux(3) == 1
        return SetnsCall(fd: intArg(0), nstype: arg(1), viaPidfd: pidfd, targetType: aux(0),
                         targetInode: pidfd ? 0 : UInt32(truncatingIfNeeded: aux(1)),
                         targetPID: pidfd ? UInt32(truncatingIfNeeded: aux(2)) : 0)
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
    fileprivate var childHostPID: UInt64 {
        guard type == .clone || type == .clone3, !failed else { return 0 }
        let a = aux(2)
        return a != 0 ? a : (ret > 0 ? UInt64(ret) : 0)
    }

    /// The CLONE_NEW* flags a call names: unshare's and clone*'s CLONE_* flags (clone's
    /// without the exit signal), setns's nstype; 0 for other events.
    @inline(__always)
    public var cloneFlags: UInt64 {
        switch type {
        case .unshare: unshare.flags
        case .clone, .clone3: clone.flags
        case .setns: setns.nstype
        default: 0
        }
    }
}
