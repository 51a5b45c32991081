import NstraceABI

/// The syscall an event records. Raw values are the `NST_EV_*` constants of nstrace_abi.h.
public enum EventType: UInt16, CaseIterable, Sendable {
    case unshare = 1
    case setns = 2
    case clone = 3
    case clone3 = 4
    case mount = 5
    case umount = 6
    case pivotRoot = 7
    case fsopen = 8
    case fsconfig = 9
    case fsmount = 10
    case moveMount = 11
    case openTree = 12
    case mountSetattr = 13
    /// Not syscalls: an exec in a container runtime's process tree, and a new cgroup v2
    /// directory. They feed container attribution; live shows them only when asked (`--event exec`).
    case exec = 14
    case cgroupMkdir = 15

    /// The syscall name as the user types it (`--event pivot_root`) and as JSON `event` shows it.
    public var name: String { String(describing: staticName) }

    /// The name without allocation, for the per-event output path.
    public var staticName: StaticString {
        switch self {
        case .unshare: "unshare"
        case .setns: "setns"
        case .clone: "clone"
        case .clone3: "clone3"
        case .mount: "mount"
        case .umount: "umount"
        case .pivotRoot: "pivot_root"
        case .fsopen: "fsopen"
        case .fsconfig: "fsconfig"
        case .fsmount: "fsmount"
        case .moveMount: "move_mount"
        case .openTree: "open_tree"
        case .mountSetattr: "mount_setattr"
        case .exec: "exec"
        case .cgroupMkdir: "cgroup_mkdir"
        }
    }

    /// Accepts the names of `name`; also "umount2" for `umount` (the syscall is umount2).
    public init?(name: String) {
        if name == "umount2" { self = .umount; return }
        guard let t = EventType.allCases.first(where: { $0.name == name }) else { return nil }
        self = t
    }

    /// True for the events whose records carry `struct nst_strings` (nst_event_has_strings()).
    public var hasStrings: Bool {
        switch self {
        case .mount, .umount, .pivotRoot, .fsopen, .fsconfig, .moveMount, .openTree, .mountSetattr,
             .exec, .cgroupMkdir: true
        case .unshare, .setns, .clone, .clone3, .fsmount: false
        }
    }

    /// unshare, setns, clone, clone3: the events that create or enter namespaces.
    public var isNamespaceEvent: Bool {
        switch self {
        case .unshare, .setns, .clone, .clone3: true
        default: false
        }
    }

    /// The events that change or prepare mounts.
    public var isMountEvent: Bool {
        switch self {
        case .mount, .umount, .pivotRoot, .fsopen, .fsconfig, .fsmount, .moveMount, .openTree, .mountSetattr: true
        default: false
        }
    }

    /// exec and cgroup_mkdir: bookkeeping for container attribution, not part of the timeline.
    public var isInternal: Bool { self == .exec || self == .cgroupMkdir }

    /// The timeline's events: what live shows unless `--event` names others.
    public static let timelineCases: [EventType] = allCases.filter { !$0.isInternal }

    /// The name of string slot `slot` (a JSON `args` key, listed in JSON `truncated`); nil
    /// when the event has no such slot. Checked against the ABI header's table by ABILayoutTests.
    @inlinable
    public func stringSlotName(_ slot: Int) -> StaticString? {
        switch (self, slot) {
        case (.mount, 0): "source"
        case (.mount, 1): "target"
        case (.mount, 2): "fstype"
        case (.mount, 3): "data"
        case (.umount, 0): "target"
        case (.pivotRoot, 0): "new_root"
        case (.pivotRoot, 1): "put_old"
        case (.fsopen, 0): "fsname"
        case (.fsconfig, 0): "key"
        case (.fsconfig, 1): "value"
        case (.moveMount, 0): "from_path"
        case (.moveMount, 1): "to_path"
        case (.openTree, 0): "filename"
        case (.mountSetattr, 0): "path"
        case (.exec, 0): "filename"
        case (.exec, 1): "argv"
        case (.cgroupMkdir, 0): "path"
        default: nil
        }
    }
}

extension EventType {
    /// Index of the syscall argument holding the user pointer string slot `slot` was read
    /// from (so a NULL pointer can be told from an empty string): the ABI header's table,
    /// the one bpf/ reads strings by.
    @inlinable
    public func stringSlotArgIndex(_ slot: Int) -> Int? {
        let index = nst_string_slot_arg(rawValue, Int32(truncatingIfNeeded: slot))
        return index < 0 ? nil : Int(index)
    }
}

extension EventType: CustomStringConvertible {
    public var description: String { name }
}
