/// The terminal report of `nstrace analyze`: per container, its phases in time order with
/// their offsets and durations and a bar on a common scale (like `systemd-analyze
/// critical-chain` and `plot`), then what took longest (like `blame`), the inventory and the
/// findings; then the percentiles across containers. Strings are already text-escaped.
public enum StartupTextReport {
    static let barWidth = 40

    public static func render(_ a: StartupAnalysis) -> String {
        var out = ""
        out += "nstrace analyze: \(a.startups.count) container start\(a.startups.count == 1 ? "" : "s") in \(a.files.joined(separator: ", "))"
        out += " (\(a.eventsRead) events, \(a.lostEvents) lost)\n"
        if a.startups.isEmpty {
            out += "no container start in the trace"
            out += a.knownContainers.isEmpty ? "\n" : " (containers seen: \(a.knownContainers.map(label).joined(separator: ", ")))\n"
            return out
        }
        for s in a.startups { out += "\n" + container(s) }
        out += "\n" + statistics(StartupStatistics(a.startups))
        return out
    }

    static func label(_ c: AnalysisEvent.Container) -> String {
        c.name ?? (c.id.utf8.count == 64 ? String(c.id.prefix(12)) : c.id)
    }

    static func container(_ s: ContainerStartup) -> String {
        var out = s.label + "  (" + s.container.runtime
        if let image = s.container.image { out += ", image " + image }
        out += ", id " + s.container.id + ")\n"
        if let total = s.totalNs {
            out += "  total \(DurationText.format(total)) from the first event of the start to the entrypoint's exec\n"
        } else {
            out += "  INCOMPLETE: " + s.incompleteReasons.joined(separator: "; ") + "\n"
        }
        let span = max(1, (s.endNs ?? s.phases.map(\.endNs).max() ?? s.startNs) &- s.startNs)
        for p in s.phases {
            let off = p.startNs &- s.startNs
            var line = "  " + pad("+" + DurationText.format(off), 10) + pad(DurationText.format(p.durationNs), 9)
            line += pad(p.phase.title, 24) + bar(offset: off, duration: p.durationNs, span: span) + "  "
            line += p.processes.prefix(4).map { "\($0.comm) \($0.pid)" }.joined(separator: ", ")
            if p.processes.count > 4 { line += ", …" }
            out += line + "\n"
        }
        let blame = s.phases.filter { $0.durationNs > 0 }.sorted { $0.durationNs > $1.durationNs }.prefix(3)
        if !blame.isEmpty {
            out += "  longest: " + blame.map { "\($0.phase.title) \(DurationText.format($0.durationNs))" }.joined(separator: ", ") + "\n"
        }
        out += criticalChain(s)
        let created = s.namespaces.filter { $0.how == "created" }.map { "\($0.type):[\($0.inode)]" }
        let joined = s.namespaces.filter { $0.how == "joined" }.map { "\($0.type):[\($0.inode)]" }
        out += "  namespaces: created " + (created.isEmpty ? "-" : created.joined(separator: " "))
        out += "; joined " + (joined.isEmpty ? "-" : joined.joined(separator: " "))
        out += "; shared with the host " + (s.sharedWithHost.isEmpty ? "-" : s.sharedWithHost.joined(separator: " ")) + "\n"
        out += "  mounts: " + (s.mountsByKind.isEmpty ? "-" : s.mountsByKind.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ")) + "\n"
        for v in s.volumes {
            out += "  volume: \(v.source) → \(v.target ?? "? (" + v.rawTarget + ")") \(v.propagation) \(v.readOnly ? "ro" : "rw")\n"
        }
        out += "  failed calls \(s.failedCallCount), later joins \(s.laterJoins), exec sessions \(s.execSessions)\n"
        for f in s.findings {
            out += "  \(f.severity == "warning" ? "!" : "-") \(f.message)\n"
            for i in f.events.prefix(3) where i < s.events.count {
                let e = s.events[i]
                out += "      \(e.comm) \(e.pid) \(e.name) \(e.detail)\n"
            }
            if f.events.count > 3 { out += "      … \(f.events.count - 3) more\n" }
        }
        return out
    }

    /// Like `systemd-analyze critical-chain`: each phase of the longest path with its offset
    /// and duration, and how long it waited after the one before it ended.
    static func criticalChain(_ s: ContainerStartup) -> String {
        let chain = s.criticalChain.links
        guard !chain.isEmpty else { return "" }
        var out = "  critical chain (each waited for the one above):\n"
        for (i, l) in chain.enumerated() {
            var line = "    " + pad(l.phase.title, 24) + pad("@" + DurationText.format(l.startNs &- s.startNs), 10)
            line += pad("+" + DurationText.format(l.durationNs), 10)
            if i > 0 {
                line += l.waitNs > 0 ? "waited " + DurationText.format(l.waitNs) + " after " + chain[i - 1].phase.title
                    : "after " + chain[i - 1].phase.title
            }
            while line.last == " " { line.removeLast() }
            out += line + "\n"
        }
        return out
    }

    static func statistics(_ st: StartupStatistics) -> String {
        var out = "percentiles over complete starts (count p50 p90 p99 max)\n"
        if st.groups.isEmpty { return out + "  none: no start is complete\n" }
        for g in st.groups {
            out += "  \(g.by) \(g.key)\n"
            if let t = g.total { out += "    " + pad("total", 24) + summary(t) + "\n" }
            for (p, s) in g.phases { out += "    " + pad(p.title, 24) + summary(s) + "\n" }
        }
        return out
    }

    static func summary(_ s: StartupStatistics.Summary) -> String {
        pad(String(s.count), 5) + [s.p50, s.p90, s.p99, s.max].map { pad(DurationText.format($0), 10) }.joined()
    }

    static func bar(offset: UInt64, duration: UInt64, span: UInt64) -> String {
        let w = barWidth
        let a = min(w - 1, Int(Double(offset) / Double(span) * Double(w)))
        let b = max(a + 1, min(w, Int((Double(offset + duration) / Double(span) * Double(w)).rounded(.up))))
        return "|" + String(repeating: " ", count: a) + String(repeating: "█", count: b - a) + String(repeating: " ", count: w - b) + "|"
    }

    static func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count)
    }
}
