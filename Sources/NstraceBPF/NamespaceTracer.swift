import CLibbpf
import NstraceABI
#if canImport(Glibc)
import Glibc
#endif

/// The BPF programs of bpf/nstrace.bpf.c, from open to detach.
/// Steps as libbpf intends them: open, configure (globals, ring size, what to load),
/// load (verifier), attach; `deinit` detaches and frees everything.
public final class NamespaceTracer {
    public struct Options: Sendable {
        /// Ring buffer size in bytes: a power of two, at least one page.
        public var ringBufferBytes: UInt32 = 8 << 20
        /// Wake the reader only once this many bytes are pending (batched wakeups).
        public var wakeupBytes: UInt64 = 1 << 20
        /// libbpf's own log (and the verifier's) to stderr.
        public var verbose = false
        /// The process not to trace: the tracer itself.
        public var selfTGID: UInt32 = UInt32(getpid())
        public init() {}
    }

    /// A syscall left untraced because this kernel lacks its tracepoints.
    public struct Skipped: Sendable, Equatable {
        public let syscall: String
        public let tracepoint: String
    }

    private var skeleton: OpaquePointer?
    private var links: [OpaquePointer] = []
    public private(set) var skipped: [Skipped] = []
    public private(set) var attachedCount = 0
    public let options: Options
    private let tracefs: String

    /// Opens, configures, loads and attaches. Throws the first failure with its operation and errno.
    public init(options: Options = Options(), tracefs: String) throws(BPFError) {
        self.options = options
        self.tracefs = tracefs
        nst_libbpf_set_verbose(options.verbose ? 1 : 0)

        guard let skel = nst_skel_open() else {
            throw BPFError("open BPF object", errno: errno, detail: lastLibbpfMessage())
        }
        skeleton = skel
        nst_skel_set_self_tgid(skel, options.selfTGID)
        nst_skel_set_wakeup_bytes(skel, options.wakeupBytes)
        let rc = bpf_map__set_max_entries(nst_skel_events(skel), options.ringBufferBytes)
        if rc != 0 { throw BPFError("set ring buffer size to \(options.ringBufferBytes) bytes", errno: -rc) }

        disableProgramsWithoutTracepoints(nst_skel_object(skel))

        let loaded = nst_skel_load(skel)
        if loaded != 0 {
            var detail = lastLibbpfMessage()
            if !options.verbose { detail += detail.isEmpty ? "run with --verbose for the verifier log" : "; run with --verbose for the verifier log" }
            throw BPFError("load BPF programs", errno: -loaded, detail: detail)
        }
        try attachAll(nst_skel_object(skel))
    }

    deinit {
        for link in links { bpf_link__destroy(link) }
        if let skeleton { nst_skel_destroy(skeleton) }
    }

    /// The ring buffer map's file descriptor, for a `RingBufferReader`.
    public var ringBufferFD: Int32 { bpf_map__fd(nst_skel_events(skeleton)) }

    /// The per-CPU counters summed over CPUs (NST_STAT_*).
    public func readStats() throws(BPFError) -> TracerStats {
        let cpus = Int(libbpf_num_possible_cpus())
        guard cpus > 0 else { throw BPFError("count possible CPUs", errno: -Int32(cpus)) }
        var totals = [UInt64](repeating: 0, count: Int(NST_STAT_SLOTS))
        var values = [UInt64](repeating: 0, count: cpus)
        let map = nst_skel_stats(skeleton)
        for slot in 0..<UInt32(NST_STAT_SLOTS) {
            var key = slot
            let rc = values.withUnsafeMutableBytes { buf in
                bpf_map__lookup_elem(map, &key, 4, buf.baseAddress, buf.count, 0)
            }
            if rc != 0 { throw BPFError("read counters", errno: -rc) }
            totals[Int(slot)] = values.reduce(0, &+)
        }
        return TracerStats(
            lostRingBuffer: totals[Int(NST_STAT_LOST_RINGBUF)],
            lostPending: totals[Int(NST_STAT_LOST_PENDING)],
            submitted: totals[Int(NST_STAT_EVENTS)])
    }

    /// A syscall tracepoint missing on an older kernel (fsopen & co before 5.2, say) would fail
    /// the whole load: leave both of its programs out, and say so.
    private func disableProgramsWithoutTracepoints(_ object: OpaquePointer?) {
        var missing = Set<String>()
        var programs: [(OpaquePointer, String)] = []
        var prog = bpf_object__next_program(object, nil)
        while let p = prog {
            let section = String(cString: bpf_program__section_name(p))
            programs.append((p, section))
            if let tp = Self.syscallTracepoint(section), !Preflight.tracepointExists(tp, tracefs: tracefs) {
                missing.insert(Self.syscallName(tp))
                skipped.append(Skipped(syscall: Self.syscallName(tp), tracepoint: tp))
            }
            prog = bpf_object__next_program(object, p)
        }
        for (p, section) in programs {
            if let tp = Self.syscallTracepoint(section), missing.contains(Self.syscallName(tp)) {
                bpf_program__set_autoload(p, false)
            }
        }
    }

    private func attachAll(_ object: OpaquePointer?) throws(BPFError) {
        var prog = bpf_object__next_program(object, nil)
        while let p = prog {
            defer { prog = bpf_object__next_program(object, p) }
            guard bpf_program__autoload(p) else { continue }
            guard let link = bpf_program__attach(p) else {
                let section = String(cString: bpf_program__section_name(p))
                throw BPFError("attach " + section, errno: errno, detail: lastLibbpfMessage())
            }
            links.append(link)
        }
        attachedCount = links.count
    }

    /// "tracepoint/syscalls/sys_enter_mount" -> "syscalls/sys_enter_mount"
    static func syscallTracepoint(_ section: String) -> String? {
        let prefix = "tracepoint/"
        guard section.hasPrefix(prefix + "syscalls/") else { return nil }
        return String(section.dropFirst(prefix.count))
    }

    /// "syscalls/sys_enter_mount" -> "mount"
    static func syscallName(_ tracepoint: String) -> String {
        for prefix in ["syscalls/sys_enter_", "syscalls/sys_exit_"] where tracepoint.hasPrefix(prefix) {
            return String(tracepoint.dropFirst(prefix.count))
        }
        return tracepoint
    }
}

/// What the BPF side counted.
public struct TracerStats: Sendable, Equatable {
    /// Events dropped because the ring buffer was full.
    public var lostRingBuffer: UInt64
    /// Calls whose enter record could not be kept (their event is missing).
    public var lostPending: UInt64
    /// Events submitted to the ring buffer.
    public var submitted: UInt64
    public var lost: UInt64 { lostRingBuffer + lostPending }
}

func lastLibbpfMessage() -> String {
    String(cString: nst_libbpf_last_message())
}
