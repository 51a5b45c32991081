#if canImport(Glibc)
import Glibc
#endif

// Part 8's processes: a tracer or a workload, its stdout and stderr in files, and what /proc
// says about its CPU time and memory while it runs.

/// A child process with stdout and stderr in files (stdin /dev/null) and a parent-death signal.
final class PeerProcess {
    let pid: pid_t
    let name: String
    private(set) var exitStatus: Int32?
    private(set) var usage = rusage()

    init(_ args: [String], stdout: String, stderr: String) throws(BenchError) {
        name = args[0]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o600)
        var attr = posix_spawnattr_t()
        initChildSpawnAttributes(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // setpriv keeps the pid: if the benchmark dies, the tracer does not outlive it
        let full = access("/usr/bin/setpriv", X_OK) == 0 ? ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--"] + args : args
        let argv = cStrings(full)
        defer { freeCStrings(argv) }
        var child: pid_t = 0
        let rc = posix_spawnp(&child, full[0], &actions, &attr, argv, SpawnEnvironment.shared.pointers)
        guard rc == 0 else { throw BenchError("cannot start \(args[0]): \(String(cString: strerror(rc)))") }
        pid = child
    }

    deinit { if exitStatus == nil { kill(); } }

    /// Whether it has exited (reaps it, keeping its status and rusage).
    func poll() -> Bool {
        if exitStatus != nil { return true }
        var status: Int32 = 0
        let r = wait4(pid, &status, WNOHANG, &usage)
        if r == pid || (r < 0 && errno == ECHILD) { exitStatus = r == pid ? status : -1; return true }
        return false
    }

    /// Waits up to `timeout` seconds, calling `sample` every `every` seconds meanwhile.
    @discardableResult
    func wait(timeout: Double, every: Double = 0.02, sample: () -> Void = {}) -> Bool {
        let deadline = monotonicNs() + Int64(timeout * 1e9)
        while !poll() {
            if monotonicNs() >= deadline { return false }
            sample()
            sleepSeconds(every)
        }
        return true
    }

    /// SIGINT, then SIGKILL after `grace` seconds.
    func stop(grace: Double) {
        guard exitStatus == nil else { return }
        _ = Glibc.kill(pid, SIGINT)
        if !wait(timeout: grace, every: 0.05) { kill() }
    }

    func kill() {
        guard exitStatus == nil else { return }
        _ = Glibc.kill(pid, SIGKILL)
        _ = wait(timeout: 10, every: 0.01)
    }

    var exitedCleanly: Bool { exitStatus.map { $0 & 0x7f == 0 && ($0 >> 8) & 0xff == 0 } ?? false }

    /// CPU seconds of the reaped process (and of the children it waited for).
    var rusageCPUSeconds: Double {
        Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}

/// posix_spawn attributes of the benchmark's children: the signals the benchmark handles back
/// to their defaults, nothing blocked. The caller destroys them.
func initChildSpawnAttributes(_ attr: inout posix_spawnattr_t) {
    posix_spawnattr_init(&attr)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for sig in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGALRM] { sigaddset(&defaults, sig) }
    posix_spawnattr_setsigdefault(&attr, &defaults)
    var mask = sigset_t()
    sigemptyset(&mask)
    posix_spawnattr_setsigmask(&attr, &mask)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
}

/// What /proc tells about a running process.
enum ProcStat {
    /// utime + stime in seconds (clock-tick resolution).
    static func cpuSeconds(_ pid: pid_t) -> Double? {
        guard let stat = readFile("/proc/\(pid)/stat"), let paren = stat.lastIndex(of: ")") else { return nil }
        let f = stat[stat.index(after: paren)...].split(separator: " ")
        guard f.count > 12, let u = Double(f[11]), let s = Double(f[12]) else { return nil }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// VmHWM, the peak resident set, in kB.
    static func peakRSSKB(_ pid: pid_t) -> Int? { statusField("VmHWM:", pid) }

    /// Resets VmHWM to the current RSS (clear_refs 5), so that the next peak is one workload's.
    static func resetPeak(_ pid: pid_t) {
        let fd = open("/proc/\(pid)/clear_refs", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = write(fd, "5", 1)
        close(fd)
    }

    /// Resident kB of the BPF maps and perf buffers mapped into the process (ring buffers):
    /// pages the kernel allocated for the ring, counted in RSS once the reader touched them.
    static func ringRSSKB(_ pid: pid_t) -> Int {
        guard let smaps = readFile("/proc/\(pid)/smaps") else { return 0 }
        var total = 0, inRing = false
        for line in smaps.split(separator: "\n") {
            if let first = line.first, first.isHexDigit, line.contains("-") && !line.hasSuffix(":") && !line.contains(":  ") {
                inRing = line.hasSuffix("anon_inode:bpf-map") || line.hasSuffix("anon_inode:[perf_event]")
                    || line.hasSuffix("anon_inode:bpf_ringbuf")
            } else if inRing, line.hasPrefix("Rss:") {
                total += Int(line.dropFirst(4).filter { $0.isNumber }) ?? 0
            }
        }
        return total
    }

    private static func statusField(_ key: String, _ pid: pid_t) -> Int? {
        guard let status = readFile("/proc/\(pid)/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key) }) else { return nil }
        return Int(line.dropFirst(key.count).filter { $0.isNumber })
    }
}
