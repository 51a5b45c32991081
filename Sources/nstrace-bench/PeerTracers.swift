import BenchPeers
#if canImport(Glibc)
import Glibc
#endif

// Part 8's tracers: nstrace (live text, live JSON, record), bpftrace, strace with and without
// --seccomp-bpf, perf trace; and "untraced", the baseline of every round.

enum PeerTracer: String, CaseIterable, Sendable {
    case untraced
    case nstraceText = "nstrace -o text"
    case nstraceJSON = "nstrace -o json"
    case nstraceRecord = "nstrace record"
    case bpftrace
    case strace = "strace -f"
    case straceSeccomp = "strace -f --seccomp-bpf"
    case perf = "perf trace -a"

    /// Its name on the command line (--tracers).
    var id: String {
        switch self {
        case .untraced: return "untraced"
        case .nstraceText: return "text"
        case .nstraceJSON: return "json"
        case .nstraceRecord: return "record"
        case .bpftrace: return "bpftrace"
        case .strace: return "strace"
        case .straceSeccomp: return "strace-seccomp"
        case .perf: return "perf"
        }
    }

    var isNstrace: Bool { self == .nstraceText || self == .nstraceJSON || self == .nstraceRecord }

    /// Traces the whole machine, started once per round around every workload (strace wraps each).
    var systemWide: Bool { self != .untraced && self != .strace && self != .straceSeccomp }

    /// The strace filter: the syscalls nstrace traces.
    static var straceSyscalls: String { PeerSyscalls.all.joined(separator: ",") }

    /// argv of `workload` under this tracer (strace wraps it; the others watch from outside).
    func workloadCommand(_ workload: [String], output: String) -> [String] {
        switch self {
        case .strace: return ["strace", "-f", "-qq", "-o", output, "-e", "trace=" + Self.straceSyscalls] + workload
        case .straceSeccomp: return ["strace", "-f", "-qq", "--seccomp-bpf", "-o", output, "-e", "trace=" + Self.straceSyscalls] + workload
        default: return workload
        }
    }
}

/// One running system-wide tracer: its files, readiness, CPU and memory, and what it reported.
final class PeerTracerSession {
    let tracer: PeerTracer
    let process: PeerProcess
    let stdoutPath: String
    let stderrPath: String
    let recordPath: String

    static let readyTimeout = 120.0

    init(_ tracer: PeerTracer, nstrace: String, dir: String) throws(BenchError) {
        self.tracer = tracer
        let base = dir + "/" + tracer.id
        stdoutPath = base + ".out"
        stderrPath = base + ".err"
        recordPath = base + ".nst"
        var args: [String]
        switch tracer {
        case .nstraceText: args = [nstrace, "-o", "text", "--color", "never"]
        case .nstraceJSON: args = [nstrace, "-o", "json"]
        case .nstraceRecord: args = [nstrace, "record", "-w", recordPath]
        case .bpftrace:
            let script = base + ".bt"
            try writeFile(script, BpftraceScript.text(available: { access("/sys/kernel/tracing/events/syscalls/sys_enter_" + $0, F_OK) == 0 }))
            args = ["bpftrace", script]
        case .perf: args = ["perf", "trace", "-a", "-e", PeerSyscalls.all.joined(separator: ","), "-o", stdoutPath]
        case .untraced, .strace, .straceSeccomp: throw BenchError("\(tracer.rawValue) is not a system-wide tracer")
        }
        process = try PeerProcess(args, stdout: stdoutPath, stderr: stderrPath)
        try waitReady()
        sleepSeconds(1) // let every CPU see the attached programs before the first workload
    }

    private func waitReady() throws(BenchError) {
        let deadline = monotonicNs() + Int64(Self.readyTimeout * 1e9)
        let cpus = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        while monotonicNs() < deadline {
            if process.poll() {
                throw BenchError("\(tracer.rawValue) exited before it was ready: \(tail(stderrPath))")
            }
            switch tracer {
            case .bpftrace:
                if (readFile(stdoutPath) ?? "").contains("Attaching ") { return }
            case .perf:
                // perf opens a per-CPU event for raw_syscalls enter and exit, then enables them
                if perfEventFDs(process.pid) >= 2 * cpus { sleepSeconds(1); return }
            default:
                if (readFile(stderrPath) ?? "").contains("nstrace: tracing") { return }
            }
            sleepSeconds(0.1)
        }
        throw BenchError("\(tracer.rawValue) was not ready within \(Int(Self.readyTimeout)) s: \(tail(stderrPath))")
    }

    /// Stops it (SIGINT) and reads what it reported, per workload (by the workload's comm).
    func stop(workloads: [PeerWorkload], nstrace: String) throws(BenchError) -> [PeerWorkload: PeerCounts] {
        process.stop(grace: 60)
        guard process.exitStatus != nil else { throw BenchError("\(tracer.rawValue) did not stop") }
        let err = readFile(stderrPath) ?? ""
        var text: String
        if tracer == .nstraceRecord {
            let json = recordPath + ".json"
            let show = try PeerProcess([nstrace, "show", recordPath, "-o", "json"], stdout: json, stderr: json + ".err")
            show.wait(timeout: 300)
            guard show.exitedCleanly else { throw BenchError("nstrace show \(recordPath) failed: \(tail(json + ".err"))") }
            text = readFile(json) ?? ""
            unlink(json)
        } else {
            text = readFile(stdoutPath) ?? ""
        }
        var result: [PeerWorkload: PeerCounts] = [:]
        for w in workloads {
            let filter = ProcessFilter.comm(w.comm)
            var c: PeerCounts
            switch tracer {
            case .nstraceText: c = NstraceOutput.countText(text, filter: filter)
            case .nstraceJSON, .nstraceRecord: c = NstraceOutput.countJSON(text, filter: filter)
            case .bpftrace: c = BpftraceOutput.count(text + "\n" + err, filter: filter)
            default: c = PerfTraceOutput.count(text + "\n" + err, filter: filter)
            }
            if tracer.isNstrace { c.lost = NstraceOutput.summary(err)?.lost ?? -1 }
            result[w] = c
        }
        text = ""
        for p in [stdoutPath, stderrPath, recordPath] { unlink(p) }
        return result
    }
}

/// perf_event file descriptors a process holds.
func perfEventFDs(_ pid: pid_t) -> Int {
    guard let dir = opendir("/proc/\(pid)/fd") else { return 0 }
    defer { closedir(dir) }
    var n = 0
    var buf = [CChar](repeating: 0, count: 256)
    while let e = readdir(dir) {
        let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let len = readlink("/proc/\(pid)/fd/" + name, &buf, buf.count - 1)
        if len > 0 && String(decoding: buf[0..<len].map { UInt8(bitPattern: $0) }, as: UTF8.self).contains("perf_event") { n += 1 }
    }
    return n
}

func writeFile(_ path: String, _ text: String) throws(BenchError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
    guard fd >= 0 else { throw BenchError("cannot write \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var bytes = Array(text.utf8)
    var off = 0
    while off < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
        if n < 0 { if errno == EINTR { continue }; throw BenchError("write \(path): \(String(cString: strerror(errno)))") }
        off += n
    }
}

/// The last line of a file, for error messages.
func tail(_ path: String) -> String {
    (readFile(path) ?? "").split(separator: "\n").last(where: { !$0.contains("RLIMIT_MEMLOCK") }).map(String.init) ?? "(no output)"
}
