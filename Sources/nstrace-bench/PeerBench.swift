import BenchPeers
#if canImport(Glibc)
import Glibc
#endif

// Part 8: nstrace against what users would run instead (bpftrace, strace, perf trace), on the
// same workloads, in interleaved rounds (the order rotated each round): each tracer's time over
// the untraced run of its round.

struct PeerOptions {
    var rounds = 5
    var workloads = PeerWorkload.allCases
    var tracers = PeerTracer.allCases
    var markdown: String?   // write BENCHMARKS.md (and its SVG beside it) here
}

/// One workload run under one tracer in one round.
struct PeerSample {
    let round: Int
    let tracer: PeerTracer
    let workload: PeerWorkload
    let seconds: Double
    var tracerCPU: Double?     // CPU seconds the tracer used during the run
    var peakKB: Int?           // the tracer's VmHWM during the run
    var ringKB: Int?           // of which resident ring-buffer / perf-buffer pages
    var counts: PeerCounts?    // what it reported of the workload's own processes
}

/// Everything part 8 measured, with its conditions.
struct PeerResults {
    var samples: [PeerSample] = []
    var rounds = 0
    var others: [Double] = []  // CPUs other processes used, per round
    var versions: [(String, String)] = []

    func samples(_ t: PeerTracer, _ w: PeerWorkload) -> [PeerSample] {
        samples.filter { $0.tracer == t && $0.workload == w }
    }

    /// Per-round time over the untraced time of the same round.
    func ratios(_ t: PeerTracer, _ w: PeerWorkload) -> [Double] {
        samples(t, w).compactMap { s in
            samples.first(where: { $0.round == s.round && $0.tracer == .untraced && $0.workload == w }).map { s.seconds / $0.seconds }
        }
    }
}

func partPeers(nstrace: String, quick: Bool, options: PeerOptions) throws(BenchError) -> PeerResults {
    let rounds = quick ? min(2, options.rounds) : options.rounds
    let selfExe = selfPath()
    var dirTemplate = Array("/tmp/nstrace-bench-peers-XXXXXX".utf8CString)
    guard let dirPtr = mkdtemp(&dirTemplate) else { throw BenchError("mkdtemp: \(String(cString: strerror(errno)))") }
    let dir = String(cString: dirPtr)
    defer { _ = try? spawnWait("/bin/rm", ["-rf", dir]) }
    let usesRuntimes = options.workloads.contains(where: \.usesRuntimes)
    let bundle = usesRuntimes ? try makeRuncBundle() : "/tmp/nstrace-bench-bundle"
    try preparePeerWorkloads(options.workloads, bundle: bundle, dir: dir)
    defer { cleanUpPeerWorkloads(options.workloads) }

    var results = PeerResults()
    results.rounds = rounds
    results.versions = peerVersions(nstrace: nstrace)
    let tracers = [PeerTracer.untraced] + options.tracers.filter { $0 != .untraced }
    say("part 8: \(options.workloads.map(\.rawValue).joined(separator: ", ")) under \(tracers.count - 1) tracers and untraced, \(rounds) rounds")
    for round in 0..<rounds {
        let before = CPUSnapshot.now()
        var tracerCPU = 0.0
        // Each round starts one place further along the list: the machine drifts within a round
        // (namespaces and mounts freed lazily, caches), and a fixed order charged that drift to
        // whoever always ran last. The ratio still compares runs of the same round.
        let shift = round % tracers.count
        for tracer in tracers[shift...] + tracers[..<shift] {
            say("part 8: round \(round + 1)/\(rounds): \(tracer.rawValue)")
            var session: PeerTracerSession?
            if tracer.systemWide { session = try PeerTracerSession(tracer, nstrace: nstrace, dir: dir) }
            let cpuAtStart = session.flatMap { ProcStat.cpuSeconds($0.process.pid) } ?? 0
            var roundSamples: [PeerSample] = []
            for workload in options.workloads {
                var sample = try runPeerWorkload(workload, under: tracer, session: session, round: round,
                                                 selfExe: selfExe, bundle: bundle, dir: dir)
                if !tracer.systemWide && tracer != .untraced { tracerCPU += sample.tracerCPU ?? 0 }
                if tracer == .untraced { sample.counts = nil }
                roundSamples.append(sample)
            }
            if let session {
                tracerCPU += (ProcStat.cpuSeconds(session.process.pid) ?? cpuAtStart) - cpuAtStart
                let counts = try session.stop(workloads: options.workloads, nstrace: nstrace)
                for i in roundSamples.indices { roundSamples[i].counts = counts[roundSamples[i].workload] }
            }
            results.samples += roundSamples
        }
        results.others.append(OtherLoad(from: before, to: .now(), alsoOurs: tracerCPU).cpus)
    }
    return results
}

