#if canImport(Glibc)
import Glibc
#endif

// Part 8's workloads. Each runs as its own process (`nstrace-bench --workload NAME --result FILE`)
// so that strace can wrap it; it names itself (comm) so that system-wide tracers' output can be
// cut to its own processes, times only its loop, and writes the seconds to FILE.

enum PeerWorkload: String, CaseIterable, Sendable {
    case namespaces = "ns"
    case exec
    case getppid
    case mount
    case runc
    case podman

    static let forks = 2000, setnsCalls = 2000, spawns = 2000, getppids = 500_000, mounts = 2000
    static let runcRuns = 20, podmanRuns = 10
    /// Units per sample. The units (500,000 getppid; 2,000 mount+umount pairs) run
    /// 0.07-0.08 s on an idle machine: one scheduling hiccup moves such a ratio by more than the
    /// goals' margins. A sample runs the unit this many times (about 0.4-0.7 s).
    static let getppidRepeats = 10, mountRepeats = 5
    static let netnsName = "nstrace-bench"
    static let mountPoint = "/tmp/nstrace-bench-mnt"

    /// The name the workload's processes carry (inherited across fork, not exec).
    var comm: String { "nstb-" + rawValue }

    var title: String {
        switch self {
        case .namespaces: return "\(grouped(Self.forks)) x fork+unshare(NEWUTS), \(grouped(Self.setnsCalls)) x setns(net)"
        case .exec: return "\(grouped(Self.spawns)) x fork+exec /bin/true"
        case .getppid: return "\(Self.getppidRepeats) x (\(grouped(Self.getppids)) x getppid)"
        case .mount: return "\(Self.mountRepeats) x (\(grouped(Self.mounts)) x mount tmpfs + umount) (private mount ns)"
        case .runc: return "\(Self.runcRuns) x runc run (busybox true)"
        case .podman: return "\(Self.podmanRuns) x podman run --rm (busybox true)"
        }
    }

    /// The calls the workload's own processes make, per syscall (nstrace's names); nil where
    /// a runtime makes them and the workload cannot know how many.
    var groundTruth: [String: Int]? {
        switch self {
        case .namespaces: return ["unshare": Self.forks, "setns": Self.setnsCalls]
        case .exec, .getppid: return [:]
        case .mount: return ["unshare": 1, "mount": Self.mountRepeats * Self.mounts + 1, "umount": Self.mountRepeats * Self.mounts]
        case .runc, .podman: return nil
        }
    }

    /// Starts containers: holds the shared lock of the real runtimes while it runs.
    var usesRuntimes: Bool { self == .runc || self == .podman }
}

/// The shared lock of the real container runtimes (other sessions' tests use them too).
/// NSTRACE_BENCH_HOLDS_E2E_LOCK=1: the caller holds it for the whole run
/// (`flock /tmp/nstrace-e2e.lock env NSTRACE_BENCH_HOLDS_E2E_LOCK=1 nstrace-bench ...`).
func lockRuntimes() throws(BenchError) -> Int32 {
    if getenv("NSTRACE_BENCH_HOLDS_E2E_LOCK") != nil { return open("/dev/null", O_RDONLY | O_CLOEXEC) }
    let fd = open("/tmp/nstrace-e2e.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
    guard fd >= 0 else { throw BenchError("open /tmp/nstrace-e2e.lock: \(String(cString: strerror(errno)))") }
    while flock(fd, LOCK_EX) != 0 {
        if errno != EINTR { throw BenchError("flock /tmp/nstrace-e2e.lock: \(String(cString: strerror(errno)))") }
    }
    return fd
}

/// `nstrace-bench --workload NAME --result FILE [--bundle DIR]`: never returns.
func runWorkloadCommand(_ args: [String]) -> Never {
    var name: String?, result: String?, bundle = "/tmp/nstrace-bench-bundle"
    var rest = args[...]
    while let a = rest.popFirst() {
        switch a {
        case "--workload": name = rest.popFirst()
        case "--result": result = rest.popFirst()
        case "--bundle": bundle = rest.popFirst() ?? bundle
        default: say("nstrace-bench --workload: unknown argument '\(a)'"); exit(2)
        }
    }
    guard let name, let workload = PeerWorkload(rawValue: name), let result else {
        say("usage: nstrace-bench --workload ns|exec|getppid|mount|runc|podman --result FILE [--bundle DIR]")
        exit(2)
    }
    do {
        let fd = open("/proc/self/comm", O_WRONLY | O_CLOEXEC)
        if fd >= 0 { _ = workload.comm.withCString { write(fd, $0, strlen($0)) }; close(fd) }
        let secs = try workload.run(bundle: bundle)
        // the loop's wall seconds, then the CPU seconds of the workload and its reaped children
        // (under strace, strace's own CPU is its rusage less this)
        var me = rusage(), kids = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &me)
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &kids)
        func cpu(_ u: rusage) -> Double {
            Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
        }
        let text = fixed(secs, 6) + " " + fixed(cpu(me) + cpu(kids), 6) + "\n"
        let out = open(result, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard out >= 0 else { throw BenchError("cannot write \(result): \(String(cString: strerror(errno)))") }
        _ = text.withCString { write(out, $0, strlen($0)) }
        close(out)
        exit(0)
    } catch {
        say("nstrace-bench --workload \(name): \(error)")
        exit(1)
    }
}

