import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Why the benchmark cannot go on: one line, exit status 1.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The running tracer's pid, for the signal handlers and the watchdog (0: none).
let tracerPid = Atomic<Int32>(0)

/// Kills the tracer (if any) and exits: from signal handlers too, so only async-signal-safe calls.
func emergencyExit(_ message: StaticString, status: Int32) -> Never {
    let pid = tracerPid.load(ordering: .relaxed)
    if pid > 0 { kill(pid, SIGKILL) }
    _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
    _exit(status)
}

func installSignalHandlers(watchdogSeconds: UInt32) {
    var action = sigaction()
    sigemptyset(&action.sa_mask)
    action.__sigaction_handler.sa_handler = { sig in
        if sig == SIGALRM {
            emergencyExit("nstrace-bench: watchdog: the benchmark ran too long; tracer killed\n", status: 3)
        }
        emergencyExit("nstrace-bench: interrupted; tracer killed\n", status: 130)
    }
    for sig in [SIGINT, SIGTERM, SIGHUP, SIGALRM] { sigaction(sig, &action, nil) }
    alarm(watchdogSeconds)
}

/// The environment, for posix_spawn (Swift 6 rejects the global `environ`).
final class SpawnEnvironment: @unchecked Sendable {
    let pointers: [UnsafeMutablePointer<CChar>?]

    init() {
        let raw = readFile("/proc/self/environ") ?? ""
        pointers = raw.split(separator: "\0").map { strdup(String($0)) } + [nil]
    }

    static let shared = SpawnEnvironment()
}

func cStrings(_ args: [String]) -> [UnsafeMutablePointer<CChar>?] { args.map { strdup($0) } + [nil] }

func freeCStrings(_ ptrs: [UnsafeMutablePointer<CChar>?]) { for p in ptrs { free(p) } }

/// What `nstrace` said when it stopped.
struct TracerSummary {
    let events: UInt64
    let lost: UInt64
    let line: String          // the whole summary line, for the details when lost > 0
    let cpuSeconds: Double    // CPU (user + sys) the tracer used from readiness to exit
    let exitStatus: Int32
}

/// `nstrace -o json --ring-size 64M > /dev/null` as a subprocess: stderr on a pipe, read for the
/// readiness line and the summary. Started from the main thread only (parent-death signal).
final class TracerProcess {
    let pid: pid_t
    private let errFD: Int32
    private var stderrText = ""
    private var eof = false
    private var reaped = false
    private var ticksAtReady: Int = 0

    static let readyTimeout = 60.0
    static let stopTimeout = 30.0

