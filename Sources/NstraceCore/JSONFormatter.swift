/// The machine-readable format: one JSON object per line (JSON Lines). Keys, always in this
/// order: time, ts_ns, event, pid, tid, ppid, ns_pid, comm, uid, gid, cgroup_id, ns,
/// ns_before, flags, args, ret, errno, latency_ns, truncated — then, with
/// `includesContainer`, container (and for setns target_container). See docs/events.md.
public struct JSONFormatter {
    public var clock: WallClock
    /// The `container` key (and `target_container` for setns): the live stream's; not in
    /// the Chrome exporter's arguments.
    public var includesContainer: Bool

    public init(clock: WallClock, includesContainer: Bool = false) {
        self.clock = clock
        self.includesContainer = includesContainer
    }

    /// The line for one event, for tests and one-off use (allocates).
    public func line(_ ev: EventView) -> String {
        var out = OutputBuffer(capacity: 4096)
        append(ev, into: &out)
        return out.string
    }


    /// Appends one object and a newline.
    @inline(__always)
    public func append(_ attributed: AttributedEvent, into out: inout OutputBuffer) {
        append(attributed.event, container: attributed.container, target: attributed.target,
               reason: attributed.reason, actor: attributed.actor, paths: attributed.paths, into: &out)
    }

    /// Appends one object and a newline (the event passed as is: no copy of its header).
    /// `paths`: the `paths` and `mounted` members of mount-family events (issue 8).
    public func append(_ ev: EventView, container: ContainerRecord? = nil, target: ContainerRecord? = nil,
                       reason: AttributionReason? = nil, actor: Actor? = nil, paths: PathKnowledge? = nil,
                       into out: inout OutputBuffer) {
        out.append("{\"time\":\"")
        clock.appendRFC3339(bootNs: ev.tsNs, into: &out)
        out.append("\",\"ts_ns\":")
        out.appendDecimal(ev.tsNs)
        out.append(",\"event\":\"")
        out.append(ev.type.staticName)
        out.append("\",\"pid\":")
        out.appendDecimal(ev.pid)
        out.append(",\"tid\":")
        out.appendDecimal(ev.tid)
        out.append(",\"ppid\":")
        out.appendDecimal(ev.ppid)
        out.append(",\"ns_pid\":")
        out.appendDecimal(ev.nsPid)
        out.append(",\"comm\":")
        out.appendJSONString(ev.comm)
        out.append(",\"uid\":")
        out.appendDecimal(ev.uid)
        out.append(",\"gid\":")
        out.appendDecimal(ev.gid)
        out.append(",\"cgroup_id\":")
        out.appendDecimal(ev.cgroupId)

        out.append(",\"ns\":{")
        for s in 0..<NamespaceSlot.count {
            out.append(NamespaceSlot.jsonMembers[s])
            out.appendDecimal(ev.ns(s))
        }
        out.append("},\"ns_before\":{")
        let changed = ev.changedSlots
        if changed != 0 {
            var first = true
            for s in 0..<NamespaceSlot.count where changed & (UInt16(1) << UInt16(s)) != 0 {
                if !first { out.append(byte: 0x2C) }
                first = false
                out.append(byte: 0x22)
                out.append(NamespaceSlot.name(s))
                out.append("\":")
                out.appendDecimal(ev.nsBefore(s))
            }
        }
        out.append("},\"flags\":")
        JSONFormatter.appendFlags(ev, into: &out)

        out.append(",\"args\":{")
        appendArgs(ev, into: &out)
        out.append("},\"ret\":")
        out.appendDecimal(ev.ret)
        out.append(",\"errno\":")
        JSONFormatter.appendErrno(ev, into: &out)
        out.append(",\"latency_ns\":")
        out.appendDecimal(ev.latencyNs)
        out.append(",\"truncated\":[")
        if ev.type.hasStrings && ev.flags & 0xF != 0 {
            var first = true
            for s in 0..<EventLayout.stringSlots where ev.isTruncated(slot: s) {
                guard let name = ev.type.stringSlotName(s) else { continue }
                if !first { out.append(byte: 0x2C) }
                first = false
                out.appendQuoted(name)
            }
        }
        out.append(byte: 0x5D)
        if let paths {
            PathOutput.appendJSON(ev, rootfs: paths.rootfs, container: container, into: &out)
            if ev.type == .moveMount { paths.mountContexts.appendJSON(ev, into: &out) }
        }
        if includesContainer {
            out.append(",\"container\":")
            if let c = container { out.append(c.json) } else { out.append("null") }
            AttributionOutput.appendJSON(reason: container == nil ? nil : reason, actor: container == nil ? nil : actor, into: &out)
            if ev.type == .setns {
                out.append(",\"target_container\":")
                if let t = target { out.append(t.json) } else { out.append("null") }
            }
        }
        out.append("}\n")
    }

