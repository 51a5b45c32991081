/// `nstrace analyze -o html`: one self-contained page (no script, no network, no web font):
/// the summary and percentile tables, then per container an SVG timeline with its phases as
/// coloured bars and a lane per process, every event a mark whose `<title>` holds its detail.
/// Sections below the fold are left to `content-visibility: auto`, so that a report of
/// 1,000 containers opens fast. Every string goes through `appendHTMLEscaped`.
public enum StartupHTMLReport {
    static let labelWidth = 190.0
    static let plotWidth = 860.0
    static let rowHeight = 16.0

    static func color(_ p: StartupPhase?) -> StaticString {
        switch p {
        case .enginePreparation: "#8c6bb1"
        case .runtimeInvoked: "#6baed6"
        case .runtimeBootstrap: "#2171b5"
        case .namespaces: "#e6550d"
        case .mountSetup: "#31a354"
        case .pivotRoot: "#d62728"
        case .finishing: "#74c476"
        case .network: "#fdae6b"
        case .createStartWait: "#bdbdbd"
        case .entrypoint: "#636363"
        case nil: "#969696"
        }
    }

    public static func render(_ a: StartupAnalysis) -> String {
        var o = OutputBuffer(capacity: 1 << 16)
        o.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>nstrace analyze</title>\n<style>\n")
        o.append("body{font:13px/1.4 sans-serif;margin:16px;color:#222}table{border-collapse:collapse;margin:8px 0}")
        o.append("td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td.l,th.l{text-align:left}")
        o.append("section.container{content-visibility:auto;contain-intrinsic-size:auto 360px;margin:18px 0;border-top:1px solid #999}")
        for p in StartupPhase.allCases.map(Optional.some) + [nil] {
            o.append(".p"); o.appendDecimal(p?.order ?? 10); o.append("{fill:"); o.append(color(p)); o.append("}")
        }
        o.append(".f{stroke:#000}")
        o.append(".incomplete{color:#b00;font-weight:bold}svg text{font:11px sans-serif}.legend span{display:inline-block;padding:0 6px;margin:2px;color:#fff}")
        o.append("</style></head><body>\n<h1>Container starts</h1>\n<p>")
        o.appendHTMLEscaped("\(a.startups.count) container start(s) in \(a.files.joined(separator: ", ")): \(a.eventsRead) events, \(a.lostEvents) lost.")
        o.append("</p>\n")
        if a.startups.isEmpty {
            o.append("<p id=\"no-start\">No container start in the trace.</p>\n</body></html>\n")
            return o.string
        }
        o.append("<p class=\"legend\">")
        for p in StartupPhase.allCases {
            o.append("<span style=\"background:"); o.append(color(p)); o.append("\">"); o.appendHTMLEscaped(p.title); o.append("</span>")
        }
        o.append("</p>\n")
        summaryTable(a, &o)
        percentileTable(StartupStatistics(a.startups), &o)
        for (i, s) in a.startups.enumerated() { section(s, index: i, &o) }
        o.append("</body></html>\n")
        return o.string
    }

    static func summaryTable(_ a: StartupAnalysis, _ o: inout OutputBuffer) {
        let phases = StartupPhase.allCases.filter { p in a.startups.contains { $0.phase(p) != nil } }
        o.append("<h2>Summary</h2>\n<table id=\"summary\"><tr><th class=\"l\">container</th><th class=\"l\">runtime</th><th class=\"l\">image</th><th>total</th>")
        for p in phases { o.append("<th>"); o.appendHTMLEscaped(p.title); o.append("</th>") }
        o.append("</tr>\n")
        for (i, s) in a.startups.enumerated() {
            o.append("<tr><td class=\"l\"><a href=\"#c"); o.appendDecimal(i); o.append("\">"); o.appendHTMLEscaped(s.label)
            o.append("</a></td><td class=\"l\">"); o.appendHTMLEscaped(s.container.runtime)
            o.append("</td><td class=\"l\">"); o.appendHTMLEscaped(s.container.image ?? "-"); o.append("</td><td>")
            if let t = s.totalNs { o.appendHTMLEscaped(DurationText.format(t)) } else { o.append("<span class=\"incomplete\">incomplete</span>") }
            o.append("</td>")
            for p in phases {
                o.append("<td>"); o.appendHTMLEscaped(s.phase(p).map { DurationText.format($0.durationNs) } ?? "-"); o.append("</td>")
            }
            o.append("</tr>\n")
        }
        o.append("</table>\n")
    }

