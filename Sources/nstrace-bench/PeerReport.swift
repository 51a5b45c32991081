import BenchPeers
#if canImport(Glibc)
import Glibc
#endif

// Part 8's report: a table per workload on stdout, and BENCHMARKS.md with an SVG plot.

/// The goals of issue 11, judged on every nstrace mode.
struct PeerGoal {
    let text: String
    let measured: String
    let met: Bool
}

extension PeerResults {
    func median(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : Self.med(xs) }
    static func med(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    var workloads: [PeerWorkload] { PeerWorkload.allCases.filter { w in samples.contains { $0.workload == w } } }
    var tracers: [PeerTracer] { PeerTracer.allCases.filter { t in t != .untraced && samples.contains { $0.tracer == t } } }

    /// "4000/4000" (every round), "3998..4000/4000" (the rounds differ), "n/a" (no ground truth).
    func completeness(_ t: PeerTracer, _ w: PeerWorkload) -> (text: String, complete: Bool) {
        guard let truth = w.groundTruth else { return ("n/a (runtime's calls)", true) }
        let expected = truth.values.reduce(0, +)
        let seen = samples(t, w).compactMap { $0.counts?.total(of: Array(truth.keys)) }
        guard let lo = seen.min(), let hi = seen.max() else { return ("?", false) }
        let range = lo == hi ? "\(grouped(lo))" : "\(grouped(lo))..\(grouped(hi))"
        let perType = samples(t, w).allSatisfy { s in truth.allSatisfy { s.counts?.events[$0.key] ?? 0 == $0.value } }
        return (range + "/" + grouped(expected), perType)
    }

    func lost(_ t: PeerTracer) -> Int {
        // nstrace, bpftrace and perf report per session: the first workload's sample of each round carries it
        var total = 0
        for r in 0..<rounds {
            let xs = samples.filter { $0.tracer == t && $0.round == r }
            if t.systemWide { total += xs.first?.counts?.lost ?? 0 } else { total += xs.reduce(0) { $0 + ($1.counts?.lost ?? 0) } }
        }
        return total
    }

    func row(_ t: PeerTracer, _ w: PeerWorkload) -> [String] {
        let r = ratios(t, w)
        let s = samples(t, w)
        let cpu = s.compactMap(\.tracerCPU), peak = s.compactMap(\.peakKB).map(Double.init), ring = s.compactMap(\.ringKB).map(Double.init)
        let secs = median(s.map(\.seconds)) ?? 0
        return [t.rawValue,
                r.isEmpty ? "-" : fixed(Self.med(r), 3) + "x",
                r.isEmpty ? "-" : fixed(r.min()!, 2) + ".." + fixed(r.max()!, 2),
                completeness(t, w).text,
                cpu.isEmpty ? "-" : fixed(Self.med(cpu), 2) + " s (" + fixed(100 * Self.med(cpu) / max(secs, 1e-9), 0) + " %)",
                peak.isEmpty ? "-" : fixed(Self.med(peak) / 1024, 1),
                ring.isEmpty ? "-" : fixed(Self.med(ring) / 1024, 1)]
    }

    static let columns = ["tracer", "ratio (median)", "min..max", "events seen/expected", "tracer CPU (median)", "peak RSS MB", "of which ring MB"]

    func printTables() {
        for w in workloads {
            let base = samples(.untraced, w).map(\.seconds)
            var table = Table("8. \(w.title): untraced \(fixed(median(base) ?? 0, 3)) s (median of \(base.count)); ratio = traced / untraced of the same round",
                              columns: Self.columns)
            for t in tracers { table.add(row(t, w)) }
            table.print()
        }
        var lost = Table("8. Events the tracers said they lost (all workloads, all rounds)", columns: ["tracer", "lost"])
        for t in tracers { lost.add([t.rawValue, grouped(self.lost(t))]) }
        lost.note("others' CPUs per round (other processes, tracers excluded): " + others.map { fixed($0, 2) }.joined(separator: ", "))
        lost.print()
        var g = Table("8. Goals (issue 11)", columns: ["goal", "measured", "met"])
        for goal in goals() { g.add([goal.text, goal.measured, goal.met ? "yes" : "NO"]) }
        g.print()
    }

    func goals() -> [PeerGoal] {
        var out: [PeerGoal] = []
        let limits: [(PeerWorkload, Double)] = [(.runc, 1.05), (.podman, 1.05), (.namespaces, 1.10), (.mount, 1.25)]
        for t in tracers where t.isNstrace {
            for (w, limit) in limits {
                guard let m = median(ratios(t, w)) else { continue }
                out.append(PeerGoal(text: "\(t.rawValue): \(w.rawValue) <= \(fixed(limit, 2))x", measured: fixed(m, 3) + "x", met: m <= limit))
            }
            if let m = median(ratios(t, .getppid)), let b = median(ratios(.bpftrace, .getppid)) {
                out.append(PeerGoal(text: "\(t.rawValue): getppid <= bpftrace's (\(fixed(b, 3))x)", measured: fixed(m, 3) + "x", met: m <= b))
            }
            let counted = workloads.filter { $0.groundTruth != nil }
            let complete = counted.allSatisfy { completeness(t, $0).complete }
            out.append(PeerGoal(text: "\(t.rawValue): every namespace and mount call reported",
                                measured: counted.map { "\($0.rawValue) " + completeness(t, $0).text }.joined(separator: ", ") + ", lost \(lost(t))",
                                met: complete && lost(t) == 0))
            let peaks = samples.filter { $0.tracer == t }.compactMap(\.peakKB)
            if let peak = peaks.max() {
                out.append(PeerGoal(text: "\(t.rawValue): peak RSS <= 25 MB (default 8 MB ring)", measured: fixed(Double(peak) / 1024, 1) + " MB", met: peak <= 25 * 1024))
            }
        }
        return out
    }
}
