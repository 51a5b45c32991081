import NstraceCore
#if canImport(Glibc)
import Glibc
#endif

// Part 7: `nstrace analyze`, from the file to the reports, on one core (issue 9: >= 1M events/s).

let analyzeGoal = 1_000_000.0
let analyzeFixture = "Tests/Fixtures/analysis/runc.nst"

/// The fixture's `runc run`, `starts` times, each followed by `noise` host events.
func writeAnalyzeTrace(starts: Int, noise: Int, keepIn dir: String? = nil) throws(BenchError) -> (String, Int) {
    let path = dir.map { "\($0)/analyze-\(starts)-starts-\(noise)-noise.nst" } ?? "/tmp/nstrace-bench-analyze-\(getpid()).nst"
    do {
        let n = try SyntheticStartupTrace.write(path: path, fixture: analyzeFixture, fixtureID: "nste2e-runc-435465d5",
                                                starts: starts, noise: noise, hostRecords: hostNoiseRecords())
        return (path, n)
    } catch {
        throw BenchError("\(error) (run make bench from the repository root)")
    }
}

/// Part 1's records as host noise: the mount's target, a containerd task directory, would name
/// a container (and tie every later event in those namespaces to it): a host path instead.
func hostNoiseRecords() -> [[UInt8]] {
    let task = Array("/run/containerd/io.containerd.runtime.v2.task/k8s.io/3f2a9c/rootfs".utf8)
    let host = Array(("/mnt/host-scratch/" + String(repeating: "d", count: task.count - 18)).utf8)
    return FormatBenchmark.syntheticRecords().map { r in
        var r = r
        var i = 0
        while i + task.count <= r.count {
            if r[i..<i + task.count].elementsEqual(task) { r.replaceSubrange(i..<i + task.count, with: host); i += task.count } else { i += 1 }
        }
        return r
    }
}

func partAnalyze(quick: Bool, keepIn dir: String? = nil) throws(BenchError) -> Double {
    let starts = quick ? 200 : 2000
    say("part 7: analyze, \(grouped(starts)) runc starts (from \(analyzeFixture)) in a file, to text, JSON and HTML")
    var table = Table("7. nstrace analyze: trace file to reports (text, JSON, HTML), one core",
                      columns: ["trace", "events", "starts found", "events/CPU-s", "analysis CPU s", "reports CPU s", "wall s", "goal", "met"])
    var worst = Double.infinity
    for (name, noise) in [("starts only", 0), ("starts + 1000 host events each", 1000)] {
        let (path, count) = try writeAnalyzeTrace(starts: starts, noise: noise, keepIn: dir)
        defer { if dir == nil { unlink(path) } }
        let c0 = threadCPUNs(), w0 = monotonicNs()
        let analysis: StartupAnalysis
        do {
            analysis = try TraceAnalysis.analyze(files: [path]).0
        } catch {
            throw BenchError("analyze: \(error)")
        }
        let c1 = threadCPUNs()
        let bytes = StartupTextReport.render(analysis).utf8.count + StartupJSONReport.render(analysis).utf8.count
            + StartupHTMLReport.render(analysis).utf8.count
        let cpu = Double(threadCPUNs() - c0) / 1e9, wall = seconds(since: w0)
        let rate = Double(count) / max(cpu, 1e-9)
        worst = min(worst, rate)
        table.add([name, grouped(count), grouped(analysis.startups.count), grouped(rate),
                   fixed(Double(c1 - c0) / 1e9, 3), fixed(Double(threadCPUNs() - c1) / 1e9, 3), fixed(wall, 2),
                   ">= \(grouped(analyzeGoal))/s", rate >= analyzeGoal ? "yes" : "NO"])
        if bytes == 0 { throw BenchError("empty reports") }
    }
    table.note("events/CPU-s: events in the file over the thread's CPU time for reading it (once), analysing it and rendering the three reports.")
    table.note("host events: part 1's records by a host process in the host's namespaces and root cgroup, naming no container (only attributed, then counted).")
    table.print()
    return worst
}