    /// The errno name in quotes, or `null` for a call that succeeded.
    static func appendErrno(_ ev: EventView, into out: inout OutputBuffer) {
        guard ev.failed else { out.append("null"); return }
        out.append(byte: 0x22)
        Errno.appendName(ev.errno, into: &out)
        out.append(byte: 0x22)
    }

    /// The names of the event's main flags argument, as a JSON array.
    static func appendFlags(_ ev: EventView, into out: inout OutputBuffer) {
        let table: FlagTable, value: UInt64
        switch ev.type {
        case .unshare: (table, value) = (FlagNames.cloneTable, ev.unshare.flags)
        case .clone, .clone3: (table, value) = (FlagNames.cloneTable, ev.clone.flags)
        case .setns: (table, value) = (FlagNames.namespaceTable, ev.setns.nstype)
        case .mount: (table, value) = (FlagNames.mountTable, ev.mount.flags)
        case .umount: (table, value) = (FlagNames.umountTable, ev.umount.flags)
        case .fsopen: (table, value) = (FlagNames.fsopenTable, ev.fsopen.flags)
        case .fsmount: (table, value) = (FlagNames.fsmountTable, ev.fsmount.flags)
        case .moveMount: (table, value) = (FlagNames.moveMountTable, ev.moveMount.flags)
        case .openTree: (table, value) = (FlagNames.openTreeTable, ev.openTree.flags)
        case .mountSetattr: (table, value) = (FlagNames.atTable, ev.mountSetattr.flags)
        case .pivotRoot, .fsconfig, .exec, .cgroupMkdir: out.append("[]"); return
        }
        table.appendJSONArray(value, into: &out)
    }

    // MARK: args

