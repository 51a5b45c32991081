#if canImport(Glibc)
import Glibc
#endif

// The load: traced syscalls in tight or paced loops, and a fork+exec loop.

/// unshare(2) and setns(2): glibc has them, but only under _GNU_SOURCE, which the Glibc module
/// does not import. Both are plain (non-variadic) functions: look them up and call them directly.
private typealias UnshareFn = @convention(c) (Int32) -> Int32
private typealias SetnsFn = @convention(c) (Int32, Int32) -> Int32

private func libcFunction<F>(_ name: String, as type: F.Type) -> F {
    let libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD)
    guard let sym = dlsym(libc, name) else { fatalError("libc has no \(name)") }
    return unsafeBitCast(sym, to: type)
}

private let unshareFn = libcFunction("unshare", as: UnshareFn.self)
private let setnsFn = libcFunction("setns", as: SetnsFn.self)
let cloneNewNet: Int32 = 0x4000_0000 // CLONE_NEWNET

/// The syscalls the benchmark makes: two traced ones, which leave the caller's namespaces as
/// they were, and an untraced one (what attaching syscall tracepoints costs every other syscall).
enum TracedCall: String, Sendable {
    case unshare = "unshare(0)"
    case setns = "setns(net)"
    case getppid = "getppid()"
    /// umount2 of a directory that is no mount point (EINVAL, nothing changes): by absolute
    /// path (nothing to resolve), and through /proc/self/fd/N of a directory 8 levels deep
    /// (the BPF side walks its dentries at entry: the cost of path resolution).
    case umountPath = "umount2(/abs) EINVAL"
    case umountFD = "umount2(/proc/self/fd/N) EINVAL"

    /// One call; 0 or -1 (errno set). The umount2 rows count their expected EINVAL as 0.
    @inline(__always)
    func invoke(netFD: Int32) -> Int32 {
        switch self {
        case .unshare: return unshareFn(0)
        case .setns: return setnsFn(netFD, cloneNewNet)
        case .getppid: return Glibc.getppid() > 0 ? 0 : -1
        case .umountPath: return umount2(BenchPaths.shared.deep, 0) == -1 && errno == EINVAL ? 0 : -1
        case .umountFD: return umount2(BenchPaths.shared.procFD, 0) == -1 && errno == EINVAL ? 0 : -1
        }
    }
}

/// A directory 8 levels deep (under /tmp) and an O_PATH fd of it, for the umount2 rows.
final class BenchPaths: @unchecked Sendable {
    static let shared = BenchPaths()
    let deep: String
    let procFD: String

    private init() {
        var dir = "/tmp/nstrace-bench-\(getpid())"
        mkdir(dir, 0o700)
        let root = dir
        for name in ["var", "lib", "docker", "overlay2", String(repeating: "a", count: 64), "merged", "dev", "mqueue"] {
            dir += "/" + name
            mkdir(dir, 0o700)
        }
        deep = dir
        let fd = open(dir, 0o10000000 /* O_PATH */ | O_DIRECTORY | O_CLOEXEC)
        procFD = "/proc/self/fd/\(fd)"
        self.root = root
    }

    private let root: String

    /// Removes the directories (part 3 calls it when done).
    func remove() { rmTree(root) }
}

/// rm -r of the benchmark's own directory tree (only directories).
@discardableResult
private func rmTree(_ root: String) -> Bool {
    var dirs = [root]
    var all: [String] = []
    while let d = dirs.popLast() {
        all.append(d)
        guard let h = opendir(d) else { continue }
        while let e = readdir(h) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { dirs.append(d + "/" + name) }
        }
        closedir(h)
    }
    for d in all.reversed() { rmdir(d) }
    return true
}

/// An fd of the benchmark's own network namespace, for setns.
func openOwnNetNamespace() throws(BenchError) -> Int32 {
    let fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw BenchError("open /proc/self/ns/net: \(String(cString: strerror(errno)))") }
    return fd
}

/// Checks once that the call works here, so that a flood does not measure failing calls.
func checkCall(_ call: TracedCall, netFD: Int32) throws(BenchError) {
    if call.invoke(netFD: netFD) != 0 {
        throw BenchError("\(call.rawValue) fails: \(String(cString: strerror(errno)))")
    }
}

// MARK: threads

