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
        case .pid: [NamespaceSlot.pid.index, NamespaceSlot.pidForChildren.index]
        case .time: [NamespaceSlot.time.index, NamespaceSlot.timeForChildren.index]
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

/// The one enum of the ten namespace slots: nst_event.ns[] / ns_before[] (NST_NS_*, its
/// `index`), the entries of /proc/PID/ns/ (its raw value), the keys of the JSON `ns` objects
/// and of a trace file's namespace maps (the same names).
///
/// Not quite the namespace *types*: `pid_for_children` and `time_for_children` are the pid
/// and time namespaces the process's next children get, which unshare(2) changes while the
/// process's own `pid`/`time` stay.
public enum NamespaceSlot: String, Sendable, Hashable, CaseIterable {
    case mnt, net, pid, uts, ipc, user, cgroup, time
    case pidForChildren = "pid_for_children"
    case timeForChildren = "time_for_children"

    public static let count = Int(NST_NS_SLOTS)

    /// NST_NS_*: the index in nst_event.ns[].
    public var index: Int {
        switch self {
        case .mnt: Int(NST_NS_MNT)
        case .net: Int(NST_NS_NET)
        case .pid: Int(NST_NS_PID)
        case .uts: Int(NST_NS_UTS)
        case .ipc: Int(NST_NS_IPC)
        case .user: Int(NST_NS_USER)
        case .cgroup: Int(NST_NS_CGROUP)
        case .time: Int(NST_NS_TIME)
        case .pidForChildren: Int(NST_NS_PID_CHILD)
        case .timeForChildren: Int(NST_NS_TIME_CHILD)
        }
    }

    /// The slot at NST_NS_* `index`.
    public init?(index: Int) {
        guard index >= 0 && index < Self.count else { return nil }
        self = Self.allCases[index]
    }

    /// The /proc/PID/ns/ entry, the JSON key: "mnt" … "time", "pid_for_children", "time_for_children".
    public var name: String { rawValue }

    /// The namespace type the slot holds.
    public var type: NamespaceType {
        switch self {
        case .pidForChildren: .pid
        case .timeForChildren: .time
        default: NamespaceType(rawValue: index)!
        }
    }

    /// The type the kernel writes in the /proc link target (`pid:[…]` also for pid_for_children).
    public var kernelTypeName: String { type.name }

    /// The CLONE_NEW* flag of the slot's type.
    public var cloneFlag: UInt64 { type.cloneFlag }

    /// Allocation-free name of slot `index` (the per-event path).
    @inlinable
    public static func name(_ index: Int) -> StaticString {
        switch index {
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

    /// Each slot's member prefix in the JSON `ns` object, index = slot: `"mnt":`, then
    /// `,"net":` … (the first without its comma). The names of `name(_:)` once more, quoted:
    /// one literal per slot read from an array is what keeps the per-event JSON path at one
    /// append per slot (three appends, or a switch, cost 5–13 % of the JSON rate in
    /// nstrace-bench part 1). NamespaceSetTests checks the two agree.
    public static let jsonMembers: [StaticString] = [
        "\"mnt\":", ",\"net\":", ",\"pid\":", ",\"uts\":", ",\"ipc\":", ",\"user\":",
        ",\"cgroup\":", ",\"time\":", ",\"pid_for_children\":", ",\"time_for_children\":",
    ]

    /// The namespace type slot `index` holds.
    public static func type(_ index: Int) -> NamespaceType {
        NamespaceSlot(index: index)?.type ?? .mnt
    }
}

/// The /proc/PID/ns/ entries nstrace reads are the namespace slots.
public typealias ProcNamespaceLink = NamespaceSlot

/// The inodes of the ten namespace slots of one process (or of "the host"): a fixed-size
/// value, 0 where a slot is unknown (a kernel without that namespace type, or not read).
/// What the decoder gives for an event's namespaces, /proc reading gives for a process,
/// attribution keeps as the host's, and trace metadata records (as a name → inode map).
public struct NamespaceSet: Hashable, Sendable, ExpressibleByArrayLiteral {
    private var storage = SIMD16<UInt32>()

    public init() {}

    /// From inodes in NST_NS_* order (slots past the tenth are ignored).
    public init(_ inodes: [UInt32]) {
        for (index, inode) in inodes.prefix(NamespaceSlot.count).enumerated() { storage[index] = inode }
    }

    public init(arrayLiteral inodes: UInt32...) { self.init(inodes) }

    /// From a name → inode map (trace metadata); unknown names are ignored.
    public init(byName map: [String: UInt32]) {
        for (name, inode) in map {
            if let slot = NamespaceSlot(rawValue: name) { self[slot] = inode }
        }
    }

    public subscript(slot: NamespaceSlot) -> UInt32 {
        get { storage[slot.index] }
        set { storage[slot.index] = newValue }
    }

    /// By NST_NS_* index; 0 for an index out of range.
    public subscript(index: Int) -> UInt32 {
        index >= 0 && index < NamespaceSlot.count ? storage[index] : 0
    }

    /// The known slots as a name → inode map (trace metadata).
    public var byName: [String: UInt32] {
        var map: [String: UInt32] = [:]
        for slot in NamespaceSlot.allCases where self[slot] != 0 { map[slot.name] = self[slot] }
        return map
    }

    /// Whether no slot is known.
    public var isEmpty: Bool { storage == SIMD16<UInt32>() }
}