    /// Spawns the tracer and returns once it printed `nstrace: tracing`.
    init(binary: String, ringSize: String, extraArguments: [String] = []) throws(BenchError) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw BenchError("pipe: \(String(cString: strerror(errno)))") }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        errFD = fds[0]

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)

        var attr = posix_spawnattr_t()
        initChildSpawnAttributes(&attr)
        defer { posix_spawnattr_destroy(&attr) }

        // setpriv keeps the pid and execs nstrace with a parent-death signal: if the benchmark is
        // killed outright, the tracer does not outlive it.
        var args = [binary, "-o", "json", "--ring-size", ringSize] + extraArguments
        if access("/usr/bin/setpriv", X_OK) == 0 { args = ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--"] + args }
        let argv = cStrings(args)
        defer { freeCStrings(argv) }
        var child: pid_t = 0
        let rc = posix_spawn(&child, args[0], &actions, &attr, argv, SpawnEnvironment.shared.pointers)
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            throw BenchError("cannot start \(args[0]): \(String(cString: strerror(rc)))")
        }
        pid = child
        tracerPid.store(child, ordering: .relaxed)

        let deadline = monotonicNs() + Int64(Self.readyTimeout * 1e9)
        while !stderrText.split(separator: "\n").contains(where: { $0.hasPrefix("nstrace: tracing") }) {
            let left = deadline - monotonicNs()
            if left <= 0 {
                kill()
                throw BenchError("nstrace printed no 'nstrace: tracing' line within \(Int(Self.readyTimeout)) s\(quotedStderr())")
            }
            readStderr(timeoutMs: Int32(min(left / 1_000_000, 200)))
            if eof {
                let status = reap(timeout: 5)
                throw BenchError("nstrace exited before tracing (\(describe(status)))\(quotedStderr())")
            }
        }
        ticksAtReady = cpuTicks() ?? 0
    }

    deinit {
        if !reaped { kill() }
        close(errFD)
    }

    /// SIGINT, then the summary; SIGKILL if it does not exit in time.
    func stop() throws(BenchError) -> TracerSummary {
        _ = Glibc.kill(pid, SIGINT)
        let deadline = monotonicNs() + Int64(Self.stopTimeout * 1e9)
        while !eof && monotonicNs() < deadline { readStderr(timeoutMs: 200) }
        var usage = rusage()
        let status = reap(timeout: max(0.5, Double(deadline - monotonicNs()) / 1e9), usage: &usage)
        guard let status else {
            throw BenchError("nstrace did not exit within \(Int(Self.stopTimeout)) s of SIGINT: killed\(quotedStderr())")
        }
        guard let line = stderrText.split(separator: "\n").last(where: { $0.hasPrefix("nstrace: ") && $0.contains(" events") && $0.contains(" lost") }),
              let summary = Self.parse(String(line)) else {
            throw BenchError("nstrace printed no summary (\(describe(status)))\(quotedStderr())")
        }
        let clk = Double(sysconf(Int32(_SC_CLK_TCK)))
        var cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        cpu -= Double(ticksAtReady) / clk
        return TracerSummary(events: summary.events, lost: summary.lost, line: String(line.dropFirst("nstrace: ".count)),
                             cpuSeconds: max(0, cpu), exitStatus: status)
    }

    /// CPU seconds the tracer used since its readiness line (clock-tick resolution).
    func cpuSecondsSinceReady() -> Double {
        guard let now = cpuTicks() else { return 0 }
        return Double(now - ticksAtReady) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// "N events[, S shown], M lost[ (...)]"
    static func parse(_ line: String) -> (events: UInt64, lost: UInt64)? {
        let body = line.dropFirst("nstrace: ".count)
        let parts = body.split(separator: ",").map { $0.drop(while: { $0 == " " }) }
        guard let first = parts.first, first.hasSuffix(" events"),
              let events = UInt64(first.dropLast(" events".count)),
              let lostPart = parts.first(where: { $0.contains(" lost") }),
              let lost = UInt64(lostPart.prefix(while: { $0.isNumber })) else { return nil }
        return (events, lost)
    }

    // MARK: internals

    private func readStderr(timeoutMs: Int32) {
        var p = pollfd(fd: errFD, events: Int16(POLLIN), revents: 0)
        let r = poll(&p, 1, max(0, timeoutMs))
        guard r > 0 else { return }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBytes { read(errFD, $0.baseAddress, $0.count) }
        if n > 0 {
            stderrText += String(decoding: buf[0..<n], as: UTF8.self)
        } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
            eof = true
        }
    }

    /// Waits for the child up to `timeout` seconds; nil if it is still running.
    @discardableResult
    private func reap(timeout: Double) -> Int32? {
        var usage = rusage()
        return reap(timeout: timeout, usage: &usage)
    }

    private func reap(timeout: Double, usage: inout rusage) -> Int32? {
        if reaped { return nil }
        let deadline = monotonicNs() + Int64(timeout * 1e9)
        while true {
            var status: Int32 = 0
            let r = wait4(pid, &status, WNOHANG, &usage)
            if r == pid {
                reaped = true
                tracerPid.store(0, ordering: .relaxed)
                return status
            }
            if r < 0 && errno != EINTR { reaped = true; tracerPid.store(0, ordering: .relaxed); return -1 }
            if monotonicNs() >= deadline { return nil }
            sleepSeconds(0.01)
        }
    }

    private func kill() {
        guard !reaped else { return }
        _ = Glibc.kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped = true
        tracerPid.store(0, ordering: .relaxed)
    }

    /// utime + stime from /proc/PID/stat, in clock ticks.
    private func cpuTicks() -> Int? {
        guard let stat = readFile("/proc/\(pid)/stat"), let paren = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: paren)...].split(separator: " ")
        // after "pid (comm)": state is field 3, utime 14, stime 15 → indexes 11 and 12 here
        guard fields.count > 12, let u = Int(fields[11]), let s = Int(fields[12]) else { return nil }
        return u + s
    }

    private func describe(_ status: Int32?) -> String {
        guard let status else { return "still running" }
        if status < 0 { return "not waitable" }
        if status & 0x7f == 0 { return "exit status \((status >> 8) & 0xff)" }
        return "killed by signal \(status & 0x7f)"
    }

    private func quotedStderr() -> String {
        let lines = stderrText.split(separator: "\n").suffix(3)
        return lines.isEmpty ? "" : ": " + lines.joined(separator: " | ")
    }
}
