/// The decoder's named fields of the mount family (see EventCalls.swift): what each call's
/// args[] and aux[] are, by name. The string arguments stay in the record's string slots
/// (`EventView.string(_:)`, named by `EventType.stringSlotName`).

/// mount(source, target, fstype, flags, data).
public struct MountCall {
    /// The MS_* flags as passed (the old magic 0xC0ED in the upper 16 bits of the low word
    /// included).
    public let rawFlags: UInt64
    /// The MS_* flags mount(2) acts on: `rawFlags` without the old magic.
    public var flags: UInt64 { FlagNames.stripMountMagic(rawFlags) }
    /// MS_BIND (sys/mount.h).
    public static let bindFlag: UInt64 = 0x1000
}

/// umount2(target, flags).
public struct UmountCall {
    /// MNT_* / UMOUNT_NOFOLLOW.
    public let flags: UInt64
}

/// fsopen(fsname, flags).
public struct FsopenCall {
    /// FSOPEN_*.
    public let flags: UInt64
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

/// fsconfig(fd, cmd, key, value, aux); key and value are string slots 0 and 1.
public struct FsconfigCall {
    public let fd: Int32
    /// nil for a command number this version does not know (`rawCommand` has it).
    public let command: FsconfigCommand?
    public let rawCommand: UInt64
    /// The aux argument: a dfd (SET_PATH*), a length (SET_BINARY), an fd (SET_FD).
    public let aux: Int32
}

/// fsmount(fs_fd, flags, attr_flags).
public struct FsmountCall {
    /// The filesystem context fd (from fsopen or fspick).
    public let fsFD: Int32
    /// FSMOUNT_*.
    public let flags: UInt64
    /// MOUNT_ATTR_* of the new mount.
    public let attrFlags: UInt64
}

/// move_mount(from_dfd, from_path, to_dfd, to_path, flags).
public struct MoveMountCall {
    public let fromDfd: Int32
    public let toDfd: Int32
    /// MOVE_MOUNT_*.
    public let flags: UInt64
}

/// open_tree(dfd, filename, flags).
public struct OpenTreeCall {
    public let dfd: Int32
    /// OPEN_TREE_* and AT_*.
    public let flags: UInt64
}

/// mount_setattr(dfd, path, flags, uattr, usize), with struct mount_attr read by the kernel side.
public struct MountSetattrCall {
    /// MOUNT_ATTR_IDMAP (linux/mount.h): the call maps ids through `usernsFD`.
    public static let idmapFlag: UInt64 = 0x10_0000
    /// MOUNT_ATTR__ATIME: the atime field (a setting, not bits; MOUNT_ATTR_RELATIME is 0).
    static let atimeField: UInt64 = 0x70

    public let dfd: Int32
    /// AT_*.
    public let flags: UInt64
    public let attrSet: UInt64
    public let attrClr: UInt64
    public let propagation: UInt64
    /// The user namespace fd of an idmapped mount (with MOUNT_ATTR_IDMAP only).
    public let usernsFD: Int32?

    /// The call resets atime to relatime: attr_clr has all of MOUNT_ATTR__ATIME and attr_set
    /// none of it (MOUNT_ATTR_RELATIME is 0, so it is otherwise invisible).
    public var setsRelatime: Bool { attrClr & Self.atimeField == Self.atimeField && attrSet & Self.atimeField == 0 }
}

extension EventView {
    /// For a mount event.
    public var mount: MountCall { MountCall(rawFlags: arg(3)) }

    /// For an umount event.
    public var umount: UmountCall { UmountCall(flags: arg(1)) }

    /// For an fsopen event.
    public var fsopen: FsopenCall { FsopenCall(flags: arg(1)) }

    /// For an fsconfig event.
    public var fsconfig: FsconfigCall {
        FsconfigCall(fd: intArg(0), command: FsconfigCommand(rawValue: arg(1)), rawCommand: arg(1), aux: intArg(4))
    }

    /// For an fsmount event.
    public var fsmount: FsmountCall { FsmountCall(fsFD: intArg(0), flags: arg(1), attrFlags: arg(2)) }

    /// For a move_mount event.
    public var moveMount: MoveMountCall { MoveMountCall(fromDfd: intArg(0), toDfd: intArg(2), flags: arg(4)) }

    /// For an open_tree event.
    public var openTree: OpenTreeCall { OpenTreeCall(dfd: intArg(0), flags: arg(2)) }

    /// For a mount_setattr event.
    public var mountSetattr: MountSetattrCall {
        let set = aux(0)
        return MountSetattrCall(dfd: intArg(0), flags: arg(2), attrSet: set, attrClr: aux(1), propagation: aux(2),
                                usernsFD: set & MountSetattrCall.idmapFlag != 0 ? Int32(truncatingIfNeeded: aux(3)) : nil)
    }
}