private func runPeerWorkload(_ w: PeerWorkload, under t: PeerTracer, session: PeerTracerSession?, round: Int,
                             selfExe: String, bundle: String, dir: String) throws(BenchError) -> PeerSample {
    let result = dir + "/result", traced = dir + "/strace.out"
    unlink(result)
    let command = t.workloadCommand([selfExe, "--workload", w.rawValue, "--result", result, "--bundle", bundle], output: traced)
    let tracerPid = session?.process.pid
    if let tracerPid { ProcStat.resetPeak(tracerPid) }
    let cpu0 = tracerPid.flatMap { ProcStat.cpuSeconds($0) }
    let p = try PeerProcess(command, stdout: dir + "/workload.out", stderr: dir + "/workload.err")
    var peak = 0
    let finished = p.wait(timeout: 1200, every: 0.05) {
        if tracerPid == nil, t != .untraced { peak = max(peak, ProcStat.peakRSSKB(p.pid) ?? 0) }
    }
    if !finished { p.kill(); throw BenchError("\(w.rawValue) under \(t.rawValue) did not finish in 20 minutes") }
    guard p.exitedCleanly else {
        throw BenchError("workload \(w.rawValue) under \(t.rawValue) failed: \(tail(dir + "/workload.err"))")
    }
    let fields = (readFile(result) ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) }
    guard fields.count == 2 else { throw BenchError("workload \(w.rawValue) under \(t.rawValue) wrote no result") }
    var sample = PeerSample(round: round, tracer: t, workload: w, seconds: fields[0])
    if let tracerPid {
        sample.tracerCPU = (ProcStat.cpuSeconds(tracerPid) ?? 0) - (cpu0 ?? 0)
        sample.peakKB = ProcStat.peakRSSKB(tracerPid)
        sample.ringKB = ProcStat.ringRSSKB(tracerPid)
    } else if t != .untraced {
        // strace: its rusage holds the workload it waited for; the workload said what it used
        sample.tracerCPU = max(0, p.rusageCPUSeconds - fields[1])
        sample.peakKB = peak
        sample.ringKB = 0
        sample.counts = StraceOutput.count(readFile(traced) ?? "")
        unlink(traced)
    }
    return sample
}

/// The netns the setns loop joins, the mount point of the mount loop, podman's image (made
/// from runc's busybox bundle: the e2e tests' image comes and goes with their set-up).
private func preparePeerWorkloads(_ workloads: [PeerWorkload], bundle: String, dir: String) throws(BenchError) {
    if workloads.contains(.namespaces) && access("/run/netns/" + PeerWorkload.netnsName, F_OK) != 0 {
        try spawnWait("/usr/bin/env", ["ip", "netns", "add", PeerWorkload.netnsName])
    }
    if workloads.contains(.mount) && mkdir(PeerWorkload.mountPoint, 0o700) != 0 && errno != EEXIST {
        throw BenchError("mkdir \(PeerWorkload.mountPoint): \(String(cString: strerror(errno)))")
    }
    if workloads.contains(.podman) {
        let lock = try lockRuntimes()
        defer { close(lock) }
        let tar = dir + "/rootfs.tar"
        try spawnWait("/usr/bin/env", ["tar", "-C", bundle + "/rootfs", "-cf", tar, "."])
        try spawnWait("/usr/bin/env", quiet: true, ["podman", "import", "-q", tar, podmanImage])
        unlink(tar)
    }
}

private func cleanUpPeerWorkloads(_ workloads: [PeerWorkload]) {
    if access("/run/netns/" + PeerWorkload.netnsName, F_OK) == 0 {
        _ = try? spawnWait("/usr/bin/env", ["ip", "netns", "del", PeerWorkload.netnsName])
    }
    rmdir(PeerWorkload.mountPoint)
    if workloads.contains(.podman), let lock = try? lockRuntimes() {
        _ = try? spawnWait("/usr/bin/env", quiet: true, ["podman", "rmi", "-f", podmanImage])
        close(lock)
    }
}

func selfPath() -> String {
    var exe = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &exe, exe.count - 1)
    return n > 0 ? String(decoding: exe[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
}

/// The first line each tool prints about its version.
private func peerVersions(nstrace: String) -> [(String, String)] {
    func firstLine(_ args: [String]) -> String {
        let out = "/tmp/nstrace-bench-version.txt"
        guard let p = try? PeerProcess(args, stdout: out, stderr: out) else { return "not installed" }
        p.wait(timeout: 20)
        defer { unlink(out) }
        return (readFile(out) ?? "").split(separator: "\n").first(where: { !$0.contains("RLIMIT") }).map(String.init) ?? "?"
    }
    return [("nstrace", firstLine([nstrace, "--version"])), ("bpftrace", firstLine(["bpftrace", "--version"])),
            ("strace", firstLine(["strace", "-V"])), ("perf", firstLine(["perf", "version"])),
            ("runc", firstLine([runcPath(), "--version"])), ("podman", firstLine(["podman", "--version"]))]
}
