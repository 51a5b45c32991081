/// The terminal report of `nstrace analyze`: per container, its phases in time order with
/// their offsets and durations and a bar on a common scale (like `systemd-analyze
/// critical-chain` and `plot`), then what took longest (like `blame`), the inventory and the
/// findings; then the percentiles across containers. Strings are already text-escaped.
///
/// Written as bytes into one `OutputBuffer` (ReportBuffer.swift): no String per line or per
/// field (issue 9: the String version took about 100 µs per container start).
public enum StartupTextReport {
    static let barWidth = 40

    public static func render(_ a: StartupAnalysis) -> String {
        var o = OutputBuffer(capacity: 1 << 16)
        render(a, into: &o)
        return o.string
    }

    /// Appends the report to `o` (what `nstrace analyze` writes out).
    public static func render(_ a: StartupAnalysis, into o: inout OutputBuffer) {
        o.reserve(for: a, bytesPerStart: 2400)   // 2.2 KB for a runc start
        o.append("nstrace analyze: "); o.appendDecimal(a.startups.count)
        o.append(" container start"); if a.startups.count != 1 { o.append("s") }
        o.append(" in "); o.appendJoined(a.files, ", ")
        o.append(" ("); o.appendDecimal(a.eventsRead); o.append(" events, "); o.appendDecimal(a.lostEvents); o.append(" lost)\n")
        if a.startups.isEmpty {
            o.append("no container start in the trace")
            if a.knownContainers.isEmpty {
                o.append("\n")
            } else {
                o.append(" (containers seen: "); o.appendJoined(a.knownContainers, ", ") { $0.append(utf8: label($1)) }; o.append(")\n")
            }
            return
        }
        for i in a.startups.indices { o.append("\n"); container(a.startups[i], &o) }
        o.append("\n")
        statistics(StartupStatistics(a.startups), &o)
    }

    static func label(_ c: AnalysisEvent.Container) -> String {
        c.name ?? (c.id.utf8.count == 64 ? String(c.id.prefix(12)) : c.id)
    }

    static func container(_ s: ContainerStartup, _ o: inout OutputBuffer) {
        o.append(utf8: s.label); o.append("  ("); o.append(utf8: s.container.runtime)
        if let image = s.container.image { o.append(", image "); o.append(utf8: image) }
        o.append(", id "); o.append(utf8: s.container.id); o.append(")\n")
        if let total = s.totalNs {
            o.append("  total "); o.appendDuration(total); o.append(" from the first event of the start to the entrypoint's exec\n")
        } else {
            o.append("  INCOMPLETE: "); o.appendJoined(s.incompleteReasons, "; "); o.append("\n")
        }
        let span = max(1, (s.endNs ?? s.phases.lazy.map(\.endNs).max() ?? s.startNs) &- s.startNs)
        for p in s.phases {
            let off = p.startNs &- s.startNs
            o.append("  ")
            var at = o.count
            o.append("+"); o.appendDuration(off); o.padColumn(since: at, 10)
            at = o.count
            o.appendDuration(p.durationNs); o.padColumn(since: at, 9)
            at = o.count
            o.append(utf8: p.phase.title); o.padColumn(since: at, 24)
            bar(offset: off, duration: p.durationNs, span: span, &o)
            o.append("  ")
            o.appendJoined(p.processes.prefix(4), ", ") { $0.append(utf8: $1.comm); $0.append(" "); $0.appendDecimal($1.pid) }
            if p.processes.count > 4 { o.append(", …") }
            o.append("\n")
        }
        let blame = s.phases.filter { $0.durationNs > 0 }.sorted { $0.durationNs > $1.durationNs }.prefix(3)
        if !blame.isEmpty {
            o.append("  longest: ")
            o.appendJoined(blame, ", ") { $0.append(utf8: $1.phase.title); $0.append(" "); $0.appendDuration($1.durationNs) }
            o.append("\n")
        }
        criticalChain(s, &o)
        o.append("  namespaces: created "); namespaces(s, how: "created", &o)
        o.append("; joined "); namespaces(s, how: "joined", &o)
        o.append("; shared with the host ")
        if s.sharedWithHost.isEmpty { o.append("-") } else { o.appendJoined(s.sharedWithHost, " ") }
        o.append("\n  mounts: ")
        if s.mountsByKind.isEmpty {
            o.append("-")
        } else {
            let kinds = s.mountsByKind.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            o.appendJoined(kinds, ", ") { $0.append(utf8: $1.key); $0.append(" "); $0.appendDecimal($1.value) }
        }
        o.append("\n")
        for v in s.volumes {
            o.append("  volume: "); o.append(utf8: v.source); o.append(" → ")
            if let target = v.target { o.append(utf8: target) } else { o.append("? ("); o.append(utf8: v.rawTarget); o.append(")") }
            o.append(" "); o.append(utf8: v.propagation); o.append(v.readOnly ? " ro\n" : " rw\n")
        }
        o.append("  failed calls "); o.appendDecimal(s.failedCallCount)
        o.append(", later joins "); o.appendDecimal(s.laterJoins)
        o.append(", exec sessions "); o.appendDecimal(s.execSessions); o.append("\n")
        let scratch = StoredEventDetail.Scratch()
        for f in s.findings {
            o.append(f.severity == "warning" ? "  ! " : "  - "); o.append(utf8: f.message); o.append("\n")
            for i in f.events.prefix(3) where i < s.events.count {
                // the event's fields straight from the start's arena (no StartupEvent Strings)
                let e = s.events.stored[i]
                o.append("      "); s.events.arena.withBytes(e.comm) { o.append(bytes: $0) }
                o.append(" "); o.appendDecimal(e.pid)
                o.append(" "); s.events.arena.withBytes(e.name) { o.append(bytes: $0) }
                o.append(" "); s.events.appendDetail(i, into: &o, scratch: scratch); o.append("\n")
            }
            if f.events.count > 3 { o.append("      … "); o.appendDecimal(f.events.count - 3); o.append(" more\n") }
        }
    }

