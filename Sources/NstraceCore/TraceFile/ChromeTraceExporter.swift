/// Writes Chrome Trace Event JSON (`{"traceEvents":[...]}`), which Perfetto UI
/// (ui.perfetto.dev) and chrome://tracing open.
///
/// Tracks: one Chrome "process" per container (and one named `host` for events outside any
/// container), one "thread" per traced thread within it (named `comm pid` or
/// `comm pid/tid`: syscalls of one thread never overlap, so slices nest correctly).
/// Each event is a complete event (`"ph":"X"`, from syscall entry, `dur` = latency) or an
/// instant (`"ph":"i"`) when its latency is 0; its arguments (the JSON schema's `args`,
/// flags, return value, changed namespaces) are in `args`. Loss counters from `lost`
/// metadata become a counter track. Timestamps are CLOCK_BOOTTIME in microseconds with
/// nanosecond decimals (exact in a double); `otherData.boot_to_realtime_ns` converts them.
///
/// Streaming: `begin`, then `append` per event / metadata record, then `end`. Output is
/// valid JSON whatever bytes the events hold. Not thread-safe.
public final class ChromeTraceExporter {
    /// Events come attributed (from `EventPipeline`): the exporter has no attribution of its own.
    public init(header: TraceFileHeader? = nil) {
        self.header = header
    }

    public private(set) var eventsExported = 0
    /// Chrome "processes" (host and containers) and "threads" created so far.
    public var processCount: Int { labels.count }
    public private(set) var threadCount = 0

    private let header: TraceFileHeader?
    private let formatter = JSONFormatter(clock: WallClock(bootToRealtimeNs: 0, utcOffsetSeconds: 0))
    private var pidByKey: [String: Int32] = [:]
    private var labels: [Int32: String] = [:]
    private var threads = Set<UInt64>()
    private var nextPid: Int32 = 2
    private var first = true
    private static let hostPid: Int32 = 1

    // MARK: stream

    public func begin(into out: inout OutputBuffer) {
        out.append("{\"traceEvents\":[")
    }

