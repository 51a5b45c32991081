#if canImport(Glibc)
import Glibc
#endif

/// `nstrace analyze -o html`: one self-contained page (no network, no external script, no web
/// font; a Content-Security-Policy forbids any fetch): the summary and percentile tables, then
/// per container a section with its critical chain and inventory, and an SVG timeline with its
/// phases as coloured bars and a lane per process, every event a mark whose `<title>` holds its
/// detail.
///
/// Compact for 1,000 containers: the timelines are not markup but one JSON data block (strings
/// once in a table, events as numbers), drawn by the page's own script when a section comes
/// near the view (the first ones at once). Everything else is plain HTML, readable without the
/// script. Strings are escaped in Escaping.swift: `appendHTMLEscaped` for the markup,
/// `appendJSONStringForHTMLScript` for the data block; the script only sets `textContent`.
public enum StartupHTMLReport {
    static let labelWidth = 190
    static let plotWidth = 860
    static let rowHeight = 16

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
        o.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n")
        o.append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n")
        o.append("<title>nstrace analyze</title>\n<style>\n")
        o.append("body{font:13px/1.4 sans-serif;margin:16px;color:#222}table{border-collapse:collapse;margin:8px 0}")
        o.append("td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td.l,th.l{text-align:left}")
        o.append("section.container{content-visibility:auto;contain-intrinsic-size:auto 480px;margin:18px 0;border-top:1px solid #999}")
        for p in StartupPhase.allCases.map(Optional.some) + [nil] {
            o.append(".p"); o.appendDecimal(p?.order ?? 10); o.append("{fill:"); o.append(color(p)); o.append("}")
        }
        o.append(".f{stroke:#000}ol.chain{margin:4px 0}")
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
        o.append("</p>\n<noscript><p>The timelines are drawn by this page's own script (it fetches nothing): allow JavaScript to see them.</p></noscript>\n")
        summaryTable(a, &o)
        percentileTable(StartupStatistics(a.startups), &o)
        for (i, s) in a.startups.enumerated() { section(s, index: i, &o) }
        o.append("<script type=\"application/json\" id=\"nstrace-data\">")
        data(a, &o)
        o.append("</script>\n<script>\n")
        o.append(script)
        o.append("</script>\n</body></html>\n")
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

    /// The processes of a start's timeline, one lane each, in order of their first event; and
    /// each event's lane (by its index in `s.events`).
    static func lanes(_ s: ContainerStartup) -> (order: [Int], lanes: [ContainerStartup.Process], laneOfEvent: [Int]) {
        var lanes: [ContainerStartup.Process] = []
        var laneOf: [ContainerStartup.Process: Int] = [:]
        var laneOfEvent = [Int](repeating: 0, count: s.events.count)
        let stored = s.events.stored
        let order = stored.indices.sorted { stored[$0].tsNs < stored[$1].tsNs }
        for i in order {
            let p = ContainerStartup.Process(pid: stored[i].pid, comm: s.events[i].comm)
            if laneOf[p] == nil { laneOf[p] = lanes.count; lanes.append(p) }
            laneOfEvent[i] = laneOf[p]!
        }
        return (order, lanes, laneOfEvent)
    }

