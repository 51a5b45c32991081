import NstraceABI

/// The eight Linux namespace types. Raw values are the `NST_NS_*` slot of the task's own
/// namespace of that type.
public enum NamespaceType: Int, CaseIterable, Sendable {
    case mnt = 0
    case net = 1
    case pid = 2
    case uts = 3
    case ipc = 4
    case user = 5
    case cgroup = 6
    case time = 7

    /// As in /proc/PID/ns/<name>.
    public var name: String { String(describing: staticName) }

    public var staticName: StaticString {
        switch self {
        case .mnt: "mnt"
        case .net: "net"
        case .pid: "pid"
        case .uts: "uts"
        case .ipc: "ipc"
        case .user: "user"
        case .cgroup: "cgroup"
        case .time: "time"
        }
    }

    /// The CLONE_NEW* flag (linux/sched.h).
    public var cloneFlag: UInt64 {
        switch self {
        case .mnt: 0x0002_0000     // CLONE_NEWNS
        case .net: 0x4000_0000     // CLONE_NEWNET
        case .pid: 0x2000_0000     // CLONE_NEWPID
        case .uts: 0x0400_0000     // CLONE_NEWUTS
        case .ipc: 0x0800_0000     // CLONE_NEWIPC
        case .user: 0x1000_0000    // CLONE_NEWUSER
        case .cgroup: 0x0200_0000  // CLONE_NEWCGROUP
        case .time: 0x0000_0080    // CLONE_NEWTIME
        }
    }

    /// The CLONE_NEW* flag's name.
    public var cloneFlagName: StaticString {
        switch self {
        case .mnt: "CLONE_NEWNS"
        case .net: "CLONE_NEWNET"
        case .pid: "CLONE_NEWPID"
        case .uts: "CLONE_NEWUTS"
        case .ipc: "CLONE_NEWIPC"
        case .user: "CLONE_NEWUSER"
        case .cgroup: "CLONE_NEWCGROUP"
        case .time: "CLONE_NEWTIME"
        }
    }

    /// Accepts the /proc names, plus "mount" and "network" and "ns"-less aliases people type.
    public init?(name: String) {
        switch name {
        case "mnt", "mount", "ns": self = .mnt
        case "net", "network": self = .net
        case "pid": self = .pid
        case "uts": self = .uts
        case "ipc": self = .ipc
        case "user": self = .user
        case "cgroup": self = .cgroup
        case "time": self = .time
        default: return nil
        }
    }

    /// Exactly one CLONE_NEW* flag; nil for 0, several flags, or anything else.
    public init?(cloneFlag: UInt64) {
        guard let t = NamespaceType.allCases.first(where: { $0.cloneFlag == cloneFlag }) else { return nil }
        self = t
    }

    /// The ns[] slots holding a namespace of this type: the task's own, and for pid and time
    /// also the one its children get (NST_NS_PID_CHILD, NST_NS_TIME_CHILD).
    public var slots: [Int] {
        switch self {
        case .pid: [NamespaceSlot.pid, NamespaceSlot.pidForChildren]
        case .time: [NamespaceSlot.time, NamespaceSlot.timeForChildren]
        default: [rawValue]
        }
    }

    /// Bit mask (1 << slot) of `slots`, for allocation-free tests.
    public var slotMask: UInt16 {
        switch self {
        case .pid: UInt16(1) << 2 | UInt16(1) << 8
        case .time: UInt16(1) << 7 | UInt16(1) << 9
        default: UInt16(1) << UInt16(rawValue)
        }
    }

    /// All CLONE_NEW* flags or-ed together.
    public static let allCloneFlags: UInt64 = NamespaceType.allCases.reduce(0) { $0 | $1.cloneFlag }
}

extension NamespaceType: CustomStringConvertible {
    public var description: String { name }
}

/// The ten slots of nst_event.ns[] / ns_before[] (NST_NS_*).
public enum NamespaceSlot {
    public static let count = Int(NST_NS_SLOTS)
    public static let mnt = Int(NST_NS_MNT)
    public static let net = Int(NST_NS_NET)
    public static let pid = Int(NST_NS_PID)
    public static let uts = Int(NST_NS_UTS)
    public static let ipc = Int(NST_NS_IPC)
    public static let user = Int(NST_NS_USER)
    public static let cgroup = Int(NST_NS_CGROUP)
    public static let time = Int(NST_NS_TIME)
    public static let pidForChildren = Int(NST_NS_PID_CHILD)
    public static let timeForChildren = Int(NST_NS_TIME_CHILD)

    /// JSON key / text label of a slot: "mnt" … "time", "pid_for_children", "time_for_children".
    @inlinable
    public static func name(_ slot: Int) -> StaticString {
        switch slot {
        case 0: "mnt"
        case 1: "net"
        case 2: "pid"
        case 3: "uts"
        case 4: "ipc"
        case 5: "user"
        case 6: "cgroup"
        case 7: "time"
        case 8: "pid_for_children"
        case 9: "time_for_children"
        default: "?"
        }
    }

    /// The namespace type a slot holds.
    public static func type(_ slot: Int) -> NamespaceType {
        switch slot {
        case 8: .pid
        case 9: .time
        default: NamespaceType(rawValue: slot)!
        }
    }
}