    /// One event, on its container's track (the pipeline decided which events to show).
    public func append(_ attributed: AttributedEvent, into out: inout OutputBuffer) {
        let ev = attributed.event
        let pid = processID(for: attributed.container, into: &out)
        let tid = ev.tid
        let threadKey = UInt64(UInt32(bitPattern: pid)) << 32 | UInt64(tid)
        if !threads.contains(threadKey) {
            threads.insert(threadKey)
            threadCount += 1
            separator(&out)
            out.append("{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":")
            out.appendDecimal(pid)
            out.append(",\"tid\":")
            out.appendDecimal(tid)
            out.append(",\"args\":{\"name\":")
            var name = OutputBuffer(capacity: 64)
            name.append(bytes: ev.comm)
            name.append(byte: 0x20)
            name.appendDecimal(ev.pid)
            if ev.tid != ev.pid {
                name.append(byte: 0x2F)
                name.appendDecimal(ev.tid)
            }
            name.withUnsafeBytes { out.appendJSONString($0) }
            out.append("}}")
        }

        separator(&out)
        out.append("{\"name\":\"")
        out.append(ev.type.staticName)
        appendNamespaceSuffix(ev, into: &out)
        out.append("\",\"cat\":\"")
        out.append(ev.type.isNamespaceEvent ? "namespace" : ev.type.isInternal ? "internal" : "mount")
        let lat = ev.latencyNs
        if lat > 0 {
            out.append("\",\"ph\":\"X\",\"ts\":")
            Self.appendMicroseconds(ev.tsNs >= lat ? ev.tsNs - lat : 0, into: &out)
            out.append(",\"dur\":")
            Self.appendMicroseconds(lat, into: &out)
        } else {
            out.append("\",\"ph\":\"i\",\"s\":\"t\",\"ts\":")
            Self.appendMicroseconds(ev.tsNs, into: &out)
        }
        out.append(",\"pid\":")
        out.appendDecimal(pid)
        out.append(",\"tid\":")
        out.appendDecimal(tid)
        out.append(",\"args\":{\"pid\":")
        out.appendDecimal(ev.pid)
        out.append(",\"ppid\":")
        out.appendDecimal(ev.ppid)
        out.append(",\"ns_pid\":")
        out.appendDecimal(ev.nsPid)
        out.append(",\"comm\":")
        out.appendJSONString(ev.comm)
        out.append(",\"ret\":")
        out.appendDecimal(ev.ret)
        out.append(",\"errno\":")
        JSONFormatter.appendErrno(ev, into: &out)
        out.append(",\"flags\":")
        JSONFormatter.appendFlags(ev, into: &out)
        out.append(",\"cgroup_id\":")
        out.appendDecimal(ev.cgroupId)
        let changed = ev.changedSlots
        if changed != 0 {
            out.append(",\"ns_changed\":{")
            var firstSlot = true
            for s in 0..<NamespaceSlot.count where changed & (UInt16(1) << UInt16(s)) != 0 {
                if !firstSlot { out.append(byte: 0x2C) }
                firstSlot = false
                out.append(byte: 0x22)
                out.append(NamespaceSlot.name(s))
                out.append("\":[")
                out.appendDecimal(ev.nsBefore(s))
                out.append(byte: 0x2C)
                out.appendDecimal(ev.ns(s))
                out.append(byte: 0x5D)
            }
            out.append(byte: 0x7D)
        }
        // the syscall's own arguments, as in the JSON Lines schema
        let mark = out.count
        out.append(byte: 0x2C)
        formatter.appendArgs(ev, into: &out)
        if out.count == mark + 1 { out.truncate(to: mark) }
        out.append("}}")
        eventsExported += 1
    }

    /// A metadata record: `lost` becomes a counter sample; the others are attribution's.
    public func append(metadata m: TraceMetadata, into out: inout OutputBuffer) {
        guard m.kind == TraceMetadata.Lost.kind, m.tsNs != 0, let lost = try? m.decode(TraceMetadata.Lost.self) else { return }
        separator(&out)
        out.append("{\"name\":\"lost events\",\"ph\":\"C\",\"pid\":")
        out.appendDecimal(Self.hostPid)
        out.append(",\"ts\":")
        Self.appendMicroseconds(m.tsNs, into: &out)
        out.append(",\"args\":{\"ringbuf\":")
        out.appendDecimal(lost.ringbuf)
        out.append(",\"pending\":")
        out.appendDecimal(lost.pending)
        out.append("}}")
        if labels[Self.hostPid] == nil { nameProcess(Self.hostPid, "host", sortIndex: 0, into: &out) }
    }

    /// A slice that is not an event (a container start's phase, from the startup analysis) on
    /// the container's track, on a thread of its own (`threadID`, named `threadName`).
    public func appendSlice(containerKey: String, label: String, threadID: UInt32, threadName: String, name: String,
                            startNs: UInt64, durationNs: UInt64, into out: inout OutputBuffer) {
        var pid = pidByKey[containerKey] ?? 0
        if pid == 0 {
            pid = nextPid
            nextPid += 1
            pidByKey[containerKey] = pid
            nameProcess(pid, label, sortIndex: Int(pid), into: &out)
        }
        let threadKey = UInt64(UInt32(bitPattern: pid)) << 32 | UInt64(threadID)
        if threads.insert(threadKey).inserted {
            separator(&out)
            out.append("{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":")
            out.appendDecimal(pid)
            out.append(",\"tid\":")
            out.appendDecimal(threadID)
            out.append(",\"args\":{\"name\":")
            out.appendJSONString(Array(threadName.utf8))
            out.append("}}")
        }
        separator(&out)
        out.append("{\"name\":")
        out.appendJSONString(Array(name.utf8))
        out.append(",\"cat\":\"phase\",\"ph\":\"X\",\"ts\":")
        Self.appendMicroseconds(startNs, into: &out)
        out.append(",\"dur\":")
        Self.appendMicroseconds(durationNs, into: &out)
        out.append(",\"pid\":")
        out.appendDecimal(pid)
        out.append(",\"tid\":")
        out.appendDecimal(threadID)
        out.append("}")
    }

    /// Closes the array and the object (with `displayTimeUnit` and `otherData`).
    public func end(into out: inout OutputBuffer) {
        out.append("\n],\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"nstrace\",\"clock\":\"CLOCK_BOOTTIME\"")
        if let h = header {
            out.append(",\"hostname\":")
            out.appendJSONString(Array(h.hostname.utf8))
            out.append(",\"kernel_release\":")
            out.appendJSONString(Array(h.kernelRelease.utf8))
            out.append(",\"nstrace_version\":")
            out.appendJSONString(Array(h.nstraceVersion.utf8))
            out.append(",\"boot_to_realtime_ns\":")
            out.appendDecimal(h.clock.bootToRealtimeNs)
        }
        out.append("}}\n")
    }

    // MARK: internals

    private func separator(_ out: inout OutputBuffer) {
        if first {
            first = false
            out.append(byte: 0x0A)
        } else {
            out.append(",\n")
        }
    }

    /// The track of a container (nil: the host's), made on first use and renamed when the
    /// container's name becomes known.
    private func processID(for container: ContainerRecord?, into out: inout OutputBuffer) -> Int32 {
        guard let container else {
            if labels[Self.hostPid] == nil { nameProcess(Self.hostPid, "host", sortIndex: 0, into: &out) }
            return Self.hostPid
        }
        if let pid = pidByKey[container.id] {
            if labels[pid] != container.trackLabel { nameProcess(pid, container.trackLabel, sortIndex: nil, into: &out) }
            return pid
        }
        let pid = nextPid
        nextPid += 1
        pidByKey[container.id] = pid
        nameProcess(pid, container.trackLabel, sortIndex: Int(pid), into: &out)
        return pid
    }

    private func nameProcess(_ pid: Int32, _ label: String, sortIndex: Int?, into out: inout OutputBuffer) {
        labels[pid] = label
        separator(&out)
        out.append("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":")
        out.appendDecimal(pid)
        out.append(",\"tid\":0,\"args\":{\"name\":")
        out.appendJSONString(Array(label.utf8))
        out.append("}}")
        if let sortIndex {
            separator(&out)
            out.append("{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":")
            out.appendDecimal(pid)
            out.append(",\"tid\":0,\"args\":{\"sort_index\":")
            out.appendDecimal(sortIndex)
            out.append("}}")
        }
    }

    /// `ns` as microseconds with three decimals: 1000123456789 → 1000123456.789.
    static func appendMicroseconds(_ ns: UInt64, into out: inout OutputBuffer) {
        out.appendDecimal(ns / 1000)
        out.append(byte: 0x2E)
        out.appendZeroPadded(ns % 1000, digits: 3)
    }

    /// For namespace events, the namespace types created or joined: `unshare mnt+net`.
    private func appendNamespaceSuffix(_ ev: EventView, into out: inout OutputBuffer) {
        var bits: UInt64
        switch ev.type {
        case .unshare, .clone, .clone3:
            bits = ev.cloneFlags
        case .setns:
            let call = ev.setns
            bits = call.viaPidfd ? call.nstype : (call.targetType != 0 ? call.targetType : call.nstype)
        default:
            return
        }
        var firstType = true
        for t in NamespaceType.allCases where bits & t.cloneFlag != 0 {
            out.append(byte: firstType ? 0x20 : 0x2B)
            firstType = false
            out.append(t.staticName)
            bits &= ~t.cloneFlag
        }
    }
}

extension ContainerRecord {
    /// A container's track in the Chrome export: its name, else its id's first 12 characters.
    var trackLabel: String { name ?? String(id.prefix(12)) }
}
