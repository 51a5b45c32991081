/// The human-readable format: one aligned line per event,
/// `TIME PID COMM EVENT DETAIL`, e.g.
///
///     07:40:01.123456    4242 unshare          unshare       CLONE_NEWNS|CLONE_NEWNET mnt:[4026531841→4026532693] net:[4026531840→4026532696]
///     07:40:01.123500    4242 mount            mount         tmpfs on /mnt type tmpfs (MS_NOSUID)
///     07:40:01.123600    4242 mount            umount        /mnt (MNT_DETACH) = -1 EPERM
///
/// Every string from the traced process (comm, paths, mount data) is escaped with
/// `OutputBuffer.appendTextEscaped`, so it cannot carry terminal control sequences.
public struct TextFormatter {
    public var color: Bool
    public var clock: WallClock
    /// The CONTAINER column (after COMM): the event's container label, `-` for the host.
    public var showsContainer: Bool
    /// `--why`: after an attributed event's detail, how it was tied and who acted.
    public var showsWhy: Bool = false
    /// During one `append`: what resolved path arguments are shown through (issue 8).
    private final class PathScope {
        var paths: PathKnowledge?
        var container: ContainerRecord?
    }
    private let scope = PathScope()

    public init(color: Bool, clock: WallClock, showsContainer: Bool = false) {
        self.color = color
        self.clock = clock
        self.showsContainer = showsContainer
    }

    static let timeWidth = 15
    static let pidWidth = 7
    static let commWidth = 16
    static let eventWidth = 13
    static let containerWidth = 12

    static let reset: StaticString = "\u{1B}[0m"
    static let nsColor: StaticString = "\u{1B}[36m"      // cyan: namespace events
    static let mountColor: StaticString = "\u{1B}[33m"   // yellow: mount events
    static let failColor: StaticString = "\u{1B}[1;31m"  // bold red: failures

    /// `TIME            PID COMM             EVENT         DETAIL`
    public func appendHeader(into out: inout OutputBuffer) {
        out.append("TIME")
        out.appendSpaces(Self.timeWidth - 4 + 1)
        out.appendSpaces(Self.pidWidth - 3)
        out.append("PID COMM")
        out.appendSpaces(Self.commWidth - 4 + 1)
        if showsContainer {
            out.append("CONTAINER")
            out.appendSpaces(Self.containerWidth - 9 + 1)
        }
        out.append("EVENT")
        out.appendSpaces(Self.eventWidth - 5 + 1)
        out.append("DETAIL\n")
    }

    /// The line for one event, for tests and the CLI's one-off use (allocates).
    public func line(_ ev: EventView) -> String {
        var out = OutputBuffer(capacity: 1024)
        append(ev, into: &out)
        return out.string
    }

    /// Appends one line, newline included.
    @inline(__always)
    public func append(_ attributed: AttributedEvent, into out: inout OutputBuffer) {
        append(attributed.event, container: attributed.container, reason: attributed.reason, actor: attributed.actor,
               paths: attributed.paths, into: &out)
    }

    /// Appends one line, newline included (the event passed as is: no copy of its header).
    /// `paths`: show resolved path arguments (as the container sees them when known).
    public func append(_ ev: EventView, container: ContainerRecord? = nil, reason: AttributionReason? = nil,
                       actor: Actor? = nil, paths: PathKnowledge? = nil, into out: inout OutputBuffer) {
        scope.paths = paths
        scope.container = container
        defer { scope.paths = nil; scope.container = nil }
        clock.appendLocalTime(bootNs: ev.tsNs, into: &out)
        out.append(byte: 0x20)
        out.appendDecimal(UInt64(ev.pid), width: Self.pidWidth)
        out.append(byte: 0x20)
        let commStart = out.count
        out.appendTextEscaped(ev.comm)
        out.padColumns(since: commStart, width: Self.commWidth)
        out.append(byte: 0x20)
        if showsContainer {
            let start = out.count
            if let container { out.append(container.column) } else { out.append(byte: 0x2D) }
            out.padColumns(since: start, width: Self.containerWidth)
            out.append(byte: 0x20)
        }

        let failed = ev.failed
        if color { out.append(failed ? Self.failColor : (ev.type.isNamespaceEvent ? Self.nsColor : Self.mountColor)) }
        out.append(ev.type.staticName)
        let nameLen = ev.type.staticName.utf8CodeUnitCount
        if color { out.append(Self.reset) }
        out.appendSpaces(Self.eventWidth - nameLen + 1)

        appendDetail(ev, into: &out)
        if ev.type == .moveMount, let paths { paths.mountContexts.appendText(ev, into: &out) }
        if showsWhy, container != nil { AttributionOutput.appendText(reason: reason, actor: actor, into: &out) }
        out.append(byte: 0x0A)
    }

    // MARK: details

