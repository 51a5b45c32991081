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
    say("part 7: analyze, \(grouped(starts)) runc starts (from \(analyzeFixture)) in a file, to a text, a JSON and an HTML report")
    var table = Table("7. nstrace analyze: trace file to one report, one core (events per CPU second, file to report)",
                      columns: ["trace", "events", "starts found", "analysis CPU s", "text CPU s", "json CPU s", "html CPU s",
                                "events/CPU-s text", "json", "html", "goal", "met"])
    var worst = Double.infinity
    for (name, noise) in [("starts only", 0), ("starts + 1000 host events each", 1000)] {
        let (path, count) = try writeAnalyzeTrace(starts: starts, noise: noise, keepIn: dir)
        defer { if dir == nil { unlink(path) } }
        let c0 = threadCPUNs()
        let analysis: StartupAnalysis
        do {
            analysis = try TraceAnalysis.analyze(files: [path]).0
        } catch {
            throw BenchError("analyze: \(error)")
        }
        let analysisCPU = Double(threadCPUNs() - c0) / 1e9
        // each format on its own, as `nstrace analyze -o FORMAT` makes one report
        var reportCPU: [Double] = []
        // into an OutputBuffer, as `nstrace analyze` writes it out
        let renders: [(StartupAnalysis, inout OutputBuffer) -> Void] = [StartupTextReport.render, StartupJSONReport.render, StartupHTMLReport.render]
        for render in renders {
            let r0 = threadCPUNs()
            var out = OutputBuffer(capacity: 1 << 16)
            render(analysis, &out)
            if out.isEmpty { throw BenchError("empty report") }
            reportCPU.append(Double(threadCPUNs() - r0) / 1e9)
        }
        let rates = reportCPU.map { Double(count) / max(analysisCPU + $0, 1e-9) }
        let rate = rates.min() ?? 0
        worst = min(worst, rate)
        table.add([name, grouped(count), grouped(analysis.startups.count), fixed(analysisCPU, 3)]
                  + reportCPU.map { fixed($0, 3) } + rates.map { grouped($0) }
                  + [">= \(grouped(analyzeGoal))/s", rate >= analyzeGoal ? "yes" : "NO (\(Int((rate / analyzeGoal * 100).rounded()))%)"])
    }
    table.note("events/CPU-s: events in the file over the thread's CPU time for reading it (once), analysing it and rendering that one report; the goal counts the slowest format.")
    table.note("host events: part 1's records by a host process in the host's namespaces and root cgroup, naming no container (only attributed, then counted).")
    table.note("the trace files: nstrace-bench --parts 7 --keep-analyze-traces DIR; one of them to one report: nstrace-bench --analyze-file FILE [text|json|html].")
    table.print()
    return worst
}

/// `nstrace-bench --analyze-file FILE... [text|json|html [REPEAT]] [--print]`: part 7's measure
/// on a trace already written (by --keep-analyze-traces, or recorded), one report format, for
/// profiling (`perf record`, callgrind) and for the figure the goal is about: one file to one
/// report, one core. Several files are merged as `nstrace analyze` merges them (their readers'
/// threads' CPU time is not counted). `--print`: the report itself on stdout (to compare
/// outputs before and after a change).
func runAnalyzeFile(_ args: [String]) -> Never {
    var args = args
    let printReport = args.last == "--print"
    if printReport { args.removeLast() }
    var files: [String] = []
    while let a = args.first, !["text", "json", "html"].contains(a) { files.append(a); args.removeFirst() }
    guard !files.isEmpty, args.count <= 2 else {
        say("usage: nstrace-bench --analyze-file FILE... [text|json|html [REPEAT]] [--print]")
        exit(2)
    }
    let path = files.joined(separator: " ")
    let format = args.first ?? "text"
    let repeats = args.count > 1 ? Int(args[1]) ?? 1 : 1
    for _ in 0..<max(1, repeats) {
        let c0 = threadCPUNs()
        let analysis: StartupAnalysis
        do {
            analysis = try TraceAnalysis.analyze(files: files).0
        } catch {
            say("nstrace-bench: \(error)")
            exit(1)
        }
        let c1 = threadCPUNs()
        var report = OutputBuffer(capacity: 1 << 16)
        switch format {
        case "json": StartupJSONReport.render(analysis, into: &report)
        case "html": StartupHTMLReport.render(analysis, into: &report)
        default: StartupTextReport.render(analysis, into: &report)
        }
        let bytes = report.count
        if printReport { try? report.flush(fd: 1); continue }
        let cpu = Double(threadCPUNs() - c0) / 1e9
        print("\(path): \(grouped(analysis.eventsRead)) events, \(analysis.startups.count) starts, \(format) report \(grouped(bytes)) bytes: "
              + "analysis \(fixed(Double(c1 - c0) / 1e9, 3)) CPU s, report \(fixed(Double(threadCPUNs() - c1) / 1e9, 3)) CPU s, "
              + "\(grouped(Double(analysis.eventsRead) / max(cpu, 1e-9))) events/CPU-s")
    }
    exit(0)
}
