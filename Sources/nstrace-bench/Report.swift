import Foundation
import NstraceCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// Output helpers for nstrace-bench: tables, number formatting, statistics, the machine.

/// One readable table: a title, aligned columns (numbers right-aligned), notes below.
struct Table {
    let title: String
    let columns: [String]
    var rows: [[String]] = []
    var notes: [String] = []

    init(_ title: String, columns: [String]) {
        self.title = title
        self.columns = columns
    }

    mutating func add(_ row: [String]) { rows.append(row) }
    mutating func note(_ line: String) { notes.append(line) }

    func render() -> String {
        var widths = columns.map { $0.count }
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        // right-align numbers: digits and , . + - % x, optionally ending in "/s"
        func isNumeric(_ s: String) -> Bool {
            let body = s.hasSuffix("/s") ? String(s.dropLast(2)) : s
            guard body.contains(where: { $0.isNumber }) else { return false }
            return body.allSatisfy { $0.isNumber || ",.+-% ".contains($0) }
        }
        func line(_ cells: [String], header: Bool) -> String {
            var out = "  "
            for (i, w) in widths.enumerated() {
                let cell = i < cells.count ? cells[i] : ""
                let pad = String(repeating: " ", count: max(0, w - cell.count))
                out += (!header && isNumeric(cell)) ? pad + cell : cell + pad
                if i < widths.count - 1 { out += "  " }
            }
            while out.hasSuffix(" ") { out.removeLast() }
            return out
        }
        var text = "\n" + title + "\n"
        text += line(columns, header: true) + "\n"
        text += "  " + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for row in rows { text += line(row, header: false) + "\n" }
        for n in notes { text += "  " + n + "\n" }
        return text
    }

    func print() {
        Swift.print(render(), terminator: "")
        fflush(nil)
    }
}

/// Progress and errors go to stderr (Swift 6 forbids the global `stderr`).
func say(_ text: String) {
    var out = OutputBuffer(capacity: 256)
    out.append(Array((text + "\n").utf8))
    try? out.flush(fd: 2)   // nowhere left to report a failed write to stderr
}

// MARK: numbers

func grouped<T: BinaryInteger>(_ value: T) -> String {
    let negative = value < 0
    var digits = String(negative ? -Int64(value) : Int64(value))
    var out = ""
    while digits.count > 3 {
        out = "," + digits.suffix(3) + out
        digits.removeLast(3)
    }
    return (negative ? "-" : "") + digits + out
}

func grouped(_ value: Double) -> String { value.isFinite ? grouped(Int64(value.rounded())) : "inf" }

func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

func signedPercent(_ value: Double) -> String { (value >= 0 ? "+" : "") + String(format: "%.1f %%", value) }

/// 1.23M, 456k: for compact ranges.
func short(_ value: Double) -> String {
    if value >= 1e6 { return fixed(value / 1e6, 2) + "M" }
    if value >= 1e3 { return fixed(value / 1e3, 0) + "k" }
    return fixed(value, 0)
}

func median(_ xs: [Double]) -> Double {
    precondition(!xs.isEmpty)
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func monotonicNs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

func seconds(since startNs: Int64) -> Double { Double(monotonicNs() - startNs) / 1e9 }

func sleepSeconds(_ s: Double) {
    var req = timespec(tv_sec: Int(s), tv_nsec: Int((s - Double(Int(s))) * 1e9))
    var rem = timespec()
    while nanosleep(&req, &rem) != 0 && errno == EINTR { req = rem }
}

// MARK: the machine

func readFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var data: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue }; return nil }
        if n == 0 { break }
        data += chunk[0..<n]
    }
    return String(decoding: data, as: UTF8.self)
}

struct Machine {
    let cpus: Int
    let kernel: String
    let cpuModel: String

    static func current() -> Machine {
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let machine = withUnsafeBytes(of: &u.machine) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        var model = "unknown CPU"
        if let info = readFile("/proc/cpuinfo"),
           let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let colon = line.firstIndex(of: ":") {
            model = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Machine(cpus: sysconf(Int32(_SC_NPROCESSORS_ONLN)), kernel: "Linux \(release) \(machine)", cpuModel: model)
    }
}

func loadAverage() -> String {
    guard let s = readFile("/proc/loadavg") else { return "?" }
    return s.split(separator: " ").prefix(3).joined(separator: " ")
}

// MARK: CPU accounting (the machine is shared: say how much of it others used)

func threadCPUNs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// A snapshot of the whole machine's CPU time (/proc/stat) and of this process's own
/// (itself and its reaped children), in seconds.
struct CPUSnapshot {
    let wallNs: Int64
    let busy: Double     // user + nice + system + irq + softirq, all CPUs
    let steal: Double    // taken by the hypervisor
    let own: Double      // getrusage: self + reaped children