    func appendDetail(_ ev: EventView, into out: inout OutputBuffer) {
        switch ev.type {
        case .unshare:
            FlagNames.appendClone(ev.unshare.flags, syscall: .unshare, into: &out)
            appendNsChanges(ev, into: &out)
            appendResult(ev, into: &out)

        case .setns:
            let call = ev.setns
            let nstype = call.nstype
            if call.viaPidfd {
                out.append("pidfd=")
                out.appendDecimal(call.fd)
                if call.targetPID != 0 {
                    out.append(" (pid ")
                    out.appendDecimal(call.targetPID)
                    out.append(byte: 0x29)
                }
                out.append(byte: 0x20)
                FlagNames.appendSetnsType(nstype, into: &out)
                appendNsChanges(ev, into: &out)
            } else {
                out.append("fd=")
                out.appendDecimal(call.fd)
                if nstype != 0 {
                    out.append(" nstype=")
                    FlagNames.appendSetnsType(nstype, into: &out)
                }
                let t = call.targetType
                if t != 0 {
                    out.append(byte: 0x20)
                    if let nt = NamespaceType(cloneFlag: t) {
                        out.append(nt.staticName)
                    } else {
                        FlagNames.namespaceTable.append(t, into: &out)
                    }
                    out.append(":[")
                    out.appendDecimal(call.targetInode)
                    out.append(byte: 0x5D)
                }
            }
            appendResult(ev, into: &out)

        case .clone, .clone3:
            let call = ev.clone
            FlagNames.appendClone(call.flags, syscall: .clone3, exitSignal: call.exitSignal, into: &out)
            if !ev.failed {
                out.append(" child=")
                out.appendDecimal(call.childPID)
            }
            appendNsChanges(ev, into: &out)
            appendResult(ev, always: false, showSuccess: false, into: &out)

        case .mount:
            if !ev.stringIsNull(slot: 0) && (ev.stringLength(0) > 0 || ev.stringFault(slot: 0)) {
                appendString(ev, 0, quote: false, into: &out)
                out.append(" on ")
            }
            appendString(ev, 1, quote: false, into: &out)
            if !ev.stringIsNull(slot: 2) && (ev.stringLength(2) > 0 || ev.stringFault(slot: 2)) {
                out.append(" type ")
                appendString(ev, 2, quote: false, into: &out)
            }
            appendFlags(FlagNames.mountTable, ev.mount.flags, into: &out)
            if !ev.stringIsNull(slot: 3) && (ev.stringLength(3) > 0 || ev.stringFault(slot: 3)) {
                out.append(" data=")
                appendString(ev, 3, quote: true, into: &out)
            }
            appendResult(ev, into: &out)

        case .umount:
            appendString(ev, 0, quote: false, into: &out)
            appendFlags(FlagNames.umountTable, ev.umount.flags, into: &out)
            appendResult(ev, into: &out)

        case .pivotRoot:
            out.append("new_root=")
            appendString(ev, 0, quote: false, into: &out)
            out.append(" put_old=")
            appendString(ev, 1, quote: false, into: &out)
            appendResult(ev, into: &out)

        case .fsopen:
            appendString(ev, 0, quote: true, into: &out)
            appendFlags(FlagNames.fsopenTable, ev.fsopen.flags, into: &out)
            appendResult(ev, always: true, into: &out)

        case .fsconfig:
            let call = ev.fsconfig
            out.append("fd=")
            out.appendDecimal(call.fd)
            out.append(byte: 0x20)
            FlagNames.appendFsconfigCommand(call.rawCommand, into: &out)
            if !ev.stringIsNull(slot: 0) {
                out.append(" key=")
                appendString(ev, 0, quote: true, into: &out)
            }
            switch call.command {
            case .setString?, .setPath?, .setPathEmpty?:
                if !ev.stringIsNull(slot: 1) {
                    out.append(" value=")
                    appendString(ev, 1, quote: true, into: &out)
                }
                if call.command?.takesDirectoryFD == true {
                    out.append(" dfd=")
                    appendDfd(call.aux, into: &out)
                }
            case .setBinary?:   // aux is the length
                out.append(" value=<")
                out.appendDecimal(call.aux)
                out.append(" bytes>")
            case .setFD?:
                out.append(" value_fd=")
                out.appendDecimal(call.aux)
            default:
                break
            }
            appendResult(ev, into: &out)

        case .fsmount:
            let call = ev.fsmount
            out.append("fs_fd=")
            out.appendDecimal(call.fsFD)
            appendFlags(FlagNames.fsmountTable, call.flags, into: &out)
            if call.attrFlags != 0 {
                out.append(" attr=")
                FlagNames.mountAttrTable.append(call.attrFlags, into: &out)
            }
            appendResult(ev, always: true, into: &out)

        case .moveMount:
            let call = ev.moveMount
            out.append("from fd=")
            appendDfd(call.fromDfd, into: &out)
            out.append(byte: 0x20)
            appendString(ev, 0, quote: true, into: &out)
            out.append(" to fd=")
            appendDfd(call.toDfd, into: &out)
            out.append(byte: 0x20)
            appendString(ev, 1, quote: true, into: &out)
            appendFlags(FlagNames.moveMountTable, call.flags, into: &out)
            appendResult(ev, into: &out)

        case .openTree:
            let call = ev.openTree
            out.append("fd=")
            appendDfd(call.dfd, into: &out)
            out.append(byte: 0x20)
            appendString(ev, 0, quote: true, into: &out)
            appendFlags(FlagNames.openTreeTable, call.flags, into: &out)
            appendResult(ev, always: true, into: &out)

        case .mountSetattr:
            let call = ev.mountSetattr
            out.append("fd=")
            appendDfd(call.dfd, into: &out)
            out.append(byte: 0x20)
            appendString(ev, 0, quote: true, into: &out)
            appendFlags(FlagNames.atTable, call.flags, into: &out)
            let set = call.attrSet, clr = call.attrClr, prop = call.propagation
            let relatime = call.setsRelatime
            if set != 0 || relatime {
                out.append(" attr_set=")
                if set != 0 { FlagNames.mountAttrTable.append(set, into: &out) }
                if relatime {
                    if set != 0 { out.append(byte: 0x7C) }
                    out.append("MOUNT_ATTR_RELATIME")
                }
            }
            if clr != 0 {
                out.append(" attr_clr=")
                FlagNames.mountAttrTable.append(clr, into: &out)
            }
            if prop != 0 {
                out.append(" propagation=")
                FlagNames.propagationTable.append(prop, into: &out)
            }
            if let usernsFD = call.usernsFD {
                out.append(" userns_fd=")
                out.appendDecimal(usernsFD)
            }
            appendResult(ev, into: &out)

        case .exec:
            appendString(ev, 0, quote: false, into: &out)
            out.append(" [")
            var first = true
            ev.forEachArgument { arg in
                if !first { out.append(byte: 0x20) }
                first = false
                out.appendTextEscaped(arg, quote: false)
            }
            out.append("]")
            if ev.isTruncated(slot: 1) { out.append("…") }

        case .cgroupMkdir:
            appendString(ev, 0, quote: false, into: &out)
            out.append(" (id ")
            out.appendDecimal(ev.cgroupMkdir.id)
            out.append(")")
        }
    }