private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Runs `body(i)` on `count` new threads and waits for them all.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    var threads: [pthread_t] = []
    for i in 0..<count {
        let box = Unmanaged.passRetained(ThreadBody { body(i) }).toOpaque()
        var t = pthread_t()
        let rc = pthread_create(&t, nil, { p in
            Unmanaged<ThreadBody>.fromOpaque(p!).takeRetainedValue().run()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed")
        threads.append(t)
    }
    for t in threads { pthread_join(t, nil) }
}

/// Per-thread results: raw memory, each slot written by one thread only, read after the join.
private final class Slots: @unchecked Sendable {
    let calls: UnsafeMutableBufferPointer<Int>
    let failures: UnsafeMutableBufferPointer<Int>
    let endNs: UnsafeMutableBufferPointer<Int64>
    init(_ n: Int) {
        calls = .allocate(capacity: n); calls.initialize(repeating: 0)
        failures = .allocate(capacity: n); failures.initialize(repeating: 0)
        endNs = .allocate(capacity: n); endNs.initialize(repeating: 0)
    }
    deinit { calls.deallocate(); failures.deallocate(); endNs.deallocate() }
}

@inline(__always)
private func sleepUntil(_ ns: Int64) {
    var ts = timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
    while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
}

struct FloodResult {
    let calls: Int
    let failures: Int
    let seconds: Double
    var rate: Double { Double(calls) / seconds }
}

/// `threads` threads make `call` for `duration` seconds, together at `rate` calls/s (nil: as fast
/// as they can). Each paces itself: it may make the calls its share of the rate allows by now,
/// in chunks, and sleeps (absolute monotonic deadline) until the next chunk is due.
func flood(_ call: TracedCall, threads: Int, rate: Double?, duration: Double, netFD: Int32) -> FloodResult {
    let slots = Slots(threads)
    let startNs = monotonicNs() + 5_000_000 // everyone starts together
    let endNs = startNs + Int64(duration * 1e9)
    let nsPerCall: Double? = rate.map { Double(threads) * 1e9 / $0 } // per thread
    let chunk = 32

    onThreads(threads) { i in
        sleepUntil(startNs)
        var done = 0
        var failed = 0
        while true {
            let now = monotonicNs()
            if now >= endNs { break }
            var n = chunk
            if let nsPerCall {
                let allowed = Int(Double(now - startNs) / nsPerCall) + 1
                if done >= allowed {
                    sleepUntil(min(endNs, startNs + Int64(Double(done + chunk) * nsPerCall)))
                    continue
                }
                n = min(chunk, allowed - done)
            }
            for _ in 0..<n where call.invoke(netFD: netFD) != 0 { failed += 1 }
            done += n
        }
        slots.calls[i] = done
        slots.failures[i] = failed
        slots.endNs[i] = monotonicNs()
    }
    let end = slots.endNs.max() ?? endNs
    return FloodResult(calls: slots.calls.reduce(0, +), failures: slots.failures.reduce(0, +),
                       seconds: Double(end - startNs) / 1e9)
}

/// ns per call of `n` back-to-back calls on this thread: CPU time of the thread (what the
/// call costs, robust to other processes taking the CPU) and wall time.
func timeCalls(_ call: TracedCall, count n: Int, netFD: Int32) throws(BenchError) -> (cpu: Double, wall: Double) {
    let start = monotonicNs(), cpuStart = threadCPUNs()
    var failed = 0
    for _ in 0..<n where call.invoke(netFD: netFD) != 0 { failed += 1 }
    let cpu = threadCPUNs() - cpuStart, wall = monotonicNs() - start
    if failed > 0 { throw BenchError("\(call.rawValue) failed \(failed) of \(n) times") }
    return (Double(cpu) / Double(n), Double(wall) / Double(n))
}

/// Wall seconds of `n` × (posix_spawn `path` with `arguments`, wait for it).
func spawnLoop(_ path: String, arguments: [String] = [], count n: Int) throws(BenchError) -> Double {
    let argv = cStrings([path] + arguments)
    defer { freeCStrings(argv) }
    let env = SpawnEnvironment.shared.pointers
    let start = monotonicNs()
    for _ in 0..<n {
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, nil, nil, argv, env)
        guard rc == 0 else { throw BenchError("posix_spawn \(path): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw BenchError("\(path) exited with status \(status)") }
    }
    return seconds(since: start)
}