    static func section(_ s: ContainerStartup, index: Int, _ o: inout OutputBuffer) {
        o.append("<section class=\"container\" id=\"c"); o.appendDecimal(index); o.append("\" data-i=\"")
        o.appendDecimal(index); o.append("\"><h2 class=\"name\">")
        o.appendHTMLEscaped(s.label); o.append("</h2>\n<p>")
        o.appendHTMLEscaped("\(s.container.runtime), image \(s.container.image ?? "-"), id \(s.container.id). ")
        if let t = s.totalNs {
            o.appendHTMLEscaped("Total \(DurationText.format(t)) from the first event of the start to the entrypoint's exec.")
        } else {
            o.append("<span class=\"incomplete\">Incomplete: "); o.appendHTMLEscaped(s.incompleteReasons.joined(separator: "; ")); o.append("</span>")
        }
        o.append("</p>\n")
        // the timeline's place, at its final height (no jump when it is drawn)
        let rows = s.phases.count + Set(s.events.map { ContainerStartup.Process(pid: $0.pid, comm: $0.comm) }).count + 2
        o.append("<div class=\"tl\" style=\"height:"); o.appendDecimal(rows * rowHeight + 4); o.append("px\"></div>\n")
        let chain = s.criticalChain.links
        if !chain.isEmpty {
            o.append("<b>critical chain</b> (each waited for the one before):<ol class=\"chain\">")
            for (i, l) in chain.enumerated() {
                o.append("<li>")
                var text = "\(l.phase.title) @\(DurationText.format(l.startNs &- s.startNs)) +\(DurationText.format(l.durationNs))"
                if i > 0, l.waitNs > 0 { text += ", waited \(DurationText.format(l.waitNs))" }
                o.appendHTMLEscaped(text); o.append("</li>")
            }
            o.append("</ol>\n")
        }
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

    // MARK: the data block

    /// Strings once each (lane labels, call names, details repeat across starts), looked up by
    /// their bytes: a detail line is formatted into a reused buffer and becomes a String only
    /// the first time it is seen (issue 9: one String per event was most of this report's time).
    struct StringTable {
        /// By the hash of the bytes: the ids of the strings with that hash.
        var index: [Int: [Int]] = [:]
        var strings: [String] = []

        mutating func id(_ s: String) -> Int {
            var s = s
            return s.withUTF8 { id(bytes: UnsafeRawBufferPointer($0)) }
        }

        mutating func id(bytes: UnsafeRawBufferPointer) -> Int {
            var h = Hasher()
            h.combine(bytes: bytes)
            let key = h.finalize()
            for i in index[key] ?? [] where Self.same(&strings[i], bytes) { return i }
            strings.append(String(decoding: bytes, as: UTF8.self))
            index[key, default: []].append(strings.count - 1)
            return strings.count - 1
        }

        private static func same(_ s: inout String, _ b: UnsafeRawBufferPointer) -> Bool {
            s.withUTF8 { $0.count == b.count && ($0.count == 0 || memcmp($0.baseAddress!, b.baseAddress!, b.count) == 0) }
        }
    }

    /// `{"t":[phase titles],"k":[colours],"c":[start…],"s":[strings]}`; a start is
    /// `{"n":span_ns,"p":[phase,offset,duration,events,processes]…,"l":[lane label]…,"e":[…]}`
    /// with its events as seven numbers each, in time order: offset from the previous event,
    /// latency, lane, phase (10: none), call name, detail (string indexes), failed (0/1).
    static func data(_ a: StartupAnalysis, _ o: inout OutputBuffer) {
        var table = StringTable()
        o.append("{\"t\":[")
        for (i, p) in StartupPhase.allCases.enumerated() {
            if i > 0 { o.append(byte: 0x2C) }
            o.appendJSONStringForHTMLScript(p.title)
        }
        // colours by phase (10: none), as attributes: a timeline copied out of the page keeps them
        o.append("],\"k\":[")
        for p in StartupPhase.allCases.map(Optional.some) + [nil] {
            if p != StartupPhase.allCases.first { o.append(byte: 0x2C) }
            o.append(byte: 0x22); o.append(color(p)); o.append(byte: 0x22)
        }
        o.append("],\"c\":[")
        for (k, s) in a.startups.enumerated() {
            if k > 0 { o.append(byte: 0x2C) }
            let (order, lanes, laneOfEvent) = lanes(s)
            let end = max(s.endNs ?? 0, s.phases.map(\.endNs).max() ?? 0, s.events.stored.map(\.endNs).max() ?? 0)
            o.append("{\"n\":"); o.appendDecimal(max(1, end &- s.startNs)); o.append(",\"p\":[")
            for (i, p) in s.phases.enumerated() {
                if i > 0 { o.append(byte: 0x2C) }
                o.append(byte: 0x5B); o.appendDecimal(p.phase.order); o.append(byte: 0x2C)
                o.appendDecimal(p.startNs &- s.startNs); o.append(byte: 0x2C); o.appendDecimal(p.durationNs); o.append(byte: 0x2C)
                o.appendDecimal(p.eventCount); o.append(byte: 0x2C)
                o.appendDecimal(table.id(p.processes.map { "\($0.comm) \($0.pid)" }.joined(separator: ", "))); o.append(byte: 0x5D)
            }
            o.append("],\"l\":[")
            for (i, p) in lanes.enumerated() {
                if i > 0 { o.append(byte: 0x2C) }
                o.appendDecimal(table.id(p.comm + " " + String(p.pid)))
            }
            o.append("],\"e\":[")
            var previous = s.startNs
            var line = OutputBuffer(capacity: 1024)
            for (n, i) in order.enumerated() {
                let e = s.events.stored[i]
                if n > 0 { o.append(byte: 0x2C) }
                let ts = max(e.tsNs, previous)
                o.appendDecimal(ts - previous); o.append(byte: 0x2C); previous = ts
                o.appendDecimal(e.latencyNs); o.append(byte: 0x2C)
                o.appendDecimal(laneOfEvent[i]); o.append(byte: 0x2C)
                o.appendDecimal(s.eventPhases[i]?.order ?? 10); o.append(byte: 0x2C)
                o.appendDecimal(s.events.arena.withBytes(e.name) { table.id(bytes: $0) }); o.append(byte: 0x2C)
                line.removeAll()
                s.events.appendDetail(i, into: &line)
                o.appendDecimal(line.withUnsafeBytes { table.id(bytes: $0) }); o.append(byte: 0x2C)
                o.append(byte: e.failed ? 0x31 : 0x30)
            }
            o.append("]}")
        }
        o.append("],\"s\":[")
        for (i, s) in table.strings.enumerated() {
            if i > 0 { o.append(byte: 0x2C) }
            o.appendJSONStringForHTMLScript(s)
        }
        o.append("]}")
    }

    // MARK: the script

    /// Draws a section's timeline from the data block: SVG made with createElementNS, every
    /// string set as textContent (never parsed as markup). Durations as DurationText writes them.
    static let script: StaticString = """
        (function () {
        "use strict";
        var D = JSON.parse(document.getElementById("nstrace-data").textContent);
        var NS = "http://www.w3.org/2000/svg", LW = 190, PW = 860, RH = 16, S = D.s, T = D.t, K = D.k;
        // timelines drawn at once; the others when their section comes near the view
        var AT_ONCE = 20;
        function dur(ns) {
          if (ns < 1e3) return ns + "ns";
          if (ns < 1e6) return (ns / 1e3).toFixed(ns < 1e4 ? 1 : 0) + "\\u00b5s";
          if (ns < 1e9) return (ns / 1e6).toFixed(ns < 1e7 ? 2 : 1) + "ms";
          return (ns / 1e9).toFixed(2) + "s";
        }
        function node(name, attrs, parent) {
          var e = document.createElementNS(NS, name);
          for (var k in attrs) e.setAttribute(k, attrs[k]);
          if (parent) parent.appendChild(e);
          return e;
        }
        function text(parent, x, y, s) { node("text", {x: x, y: y}, parent).textContent = s; }
        function title(parent, s) { node("title", {}, parent).textContent = s; }
        function draw(sec) {
          if (sec.getAttribute("data-drawn")) return;
          sec.setAttribute("data-drawn", "1");
          var c = D.c[+sec.getAttribute("data-i")], span = c.n, p = c.p, l = c.l, e = c.e;
          function x(off) { return LW + off / span * PW; }
          var rows = p.length + l.length + 2, top = (p.length + 1) * RH + 4;
          var svg = node("svg", {"class": "timeline", width: LW + PW + 60, height: rows * RH});
          text(svg, 4, 12, "0");
          text(svg, LW + PW - 40, 12, dur(span));
          for (var r = 0; r < p.length; r++) {
            var q = p[r], y = (r + 1) * RH, g = node("g", {"class": "phase"}, svg);
            text(g, 4, y + 11, T[q[0]]);
            var w = Math.max(2, x(q[1] + q[2]) - x(q[1]));
            var rect = node("rect", {"class": "p" + q[0], fill: K[q[0]], x: x(q[1]).toFixed(1), y: y + 2, width: w.toFixed(1), height: RH - 4}, g);
            title(rect, T[q[0]] + ": +" + dur(q[1]) + ", " + dur(q[2]) + ", " + q[3] + " events, " + S[q[4]]);
          }
          for (var k = 0; k < l.length; k++) {
            var ly = top + k * RH, lg = node("g", {"class": "lane"}, svg);
            text(lg, 4, ly + 11, S[l[k]]);
            node("line", {x1: LW, x2: LW + PW, y1: ly + 8, y2: ly + 8, stroke: "#ddd"}, lg);
          }
          var off = 0;
          for (var i = 0; i + 6 < e.length; i += 7) {
            off += e[i];
            var lat = e[i + 1], lane = e[i + 2], ph = e[i + 3];
            var m = node("rect", {"class": "ev p" + ph + (e[i + 6] ? " f" : ""), fill: K[Math.min(ph, 10)], x: Math.round(x(off)), y: top + lane * RH + 2,
                                  width: Math.max(3, Math.round(x(off + lat) - x(off))), height: 12}, svg);
            title(m, "+" + dur(off) + " " + S[l[lane]] + " " + S[e[i + 4]] + " " + S[e[i + 5]] + " [" + (ph < T.length ? T[ph] : "-") + ", " + dur(lat) + "]");
          }
          sec.querySelector(".tl").appendChild(svg);
        }
        var secs = document.querySelectorAll("section.container");
        var lazy = "IntersectionObserver" in window;
        var io = lazy ? new IntersectionObserver(function (entries) {
          entries.forEach(function (en) { if (en.isIntersecting) { draw(en.target); io.unobserve(en.target); } });
        }, {rootMargin: "1000px"}) : null;
        for (var n = 0; n < secs.length; n++) {
          if (n < AT_ONCE || !lazy) draw(secs[n]); else io.observe(secs[n]);
        }
        })();

        """
}