    static func percentileTable(_ st: StartupStatistics, _ o: inout OutputBuffer) {
        o.append("<h2>Percentiles (complete starts)</h2>\n<table id=\"percentiles\"><tr><th class=\"l\">group</th><th class=\"l\">phase</th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>\n")
        for g in st.groups {
            var rows: [(String, StartupStatistics.Summary)] = []
            if let t = g.total { rows.append(("total", t)) }
            for (p, s) in g.phases { rows.append((p.title, s)) }
            for (name, s) in rows {
                o.append("<tr><td class=\"l\">"); o.appendHTMLEscaped(g.by + " " + g.key); o.append("</td><td class=\"l\">")
                o.appendHTMLEscaped(name); o.append("</td><td>"); o.appendDecimal(s.count); o.append("</td>")
                for v in [s.p50, s.p90, s.p99, s.max] { o.append("<td>"); o.appendHTMLEscaped(DurationText.format(v)); o.append("</td>") }
                o.append("</tr>\n")
            }
        }
        o.append("</table>\n")
    }

    static func section(_ s: ContainerStartup, index: Int, _ o: inout OutputBuffer) {
        o.append("<section class=\"container\" id=\"c"); o.appendDecimal(index); o.append("\"><h2 class=\"name\">")
        o.appendHTMLEscaped(s.label); o.append("</h2>\n<p>")
        o.appendHTMLEscaped("\(s.container.runtime), image \(s.container.image ?? "-"), id \(s.container.id). ")
        if let t = s.totalNs {
            o.appendHTMLEscaped("Total \(DurationText.format(t)) from the first event of the start to the entrypoint's exec.")
        } else {
            o.append("<span class=\"incomplete\">Incomplete: "); o.appendHTMLEscaped(s.incompleteReasons.joined(separator: "; ")); o.append("</span>")
        }
        o.append("</p>\n")
        timeline(s, &o)
        o.append("<ul>")
        let ns = s.namespaces.map { "\($0.how) \($0.type):[\($0.inode)]" }
        item("namespaces", ns.isEmpty ? "-" : ns.joined(separator: ", "), &o)
        item("shared with the host", s.sharedWithHost.isEmpty ? "-" : s.sharedWithHost.joined(separator: ", "), &o)
        item("mounts", s.mountsByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "), &o)
        for v in s.volumes {
            item("volume", "\(v.source) → \(v.target ?? "? (" + v.rawTarget + ")") \(v.propagation) \(v.readOnly ? "ro" : "rw")", &o)
        }
        item("failed calls, later joins, exec sessions", "\(s.failedCallCount), \(s.laterJoins), \(s.execSessions)", &o)
        for f in s.findings { item("finding (\(f.severity))", f.message, &o) }
        o.append("</ul></section>\n")
    }

    static func item(_ k: String, _ v: String, _ o: inout OutputBuffer) {
        o.append("<li><b>"); o.appendHTMLEscaped(k); o.append(":</b> "); o.appendHTMLEscaped(v); o.append("</li>")
    }

    static func timeline(_ s: ContainerStartup, _ o: inout OutputBuffer) {
        var lanes: [ContainerStartup.Process] = []
        var laneOf: [ContainerStartup.Process: Int] = [:]
        let order = s.events.indices.sorted { s.events[$0].tsNs < s.events[$1].tsNs }
        for i in order {
            let p = ContainerStartup.Process(pid: s.events[i].pid, comm: s.events[i].comm)
            if laneOf[p] == nil { laneOf[p] = lanes.count; lanes.append(p) }
        }
        let end = max(s.endNs ?? 0, s.phases.map(\.endNs).max() ?? 0, s.events.map(\.endNs).max() ?? 0)
        let span = Double(max(1, end &- s.startNs))
        func x(_ ts: UInt64) -> Double { labelWidth + Double(ts >= s.startNs ? ts - s.startNs : 0) / span * plotWidth }
        let phaseRows = s.phases.count
        let height = Double(phaseRows + lanes.count + 2) * rowHeight
        o.append("<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"")
        num(labelWidth + plotWidth + 60, &o); o.append("\" height=\""); num(height, &o); o.append("\">\n")
        o.append("<text x=\"4\" y=\"12\">0</text><text x=\""); num(labelWidth + plotWidth - 40, &o); o.append("\" y=\"12\">")
        o.appendHTMLEscaped(DurationText.format(UInt64(span))); o.append("</text>\n")
        for (r, p) in s.phases.enumerated() {
            let y = Double(r + 1) * rowHeight
            o.append("<g class=\"phase\"><text x=\"4\" y=\""); num(y + 11, &o); o.append("\">"); o.appendHTMLEscaped(p.phase.title); o.append("</text>")
            o.append("<rect x=\""); num(x(p.startNs), &o); o.append("\" y=\""); num(y + 2, &o)
            o.append("\" width=\""); num(max(2, x(p.endNs) - x(p.startNs)), &o); o.append("\" height=\""); num(rowHeight - 4, &o)
            o.append("\" fill=\""); o.append(color(p.phase)); o.append("\"><title>")
            o.appendHTMLEscaped("\(p.phase.title): +\(DurationText.format(p.startNs &- s.startNs)), \(DurationText.format(p.durationNs)), \(p.eventCount) events, "
                + p.processes.map { "\($0.comm) \($0.pid)" }.joined(separator: ", "))
            o.append("</title></rect></g>\n")
        }
        let laneTop = Double(phaseRows + 1) * rowHeight + 4
        for (l, p) in lanes.enumerated() {
            let y = laneTop + Double(l) * rowHeight
            o.append("<g class=\"lane\"><text x=\"4\" y=\""); num(y + 11, &o); o.append("\">"); o.appendHTMLEscaped("\(p.comm) \(p.pid)"); o.append("</text>")
            o.append("<line x1=\""); num(labelWidth, &o); o.append("\" x2=\""); num(labelWidth + plotWidth, &o)
            o.append("\" y1=\""); num(y + 8, &o); o.append("\" y2=\""); num(y + 8, &o); o.append("\" stroke=\"#ddd\"/></g>\n")
        }
        for i in order {
            let e = s.events[i]
            let lane = laneOf[ContainerStartup.Process(pid: e.pid, comm: e.comm)] ?? 0
            let y = laneTop + Double(lane) * rowHeight
            o.append("<rect class=\"ev p"); o.appendDecimal(s.eventPhases[i]?.order ?? 10); if e.failed { o.append(" f") }
            o.append("\" x=\""); int(x(e.tsNs), &o); o.append("\" y=\""); int(y + 2, &o)
            o.append("\" width=\""); int(max(3, x(e.endNs) - x(e.tsNs)), &o); o.append("\" height=\"12")
            o.append("\"><title>")
            // appended piece by piece: this is the report's per-event path
            o.append("+"); o.appendHTMLEscaped(DurationText.format(e.tsNs &- s.startNs)); o.append(" ")
            o.appendHTMLEscaped(e.comm); o.append(" "); o.appendDecimal(e.pid); o.append(" ")
            o.appendHTMLEscaped(e.name); o.append(" "); o.appendHTMLEscaped(e.detail); o.append(" [")
            o.appendHTMLEscaped(s.eventPhases[i]?.title ?? "-"); o.append(", "); o.appendHTMLEscaped(DurationText.format(e.latencyNs)); o.append("]")
            o.append("</title></rect>\n")
        }
        o.append("</svg>\n")
    }

    static func int(_ v: Double, _ o: inout OutputBuffer) {
        o.appendDecimal(Int64(v.rounded()))
    }

    static func num(_ v: Double, _ o: inout OutputBuffer) {
        o.append(Array(DurationText.fixed(v, 1).utf8))
    }
}
