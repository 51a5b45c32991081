import BenchPeers
#if canImport(Glibc)
import Glibc
#endif

// BENCHMARKS.md and its plot, written by the benchmark itself. The "## Analysis" section of an
// existing file (written by a person: why a goal is missed) is kept as it is.

extension PeerResults {
    func writeMarkdown(_ path: String, machine: Machine, command: String, extra: [String]) throws(BenchError) {
        let svgName = "benchmarks-peers.svg"
        let dir = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        try writeFile((dir.isEmpty ? "" : dir + "/") + svgName, svg())
        var analysis = "## Analysis\n\n(none yet)\n"
        if let old = readFile(path), let r = old.firstRange(of: "\n## Analysis\n") {
            analysis = String(old[old.index(after: r.lowerBound)...])
        }
        var md = "# nstrace benchmarks\n\n"
        md += "Written by `\(command)` on \(utcNow()). Numbers from one run on a shared machine: read the ratios, not the seconds.\n\n"
        md += "- machine: \(machine.cpus) CPUs, \(machine.cpuModel), \(machine.kernel)\n"
        md += "- load: other processes used " + others.map { fixed($0, 2) }.joined(separator: ", ") + " CPUs during the rounds (tracers excluded)\n"
        for (tool, v) in versions { md += "- \(tool): \(v)\n" }
        md += "\n## Cost against other tracers\n\n"
        md += "Each round runs every workload untraced and under each tracer in turn (each round starts one place further along that list); a ratio is a traced run's wall time "
            + "over the untraced run of the same round (\(rounds) rounds: median and range). "
            + "Events seen count only the workload's own processes (by comm; strace traces only them), worst and best round. "
            + "Tracer CPU is the tracer's own CPU time during the run; peak RSS is its VmHWM (reset before each workload), "
            + "with the resident ring-buffer (or perf-buffer) pages shown apart.\n\n"
        md += "![ratio to untraced, per workload and tracer](\(svgName))\n"
        for w in workloads {
            let base = samples(.untraced, w).map(\.seconds)
            md += "\n### \(w.title)\n\nuntraced: \(fixed(median(base) ?? 0, 3)) s (median)\n\n"
            md += "| " + Self.columns.joined(separator: " | ") + " |\n|" + Self.columns.map { _ in "---" }.joined(separator: "|") + "|\n"
            for t in tracers { md += "| " + row(t, w).joined(separator: " | ") + " |\n" }
        }
        md += "\nLost events (all workloads and rounds): " + tracers.map { "\($0.rawValue) \(lost($0))" }.joined(separator: ", ") + ".\n"
        md += "\n## Goals\n\n| goal | measured | met |\n|---|---|---|\n"
        for g in goals() { md += "| \(g.text) | \(g.measured) | \(g.met ? "yes" : "**NO**") |\n" }
        for section in extra { md += "\n" + section }
        md += "\n" + analysis
        try writeFile(path, md)
    }

    /// Horizontal bars, one group per workload, one bar per tracer: the median ratio on a log
    /// scale, a whisker from the lowest to the highest round.
    func svg() -> String {
        let ts = tracers, ws = workloads
        let colors = ["#1f77b4", "#4a98d3", "#8cc2ea", "#ff7f0e", "#d62728", "#e377c2", "#2ca02c", "#7f7f7f"]
        let barH = 11.0, gap = 16.0, left = 190.0, width = 560.0, top = 40.0
        let allRatios = ws.flatMap { w in ts.flatMap { ratios($0, w) } }
        let maxRatio = max(2, min(200, (allRatios.max() ?? 2) * 1.1))
        let lo = 0.9
        func x(_ r: Double) -> Double { left + width * log(max(lo, min(r, maxRatio)) / lo) / log(maxRatio / lo) }
        let height = top + Double(ws.count) * (Double(ts.count) * barH + gap) + 60
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(left + width + 120))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(left)\" y=\"18\" font-size=\"13\">Wall time under each tracer / untraced (log scale; median, whisker: min..max of \(rounds) rounds)</text>\n"
        var ticks: [Double] = [1, 1.1, 1.25, 1.5, 2, 3, 5, 10, 20, 50, 100, 200]
        ticks = ticks.filter { $0 <= maxRatio }
        for t in ticks {
            let tx = fixed(x(t), 1)
            s += "<line x1=\"\(tx)\" y1=\"\(top - 8)\" x2=\"\(tx)\" y2=\"\(fixed(height - 50, 1))\" stroke=\"#ddd\"/>\n"
            s += "<text x=\"\(tx)\" y=\"\(top - 10)\" text-anchor=\"middle\">\(t == t.rounded() ? String(Int(t)) : fixed(t, 2))x</text>\n"
        }
        var y = top
        for w in ws {
            s += "<text x=\"4\" y=\"\(fixed(y + barH, 1))\" font-weight=\"bold\">\(xmlEscaped(w.rawValue))</text>\n"
            for (i, t) in ts.enumerated() {
                let r = ratios(t, w)
                if let m = median(r) {
                    let color = colors[i % colors.count]
                    s += "<text x=\"\(fixed(left - 4, 1))\" y=\"\(fixed(y + barH - 2, 1))\" text-anchor=\"end\">\(xmlEscaped(t.rawValue))</text>\n"
                    s += "<rect x=\"\(fixed(left, 1))\" y=\"\(fixed(y + 1, 1))\" width=\"\(fixed(max(1, x(m) - left), 1))\" height=\"\(fixed(barH - 2, 1))\" fill=\"\(color)\"/>\n"
                    s += "<line x1=\"\(fixed(x(r.min()!), 1))\" y1=\"\(fixed(y + barH / 2, 1))\" x2=\"\(fixed(x(r.max()!), 1))\" y2=\"\(fixed(y + barH / 2, 1))\" stroke=\"black\"/>\n"
                    s += "<text x=\"\(fixed(x(r.max()!) + 4, 1))\" y=\"\(fixed(y + barH - 2, 1))\">\(fixed(m, 2))x</text>\n"
                }
                y += barH
            }
            y += gap
        }
        s += "<text x=\"\(left)\" y=\"\(fixed(height - 20, 1))\">goals: containers 1.05x, namespace loop 1.10x, mount loop 1.25x, getppid no more than bpftrace</text>\n"
        return s + "</svg>\n"
    }
}

func xmlEscaped(_ s: String) -> String {
    var out = ""
    for c in s {
        switch c {
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "&": out += "&amp;"
        case "\"": out += "&quot;"
        default: out.append(c)
        }
    }
    return out
}

func utcNow() -> String {
    var t = time(nil)
    var tm = tm()
    gmtime_r(&t, &tm)
    var buf = [CChar](repeating: 0, count: 64)
    strftime(&buf, buf.count, "%Y-%m-%d %H:%M UTC", &tm)
    return String(cString: buf)
}