    /// The start's namespaces created (or joined), as `type:[inode]`, or `-` when none.
    static func namespaces(_ s: ContainerStartup, how: String, _ o: inout OutputBuffer) {
        var any = false
        for n in s.namespaces where n.how == how {
            if any { o.append(" ") }
            any = true
            o.append(utf8: n.type); o.append(":["); o.appendDecimal(n.inode); o.append("]")
        }
        if !any { o.append("-") }
    }

    /// Like `systemd-analyze critical-chain`: each phase of the longest path with its offset
    /// and duration, and how long it waited after the one before it ended.
    static func criticalChain(_ s: ContainerStartup, _ o: inout OutputBuffer) {
        let chain = s.criticalChain.links
        guard !chain.isEmpty else { return }
        o.append("  critical chain (each waited for the one above):\n")
        for (i, l) in chain.enumerated() {
            let lineStart = o.count
            o.append("    ")
            var at = o.count
            o.append(utf8: l.phase.title); o.padColumn(since: at, 24)
            at = o.count
            o.append("@"); o.appendDuration(l.startNs &- s.startNs); o.padColumn(since: at, 10)
            at = o.count
            o.append("+"); o.appendDuration(l.durationNs); o.padColumn(since: at, 10)
            if i > 0 {
                if l.waitNs > 0 { o.append("waited "); o.appendDuration(l.waitNs); o.append(" ") }
                o.append("after "); o.append(utf8: chain[i - 1].phase.title)
            }
            o.trimTrailingSpaces(downTo: lineStart)
            o.append("\n")
        }
    }

    static func statistics(_ st: StartupStatistics, _ o: inout OutputBuffer) {
        o.append("percentiles over complete starts (count p50 p90 p99 max)\n")
        if st.groups.isEmpty { o.append("  none: no start is complete\n"); return }
        for g in st.groups {
            o.append("  "); o.append(utf8: g.by); o.append(" "); o.append(utf8: g.key); o.append("\n")
            if let t = g.total { summaryLine("total", t, &o) }
            for (p, s) in g.phases { summaryLine(p.title, s, &o) }
        }
    }

    static func summaryLine(_ name: String, _ s: StartupStatistics.Summary, _ o: inout OutputBuffer) {
        o.append("    ")
        var at = o.count
        o.append(utf8: name); o.padColumn(since: at, 24)
        at = o.count
        o.appendDecimal(s.count); o.padColumn(since: at, 5)
        for v in [s.p50, s.p90, s.p99, s.max] {
            at = o.count
            o.appendDuration(v); o.padColumn(since: at, 10)
        }
        o.append("\n")
    }

    static func bar(offset: UInt64, duration: UInt64, span: UInt64, _ o: inout OutputBuffer) {
        let w = barWidth
        let a = min(w - 1, Int(Double(offset) / Double(span) * Double(w)))
        let b = max(a + 1, min(w, Int((Double(offset + duration) / Double(span) * Double(w)).rounded(.up))))
        o.append("|")
        o.appendSpaces(a)
        for _ in a ..< b { o.append("█") }
        o.appendSpaces(w - b)
        o.append("|")
    }

    /// `s` padded to `n` columns, with at least one space after it (`StartupDiff`'s table).
    static func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count)
    }
}