private typealias UnshareCall = @convention(c) (Int32) -> Int32
private typealias SetnsCall = @convention(c) (Int32, Int32) -> Int32

private func libcSymbol<F>(_ name: String, as type: F.Type) -> F {
    guard let sym = dlsym(dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD), name) else { fatalError("libc has no \(name)") }
    return unsafeBitCast(sym, to: type)
}

extension PeerWorkload {
    /// The timed loop; its wall seconds.
    func run(bundle: String) throws(BenchError) -> Double {
        let unshare = libcSymbol("unshare", as: UnshareCall.self)
        let setns = libcSymbol("setns", as: SetnsCall.self)
        switch self {
        case .namespaces:
            let netFD = open("/run/netns/" + Self.netnsName, O_RDONLY | O_CLOEXEC)
            guard netFD >= 0 else { throw BenchError("open /run/netns/\(Self.netnsName): \(String(cString: strerror(errno)))") }
            let start = monotonicNs()
            for _ in 0..<Self.forks {
                let pid = fork()
                if pid == 0 { _exit(unshare(0x0400_0000) == 0 ? 0 : 1) } // CLONE_NEWUTS
                guard pid > 0 else { throw BenchError("fork: \(String(cString: strerror(errno)))") }
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                guard status == 0 else { throw BenchError("unshare(CLONE_NEWUTS) failed in the child") }
            }
            for _ in 0..<Self.setnsCalls where setns(netFD, cloneNewNet) != 0 {
                throw BenchError("setns: \(String(cString: strerror(errno)))")
            }
            return seconds(since: start)
        case .exec:
            return try spawnLoop("/bin/true", count: Self.spawns)
        case .getppid:
            let start = monotonicNs()
            var sum = 0
            for _ in 0..<Self.getppidRepeats * Self.getppids { sum &+= Int(Glibc.getppid()) }
            if sum == 0 { throw BenchError("getppid returned 0") }
            return seconds(since: start)
        case .mount:
            guard unshare(0x0002_0000) == 0 else { throw BenchError("unshare(CLONE_NEWNS): \(String(cString: strerror(errno)))") }
            guard Glibc.mount(nil, "/", nil, UInt(MS_REC | MS_PRIVATE), nil) == 0 else {
                throw BenchError("make / private: \(String(cString: strerror(errno)))")
            }
            let start = monotonicNs()
            for _ in 0..<Self.mountRepeats * Self.mounts {
                guard Glibc.mount("nstb", Self.mountPoint, "tmpfs", 0, nil) == 0 else {
                    throw BenchError("mount tmpfs on \(Self.mountPoint): \(String(cString: strerror(errno)))")
                }
                guard umount2(Self.mountPoint, 0) == 0 else { throw BenchError("umount: \(String(cString: strerror(errno)))") }
            }
            return seconds(since: start)
        case .runc:
            let lock = try lockRuntimes()
            defer { close(lock) }
            let start = monotonicNs()
            for i in 0..<Self.runcRuns {
                try spawnWait(runcPath(), ["run", "--bundle", bundle, "nstb-\(getpid())-\(i)"])
            }
            return seconds(since: start)
        case .podman:
            let lock = try lockRuntimes()
            defer { close(lock) }
            let podman = access("/usr/bin/podman", X_OK) == 0 ? "/usr/bin/podman" : "/usr/local/bin/podman"
            let hard = String(getHardNofile())
            let start = monotonicNs()
            for _ in 0..<Self.podmanRuns {
                try spawnWait(podman, quiet: true, ["run", "--rm", "--pull=never", "--ulimit", "nofile=\(hard):\(hard)",
                                       "--ulimit", "nproc=32768:32768", podmanImage, "true"])
            }
            return seconds(since: start)
        }
    }
}

let podmanImage = "localhost/nstrace-bench/busybox:latest" // made by the benchmark, removed after

/// Without CAP_SYS_RESOURCE podman may not raise nofile beyond the hard limit.
private func getHardNofile() -> UInt {
    var r = rlimit()
    getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &r)
    return UInt(r.rlim_max)
}
