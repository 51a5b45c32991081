#if canImport(Glibc)
import Glibc
#endif

// Part 9: the statically linked release binary (`make release`: --static-swift-stdlib) against
// the dynamic one: process start, start to tracing, and memory while tracing.

struct BinaryMeasure {
    let name: String
    let path: String
    var versionMs: [Double] = []   // `nstrace --version`, spawn to exit
    var readyMs: [Double] = []     // `nstrace -o json`, spawn to "nstrace: tracing"
    var peakKB: [Int] = []         // VmHWM once tracing, idle
    var ringKB: [Int] = []         // of which resident ring-buffer pages
    var sizeBytes = 0
}

func partStaticBinary(dynamic: String, staticPath: String, quick: Bool) throws(BenchError) -> [BinaryMeasure] {
    let runs = quick ? 3 : 9
    say("part 9: static and dynamic nstrace, \(runs) starts each, alternating")
    var dir = Array("/tmp/nstrace-bench-static-XXXXXX".utf8CString)
    guard let d = mkdtemp(&dir) else { throw BenchError("mkdtemp: \(String(cString: strerror(errno)))") }
    let tmp = String(cString: d)
    defer { _ = try? spawnWait("/bin/rm", ["-rf", tmp]) }
    var results = [BinaryMeasure(name: "dynamic", path: dynamic), BinaryMeasure(name: "static", path: staticPath)]
    for i in results.indices {
        var st = stat()
        guard stat(results[i].path, &st) == 0 else { throw BenchError("no \(results[i].name) binary at \(results[i].path) (make release builds both)") }
        results[i].sizeBytes = Int(st.st_size)
    }
    for run in 0..<runs {
        for k in (run % 2 == 0 ? [0, 1] : [1, 0]) {
            let path = results[k].path
            var t0 = monotonicNs()
            let v = try PeerProcess([path, "--version"], stdout: tmp + "/v.out", stderr: tmp + "/v.err")
            v.wait(timeout: 30, every: 0.001)
            guard v.exitedCleanly else { throw BenchError("\(path) --version failed: \(tail(tmp + "/v.err"))") }
            results[k].versionMs.append(Double(monotonicNs() - t0) / 1e6)

            t0 = monotonicNs()
            let p = try PeerProcess([path, "-o", "json"], stdout: "/dev/null", stderr: tmp + "/t.err")
            var ready = false
            while !ready && monotonicNs() - t0 < 60_000_000_000 && !p.poll() {
                ready = (readFile(tmp + "/t.err") ?? "").contains("nstrace: tracing")
                if !ready { sleepSeconds(0.002) }
            }
            guard ready else { p.kill(); throw BenchError("\(path) did not start tracing: \(tail(tmp + "/t.err"))") }
            results[k].readyMs.append(Double(monotonicNs() - t0) / 1e6)
            sleepSeconds(0.5)
            results[k].peakKB.append(ProcStat.peakRSSKB(p.pid) ?? 0)
            results[k].ringKB.append(ProcStat.ringRSSKB(p.pid))
            p.stop(grace: 10)
        }
    }
    var table = Table("9. Static (--static-swift-stdlib) and dynamic nstrace: medians of \(runs) alternating starts",
                      columns: ["binary", "size MB", "--version ms", "start to tracing ms", "peak RSS MB (idle, tracing)", "of which ring MB", "RSS without ring MB"])
    for r in results { table.add(r.row) }
    table.note("start to tracing: spawn to the 'nstrace: tracing' line (BPF load and attach included); default 8 MB ring, mapped twice by libbpf.")
    table.print()
    return results
}

extension BinaryMeasure {
    var row: [String] {
        func med(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : PeerResults.med(xs) }
        let peak = med(peakKB.map(Double.init)) / 1024, ring = med(ringKB.map(Double.init)) / 1024
        return [name, fixed(Double(sizeBytes) / 1e6, 1), fixed(med(versionMs), 1), fixed(med(readyMs), 0),
                fixed(peak, 1), fixed(ring, 1), fixed(peak - ring, 1)]
    }

    static func markdown(_ xs: [BinaryMeasure]) -> String {
        var md = "## Static and dynamic binary\n\n`make release` builds both; medians of alternating starts, idle tracing.\n\n"
        md += "| binary | size MB | --version ms | start to tracing ms | peak RSS MB | of which ring MB | RSS without ring MB |\n|---|---|---|---|---|---|---|\n"
        for x in xs { md += "| " + x.row.joined(separator: " | ") + " |\n" }
        return md
    }
}