    func appendArgs(_ ev: EventView, into out: inout OutputBuffer) {
        switch ev.type {
        case .unshare:
            out.append("\"flags_raw\":")
            out.appendDecimal(ev.unshare.flags)

        case .setns:
            let call = ev.setns
            let pidfd = call.viaPidfd
            out.append("\"fd\":")
            out.appendDecimal(call.fd)
            out.append(",\"nstype\":\"")
            FlagNames.appendSetnsType(call.nstype, into: &out)
            out.append(pidfd ? "\",\"pidfd\":true" : "\",\"pidfd\":false")
            out.append(",\"target_ns_type\":")
            let t = call.targetType
            if pidfd || t == 0 {
                out.append("null")
            } else if let nt = NamespaceType(cloneFlag: t) {
                out.appendQuoted(nt.staticName)
            } else {
                out.append(byte: 0x22)
                FlagNames.namespaceTable.append(t, into: &out)
                out.append(byte: 0x22)
            }
            out.append(",\"target_ns_inode\":")
            if pidfd || t == 0 { out.append("null") } else { out.appendDecimal(call.targetInode) }
            out.append(",\"target_pid\":")
            if call.targetPID != 0 { out.appendDecimal(call.targetPID) } else { out.append("null") }

        case .clone, .clone3:
            let call = ev.clone
            out.append("\"flags_raw\":")
            out.appendDecimal(call.rawFlags)
            out.append(",\"exit_signal\":")
            let sig = call.exitSignal
            if sig == 0 {
                out.append("null")
            } else {
                out.append(byte: 0x22)
                FlagNames.appendSignal(sig, into: &out)
                out.append(byte: 0x22)
            }
            out.append(",\"child_pid\":")
            let child = call.childPID
            if child == 0 { out.append("null") } else { out.appendDecimal(child) }

        case .mount:
            appendStringMember("source", ev, 0, first: true, into: &out)
            appendStringMember("target", ev, 1, into: &out)
            appendStringMember("fstype", ev, 2, into: &out)
            appendStringMember("data", ev, 3, into: &out)
            out.append(",\"flags_raw\":")
            out.appendDecimal(ev.mount.rawFlags)

        case .umount:
            appendStringMember("target", ev, 0, first: true, into: &out)
            out.append(",\"flags_raw\":")
            out.appendDecimal(ev.umount.flags)

        case .pivotRoot:
            appendStringMember("new_root", ev, 0, first: true, into: &out)
            appendStringMember("put_old", ev, 1, into: &out)

        case .fsopen:
            appendStringMember("fsname", ev, 0, first: true, into: &out)
            out.append(",\"flags_raw\":")
            out.appendDecimal(ev.fsopen.flags)

        case .fsconfig:
            let call = ev.fsconfig
            out.append("\"fd\":")
            out.appendDecimal(call.fd)
            out.append(",\"cmd\":\"")
            FlagNames.appendFsconfigCommand(call.rawCommand, into: &out)
            out.append(byte: 0x22)
            appendStringMember("key", ev, 0, into: &out)
            if call.command?.hasStringValue == true {
                appendStringMember("value", ev, 1, into: &out)
            } else {
                out.append(",\"value\":null")
            }
            out.append(",\"aux\":")
            out.appendDecimal(call.aux)

        case .fsmount:
            let call = ev.fsmount
            out.append("\"fs_fd\":")
            out.appendDecimal(call.fsFD)
            out.append(",\"flags_raw\":")
            out.appendDecimal(call.flags)
            out.append(",\"attr_flags\":")
            FlagNames.mountAttrTable.appendJSONArray(call.attrFlags, into: &out)
            out.append(",\"attr_flags_raw\":")
            out.appendDecimal(call.attrFlags)

        case .moveMount:
            let call = ev.moveMount
            out.append("\"from_dfd\":")
            out.appendDecimal(call.fromDfd)
            appendStringMember("from_path", ev, 0, into: &out)
            out.append(",\"to_dfd\":")
            out.appendDecimal(call.toDfd)
            appendStringMember("to_path", ev, 1, into: &out)
            out.append(",\"flags_raw\":")
            out.appendDecimal(call.flags)

        case .openTree:
            let call = ev.openTree
            out.append("\"dfd\":")
            out.appendDecimal(call.dfd)
            appendStringMember("filename", ev, 0, into: &out)
            out.append(",\"flags_raw\":")
            out.appendDecimal(call.flags)

        case .mountSetattr:
            let call = ev.mountSetattr
            let set = call.attrSet, clr = call.attrClr, prop = call.propagation
            out.append("\"dfd\":")
            out.appendDecimal(call.dfd)
            appendStringMember("path", ev, 0, into: &out)
            out.append(",\"flags_raw\":")
            out.appendDecimal(call.flags)
            out.append(",\"attr_set\":")
            if call.setsRelatime {
                // the table never names 0; add MOUNT_ATTR_RELATIME explicitly
                out.append(byte: 0x5B)
                var first = true
                FlagNames.mountAttrTable.forEach(set) { p in
                    if !first { out.append(byte: 0x2C) }
                    first = false
                    out.append(byte: 0x22)
                    p.append(into: &out)
                    out.append(byte: 0x22)
                }
                if !first { out.append(byte: 0x2C) }
                out.append("\"MOUNT_ATTR_RELATIME\"]")
            } else {
                FlagNames.mountAttrTable.appendJSONArray(set, into: &out)
            }
            out.append(",\"attr_clr\":")
            FlagNames.mountAttrTable.appendJSONArray(clr, into: &out)
            out.append(",\"propagation\":")
            if prop == 0 {
                out.append("null")
            } else {
                out.append(byte: 0x22)
                FlagNames.propagationTable.append(prop, into: &out)
                out.append(byte: 0x22)
            }
            out.append(",\"userns_fd\":")
            if let usernsFD = call.usernsFD {
                out.appendDecimal(usernsFD)
            } else {
                out.append("null")
            }

        case .exec:
            appendStringMember("filename", ev, 0, first: true, into: &out)
            out.append(",\"argv\":[")
            var first = true
            ev.forEachArgument { arg in
                if !first { out.append(byte: 0x2C) }
                first = false
                out.appendJSONString(arg)
            }
            let record = ev.exec
            out.append("],\"runtime\":")
            out.append(record.isRuntime ? "true" : "false")
            out.append(",\"lineage_before\":")
            if record.lineageBefore == 0 { out.append("null") } else { out.appendDecimal(record.lineageBefore) }

        case .cgroupMkdir:
            appendStringMember("path", ev, 0, first: true, into: &out)
            out.append(",\"cgroup\":")
            out.appendDecimal(ev.cgroupMkdir.id)
        }
    }

    /// `,"key":"…"`, or `null` for a NULL pointer or an unreadable string.
    @inline(__always)
    func appendStringMember(_ key: StaticString, _ ev: EventView, _ slot: Int, first: Bool = false,
                            into out: inout OutputBuffer) {
        out.append(first ? "\"" : ",\"")
        out.append(key)
        out.append("\":")
        if ev.stringFault(slot: slot) || (ev.stringIsNull(slot: slot) && ev.stringLength(slot) == 0) {
            out.append("null")
        } else {
            out.appendJSONString(ev.string(slot))
        }
    }
}
