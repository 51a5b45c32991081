import NstraceCore
#if canImport(Glibc)
import Glibc
#endif

// Part 7: `nstrace analyze`, from the file to the reports, on one core (issue 9: >= 1M events/s).

let analyzeGoal = 1_000_000.0
let analyzeFixture = "Tests/Fixtures/analysis/runc.nst"

/// A trace of `starts` copies of a real `runc run` (the fixture's events, each copy with its
/// own container id, pids, cgroup id and times), each followed by `noise` host events (the
/// synthetic records of part 1, as a busy host adds them). Returns its path and event count.
func writeAnalyzeTrace(starts: Int, noise: Int) throws(BenchError) -> (String, Int) {
    var events: [[UInt8]] = []
    var metadata: [TraceMetadata] = []
    do {
        let r = try TraceFileReader(path: analyzeFixture)
        try r.forEach { item in
            switch item {
            case .event(let v): events.append(Array(v.bytes))
            case .metadata(let m): if m.kind == TraceMetadata.HostSnapshot.kind { metadata.append(m) }
            }
        }
    } catch {
        throw BenchError("\(analyzeFixture): \(error) (run make bench from the repository root)")
    }
    let oldID = Array("nste2e-runc-435465d5".utf8)
    // part 1's records, as a host process (not an engine, whose events wait to be claimed)
    let host = FormatBenchmark.syntheticRecords().map { r in
        var r = r
        for (i, b) in Array("kworker/u4:1".utf8 + [UInt8](repeating: 0, count: 4)).enumerated() { r[EventLayout.comm + i] = b }
        return r
    }
    let path = "/tmp/nstrace-bench-analyze-\(getpid()).nst"
    var count = 0
    do {
        let header = TraceFileHeader(hostname: "bench", kernelRelease: "6.1.0", nstraceVersion: "bench",
                                     clock: WallClock(bootToRealtimeNs: 0, utcOffsetSeconds: 0), startBootNs: 1, startRealtimeNs: 0)
        let w = try TraceFileWriter(path: path, header: header)
        for m in metadata { try w.appendMetadata(m) }
        let t0 = events.first.map { $0.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: EventLayout.tsNs, as: UInt64.self) } } ?? 0
        var ts: UInt64 = 0
        for k in 0..<starts {
            let newID = Array(String("bench-\(100_000_000_000_000 + k)".suffix(20)).utf8)
            let base = UInt64(k) * 60_000_000
            for var e in events {
                replace(&e, oldID, newID)
                e.withUnsafeMutableBytes { p in
                    ts = p.loadUnaligned(fromByteOffset: EventLayout.tsNs, as: UInt64.self) - t0 + base + 1_000_000_000
                    p.storeBytes(of: ts, toByteOffset: EventLayout.tsNs, as: UInt64.self)
                    for off in [EventLayout.pid, EventLayout.tid, EventLayout.ppid, EventLayout.lineage] {
                        let v = p.loadUnaligned(fromByteOffset: off, as: UInt32.self)
                        if v > 1 { p.storeBytes(of: v &+ UInt32(k) &* 64, toByteOffset: off, as: UInt32.self) }
                    }
                    let type = p.loadUnaligned(fromByteOffset: EventLayout.type, as: UInt16.self)
                    if type == EventType.cgroupMkdir.rawValue {
                        let id = p.loadUnaligned(fromByteOffset: EventLayout.aux, as: UInt64.self)
                        p.storeBytes(of: id &+ UInt64(k) &* 1000, toByteOffset: EventLayout.aux, as: UInt64.self)
                    }
                }
                try e.withUnsafeBytes { try w.append(record: $0) }
                count += 1
            }
            for i in 0..<noise {
                var e = host[i % host.count]
                ts &+= 1000
                e.withUnsafeMutableBytes { $0.storeBytes(of: ts, toByteOffset: EventLayout.tsNs, as: UInt64.self) }
                try e.withUnsafeBytes { try w.append(record: $0) }
                count += 1
            }
        }
        try w.finish()
    } catch {
        unlink(path)
        throw BenchError("writing \(path): \(error)")
    }
    return (path, count)
}

private func replace(_ bytes: inout [UInt8], _ old: [UInt8], _ new: [UInt8]) {
    guard bytes.count >= old.count else { return }
    var i = 0
    while i <= bytes.count - old.count {
        if bytes[i] == old[0] && Array(bytes[i..<i + old.count]) == old {
            bytes.replaceSubrange(i..<i + old.count, with: new)
            i += old.count
        } else {
            i += 1
        }
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
    table.note("events/CPU-s: events in the file over the thread's CPU time for reading it (twice: names first), analysing it and rendering the three reports.")
    table.print()
    return worst
}