    /// ` (A|B)` when value is not 0.
    @inline(__always)
    func appendFlags(_ table: FlagTable, _ value: UInt64, into out: inout OutputBuffer) {
        guard value != 0 else { return }
        out.append(" (")
        table.append(value, into: &out)
        out.append(byte: 0x29)
    }

    /// A string argument: escaped, `"…"` when `quote`, `…` after it when cut, `<fault>` when
    /// unreadable, `NULL` for a NULL pointer.
    func appendString(_ ev: EventView, _ slot: Int, quote: Bool, into out: inout OutputBuffer) {
        if let paths = scope.paths, ev.type.hasPaths,
           PathOutput.appendText(ev, slot: slot, rootfs: paths.rootfs, container: scope.container, into: &out) { return }
        // the flags read once, the NULL test only for an empty string (a report formats
        // three strings for each mount: each accessor is a call)
        let flags = ev.flags
        if flags & EventFlags.fault(slot) != 0 {
            if ev.stringIsNull(slot: slot) { out.append("NULL") } else { out.append("<fault>") }
            return
        }
        let s = ev.string(slot)
        if s.count == 0 && ev.stringIsNull(slot: slot) {
            out.append("NULL")
            return
        }
        if quote { out.append(byte: 0x22) }
        out.appendTextEscaped(s, quote: quote)
        if quote { out.append(byte: 0x22) }
        if flags & EventFlags.truncated(slot) != 0 { out.append("…") }
    }

    /// A directory fd: AT_FDCWD for -100.
    @inline(__always)
    func appendDfd(_ fd: Int32, into out: inout OutputBuffer) {
        if fd == -100 { out.append("AT_FDCWD") } else { out.appendDecimal(fd) }
    }

    /// ` slot:[before→after]` for every slot that changed.
    func appendNsChanges(_ ev: EventView, into out: inout OutputBuffer) {
        let changed = ev.changedSlots
        guard changed != 0 else { return }
        for s in 0..<NamespaceSlot.count where changed & (UInt16(1) << UInt16(s)) != 0 {
            out.append(byte: 0x20)
            out.append(NamespaceSlot.name(s))
            out.append(":[")
            out.appendDecimal(ev.nsBefore(s))
            out.append("→")
            out.appendDecimal(ev.ns(s))
            out.append(byte: 0x5D)
        }
    }

    /// ` = -1 EPERM` on failure; ` = N` on success when `always` (fd-returning calls) or
    /// when a 0-returning call returned something else.
    func appendResult(_ ev: EventView, always: Bool = false, showSuccess: Bool = true, into out: inout OutputBuffer) {
        if ev.failed {
            if color { out.append(Self.failColor) }
            out.append(" = -1 ")
            Errno.appendName(ev.errno, into: &out)
            if color { out.append(Self.reset) }
        } else if showSuccess && (always || ev.ret != 0) {
            out.append(" = ")
            out.appendDecimal(ev.ret)
        }
    }
}
