import NstraceCore
#if canImport(Glibc)
import Glibc
#endif

// Part 7: `nstrace analyze`, from the file to the reports, on one core (issue 9: >= 1M events/s).

let analyzeGoal = 1_000_000.0
let analyzeFixture = "Tests/Fixtures/analysis/runc.nst"

/// The fixture's `runc run`, `starts` times, each followed by `noise` host events.
func writeAnalyzeTrace(starts: Int, noise: Int) throws(BenchError) -> (String, Int) {
    let path = "/tmp/nstrace-bench-analyze-\(getpid()).nst"
    do {
        let n = try SyntheticStartupTrace.write(path: path, fixture: analyzeFixture, fixtureID: "nste2e-runc-435465d5",
                                                starts: starts, noise: noise, hostRecords: FormatBenchmark.syntheticRecords())
        return (path, n)
    } catch {
        throw BenchError("\(error) (run make bench from the repository root)")
    }
}

func partAnalyze(quick: Bool) throws(BenchError) -> Double {
    let starts = quick ? 200 : 2000
    say("part 7: analyze, \(grouped(starts)) runc starts (from \(analyzeFixture)) in a file, to text, JSON and HTML")
    var table = Table("7. nstrace analyze: trace file to reports (text, JSON, HTML), one core",
                      columns: ["trace", "events", "starts found", "events/CPU-s", "analysis CPU s", "reports CPU s", "wall s", "goal", "met"])
    var worst = Double.infinity
    for (name, noise) in [("starts only", 0), ("starts + 1000 host events each", 1000)] {
        let (path, count) = try writeAnalyzeTrace(starts: starts, noise: noise)
        defer { unlink(path) }
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
    table.print()
    return worst
}