    static func now() -> CPUSnapshot {
        let clk = Double(sysconf(Int32(_SC_CLK_TCK)))
        var busy = 0.0, steal = 0.0
        if let stat = readFile("/proc/stat"), let line = stat.split(separator: "\n").first, line.hasPrefix("cpu ") {
            let f = line.split(separator: " ").dropFirst().compactMap { Double($0) }
            if f.count >= 8 {
                busy = (f[0] + f[1] + f[2] + f[5] + f[6]) / clk
                steal = f[7] / clk
            }
        }
        func secs(_ who: Int32) -> Double {
            var u = rusage()
            getrusage(__rusage_who_t(who), &u)
            return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
        }
        return CPUSnapshot(wallNs: monotonicNs(), busy: busy, steal: steal,
                           own: secs(RUSAGE_SELF.rawValue) + secs(RUSAGE_CHILDREN.rawValue))
    }
}

/// CPUs' worth of time that other processes (not the benchmark, its children or `alsoOurs`
/// seconds, e.g. a running tracer's) used between two snapshots, and the steal.
struct OtherLoad {
    let cpus: Double
    let stealPercent: Double

    init(from a: CPUSnapshot, to b: CPUSnapshot, alsoOurs: Double = 0) {
        let wall = max(1e-9, Double(b.wallNs - a.wallNs) / 1e9)
        cpus = max(0, ((b.busy - a.busy) - (b.own - a.own) - alsoOurs) / wall)
        let ncpu = Double(max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        stealPercent = max(0, 100 * (b.steal - a.steal) / (wall * ncpu))
    }

    var short: String { fixed(cpus, 2) }

    var sentence: String {
        "other processes used \(fixed(cpus, 2)) of \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) CPUs"
            + (stealPercent >= 0.5 ? ", hypervisor steal \(fixed(stealPercent, 1)) %" : "")
    }
}

// MARK: other tracers

/// Processes named `nstrace` other than ours: their BPF programs sit on the same tracepoints, so
/// "without nstrace" is not untraced, and a flood also floods them.
func otherTracers(excluding ours: pid_t = tracerPid.load(ordering: .relaxed)) -> Int {
    guard let dir = opendir("/proc") else { return 0 }
    defer { closedir(dir) }
    var count = 0
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        guard let pid = Int32(name), pid != ours, pid != getpid() else { continue }
        if readFile("/proc/\(pid)/comm") == "nstrace\n" { count += 1 }
    }
    return count
}

/// Remembers the most other tracers seen during a part.
struct TracerWatch {
    private(set) var most = 0
    mutating func check() { most = max(most, otherTracers()) }
    var warning: String? {
        most == 0 ? nil : "WARNING: \(most) other nstrace process(es) were running: their programs trace the same calls "
            + "(so \"without\" is not untraced, and they also pay for every event); these numbers are pessimistic."
    }
}

/// What is left of the time the whole run may spend waiting for other tracers to go.
let tracerWaitBudgetNs = Atomic<Int64>(30_000_000_000)

/// Waits up to `seconds` (within the run's budget) for other tracers to go; returns how many are left.
func waitForOtherTracers(upTo seconds: Double) -> Int {
    var n = otherTracers()
    let budget = min(Int64(seconds * 1e9), tracerWaitBudgetNs.load(ordering: .relaxed))
    guard n > 0, budget > 0 else { return n }
    say("nstrace-bench: \(n) other nstrace process(es) running (they would trace the load too): waiting up to \(fixed(Double(budget) / 1e9, 0)) s")
    let start = monotonicNs()
    while n > 0 && monotonicNs() - start < budget {
        sleepSeconds(0.5)
        n = otherTracers()
    }
    tracerWaitBudgetNs.subtract(monotonicNs() - start, ordering: .relaxed)
    return n
}
