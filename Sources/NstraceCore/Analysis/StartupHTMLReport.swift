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
        render(a, into: &o)
        return o.string
    }

    /// Appends the page to `o` (what `nstrace analyze -o html` writes out).
    public static func render(_ a: StartupAnalysis, into o: inout OutputBuffer) {
        o.reserve(for: a, bytesPerStart: 1200, bytesPerEvent: 100)   // 12.5 MB for 2000 runc starts
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
            return
        }
        o.append("<p class=\"legend\">")
        for p in StartupPhase.allCases {
            o.append("<span style=\"background:"); o.append(color(p)); o.append("\">"); o.appendHTMLEscaped(p.title); o.append("</span>")
        }
        o.append("</p>\n<noscript><p>The timelines are drawn by this page's own script (it fetches nothing): allow JavaScript to see them.</p></noscript>\n")
        summaryTable(a, &o)
        percentileTable(StartupStatistics(a.startups), &o)
        // each start's lanes once: the section needs their count (its height), the data block the rest
        let timelines = a.startups.map(Timeline.init)
        for i in a.startups.indices { section(a.startups[i], index: i, lanes: timelines[i].lanes.count, &o) }
        o.append("<script type=\"application/json\" id=\"nstrace-data\">")
        data(a, timelines, &o)
        o.append("</script>\n<script>\n")
        o.append(script)
        o.append("</script>\n</body></html>\n")
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
            // durations are digits, '.' and a unit: nothing to escape
            if let t = s.totalNs { o.appendDuration(t) } else { o.append("<span class=\"incomplete\">incomplete</span>") }
            o.append("</td>")
            for p in phases {
                o.append("<td>")
                if let phase = s.phase(p) { o.appendDuration(phase.durationNs) } else { o.append("-") }
                o.append("</td>")
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
                o.append("<tr><td class=\"l\">"); o.appendHTMLEscaped(g.by); o.append(" "); o.appendHTMLEscaped(g.key); o.append("</td><td class=\"l\">")
                o.appendHTMLEscaped(name); o.append("</td><td>"); o.appendDecimal(s.count); o.append("</td>")
                for v in [s.p50, s.p90, s.p99, s.max] { o.append("<td>"); o.appendDuration(v); o.append("</td>") }
                o.append("</tr>\n")
            }
        }
        o.append("</table>\n")
    }

    /// A start's timeline: its events in time order, and the processes that made them, one
    /// lane each in order of their first event (a process is its pid and comm: an exec that
    /// changes the comm starts another lane). Made once per start, from the stored events.
    struct Timeline {
        /// Indexes into the start's events, in time order.
        var order: [Int]
        /// Each lane's pid, and its comm (the span of its first event's).
        var lanes: [(pid: UInt32, comm: ByteSpan)] = []
        /// Each event's lane, by its index in the start's events.
        var laneOfEvent: [Int]

        init(_ s: ContainerStartup) {
            let stored = s.events.stored
            // kept events are nearly always in time order already: then the (stable) sort
            // would leave them as they are
            var inOrder = true
            for i in stored.indices.dropFirst() where stored[i].tsNs < stored[i - 1].tsNs { inOrder = false; break }
            order = inOrder ? Array(stored.indices) : stored.indices.sorted { stored[$0].tsNs < stored[$1].tsNs }
            laneOfEvent = [Int](repeating: 0, count: stored.count)
            for i in order {
                let e = stored[i]
                // a start has a few lanes: a linear search, comms compared by their bytes
                var lane = lanes.count
                for k in lanes.indices where lanes[k].pid == e.pid && Self.same(lanes[k].comm, e.comm, in: s.events.arena) {
                    lane = k
                    break
                }
                if lane == lanes.count { lanes.append((e.pid, e.comm)) }
                laneOfEvent[i] = lane
            }
        }

        /// Whether two spans hold the same bytes (an absent comm reads as empty, as
        /// `StartupEvent.comm` reads it).
        static func same(_ x: ByteSpan, _ y: ByteSpan, in arena: EventArena) -> Bool {
            arena.withBytes(x) { bx in
                arena.withBytes(y) { by in UTF8Search.equals(bx, by) }
            }
        }
    }

    static func section(_ s: ContainerStartup, index: Int, lanes: Int, _ o: inout OutputBuffer) {
        o.append("<section class=\"container\" id=\"c"); o.appendDecimal(index); o.append("\" data-i=\"")
        o.appendDecimal(index); o.append("\"><h2 class=\"name\">")
        o.appendHTMLEscaped(s.label); o.append("</h2>\n<p>")
        o.appendHTMLEscaped(s.container.runtime); o.append(", image "); o.appendHTMLEscaped(s.container.image ?? "-")
        o.append(", id "); o.appendHTMLEscaped(s.container.id); o.append(". ")
        if let t = s.totalNs {
            o.append("Total "); o.appendDuration(t); o.appendHTMLEscaped(" from the first event of the start to the entrypoint's exec.")
        } else {
            o.append("<span class=\"incomplete\">Incomplete: ")
            o.appendJoined(s.incompleteReasons, "; ") { $0.appendHTMLEscaped($1) }
            o.append("</span>")
        }
        o.append("</p>\n")
        // the timeline's place, at its final height (no jump when it is drawn)
        let rows = s.phases.count + lanes + 2
        o.append("<div class=\"tl\" style=\"height:"); o.appendDecimal(rows * rowHeight + 4); o.append("px\"></div>\n")
        let chain = s.criticalChain.links
        if !chain.isEmpty {
            o.append("<b>critical chain</b> (each waited for the one before):<ol class=\"chain\">")
            for (i, l) in chain.enumerated() {
                o.append("<li>"); o.appendHTMLEscaped(l.phase.title)
                o.append(" @"); o.appendDuration(l.startNs &- s.startNs); o.append(" +"); o.appendDuration(l.durationNs)
                if i > 0, l.waitNs > 0 { o.append(", waited "); o.appendDuration(l.waitNs) }
                o.append("</li>")
            }
            o.append("</ol>\n")
        }
        // the closures below capture these, not the whole start (a copy of it each)
        let namespaces = s.namespaces, shared = s.sharedWithHost, mounts = s.mountsByKind
        let counts = (s.failedCallCount, s.laterJoins, s.execSessions)
        o.append("<ul>")
        item("namespaces", &o) { o in
            if namespaces.isEmpty { o.append("-") }
            o.appendJoined(namespaces, ", ") {
                $0.appendHTMLEscaped($1.how); $0.append(" "); $0.appendHTMLEscaped($1.type); $0.append(":["); $0.appendDecimal($1.inode); $0.append("]")
            }
        }
        item("shared with the host", &o) { o in
            if shared.isEmpty { o.append("-") }
            o.appendJoined(shared, ", ") { $0.appendHTMLEscaped($1) }
        }
        item("mounts", &o) { o in
            o.appendJoined(mounts.sorted { $0.key < $1.key }, ", ") { $0.appendHTMLEscaped($1.key); $0.append(" "); $0.appendDecimal($1.value) }
        }
        for v in s.volumes {
            item("volume", &o) { o in
                o.appendHTMLEscaped(v.source); o.append(" → ")
                if let target = v.target { o.appendHTMLEscaped(target) } else { o.append("? ("); o.appendHTMLEscaped(v.rawTarget); o.append(")") }
                o.append(" "); o.appendHTMLEscaped(v.propagation); o.append(v.readOnly ? " ro" : " rw")
            }
        }
        item("failed calls, later joins, exec sessions", &o) { o in
            o.appendDecimal(counts.0); o.append(", "); o.appendDecimal(counts.1); o.append(", "); o.appendDecimal(counts.2)
        }
        for f in s.findings {
            o.append("<li><b>finding ("); o.appendHTMLEscaped(f.severity); o.append("):</b> "); o.appendHTMLEscaped(f.message); o.append("</li>")
        }
        o.append("</ul></section>\n")
    }

    /// `<li><b>k:</b> value</li>`, the value written by `value` (its strings HTML-escaped).
    static func item(_ k: StaticString, _ o: inout OutputBuffer, _ value: (inout OutputBuffer) -> Void) {
        o.append("<li><b>"); o.append(k); o.append(":</b> ")
        value(&o)
        o.append("</li>")
    }

    // MARK: the data block

    /// Strings once each (lane labels, call names, details repeat across starts), looked up by
    /// their bytes, numbered in the order first seen. The bytes are kept back to back in one
    /// array and found by an open-addressing index of their hashes (issue 9: a String and a
    /// dictionary entry per string were a good part of this report's time). The hash is
    /// Swift's `Hasher` (seeded per process): the strings come from traced processes, which
    /// must not be able to make the lookups collide.
    struct StringTable {
        /// String `i` is `bytes[ends[i - 1] ..< ends[i]]` (from 0 for the first).
        private var bytes: [UInt8] = []
        private var ends: [Int] = []
        private var hashes: [Int] = []
        /// Ids (-1: empty slot); a power of two in size, kept at most half full.
        private var slots = [Int32](repeating: -1, count: 1 << 10)
        private var vocabulary: [Int] = []

        var count: Int { ends.count }

        mutating func id(_ s: String) -> Int {
            var s = s
            return s.withUTF8 { id(bytes: UnsafeRawBufferPointer($0)) }
        }

        mutating func id(bytes b: UnsafeRawBufferPointer) -> Int {
            var h = Hasher()
            h.combine(bytes: b)
            let hash = h.finalize()
            var k = hash & (slots.count - 1)
            while slots[k] >= 0 {
                let i = Int(slots[k])
                if hashes[i] == hash && withBytes(i, { UTF8Search.equals($0, b) }) { return i }
                k = (k + 1) & (slots.count - 1)
            }
            bytes.append(contentsOf: b.assumingMemoryBound(to: UInt8.self))
            ends.append(bytes.count)
            hashes.append(hash)
            slots[k] = Int32(ends.count - 1)
            if 2 * ends.count > slots.count { grow() }
            return ends.count - 1
        }

        /// The same as `id(bytes:)`, for the strings of a small vocabulary (the call names: a
        /// handful, each on many events): the last ones looked up this way are compared byte
        /// for byte before any hashing.
        mutating func vocabularyID(bytes b: UnsafeRawBufferPointer) -> Int {
            let known: Int? = bytes.withUnsafeBytes { all in
                for i in vocabulary {
                    let start = i == 0 ? 0 : ends[i - 1]
                    // (a pointer, not a slice: the slice's bounds checks cost more than the compare)
                    if UTF8Search.equals(UnsafeRawBufferPointer(start: all.baseAddress.map { $0 + start }, count: ends[i] - start), b) { return i }
                }
                return nil
            }
            if let known { return known }
            let i = id(bytes: b)
            if vocabulary.count == 32 { vocabulary.removeFirst() }
            vocabulary.append(i)
            return i
        }

        /// Whether string `i` is `b`, byte for byte.
        func holds(_ i: Int, _ b: UnsafeRawBufferPointer) -> Bool {
            withBytes(i) { UTF8Search.equals($0, b) }
        }

        /// String `i`'s bytes (valid only inside `body`).
        func withBytes<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
            let start = i == 0 ? 0 : ends[i - 1]
            return bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start ..< ends[i]])) }
        }

        /// Twice the slots, every id placed again by its hash.
        private mutating func grow() {
            slots = [Int32](repeating: -1, count: 2 * slots.count)
            for i in hashes.indices {
                var k = hashes[i] & (slots.count - 1)
                while slots[k] >= 0 { k = (k + 1) & (slots.count - 1) }
                slots[k] = Int32(i)
            }
        }
    }

    /// `{"t":[phase titles],"k":[colours],"c":[start…],"s":[strings]}`; a start is
    /// `{"n":span_ns,"p":[phase,offset,duration,events,processes]…,"l":[lane label]…,"e":[…]}`
    /// with its events as seven numbers each, in time order: offset from the previous event,
    /// latency, lane, phase (10: none), call name, detail (string indexes), failed (0/1).
    static func data(_ a: StartupAnalysis, _ timelines: [Timeline], _ o: inout OutputBuffer) {
        var table = StringTable()
        // a string to look up (a detail line, a lane's label) is formatted here first
        var line = OutputBuffer(capacity: 1024)
        let scratch = StoredEventDetail.Scratch()
        // The detail ids of the start before, by position in time order, and this start's.
        // Starts by one runtime make the same calls in the same order: a line that repeats is
        // nearly always the line at the same place in the start before (70,000 of 112,000 at
        // 2000 runc starts), found by comparing their bytes instead of hashing the line (the
        // keyed hash of every line was a sixth of this report). The same id either way: the
        // table holds each string once.
        var previousDetails: [Int] = [], details: [Int] = []
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
        for k in a.startups.indices {
            if k > 0 { o.append(byte: 0x2C) }
            let s = a.startups[k], timeline = timelines[k]
            let stored = s.events.stored
            var end = max(s.endNs ?? 0, s.phases.lazy.map(\.endNs).max() ?? 0)
            for e in stored { end = max(end, e.endNs) }
            o.append("{\"n\":"); o.appendDecimal(max(1, end &- s.startNs)); o.append(",\"p\":[")
            for (i, p) in s.phases.enumerated() {
                if i > 0 { o.append(byte: 0x2C) }
                o.append(byte: 0x5B); o.appendDecimal(p.phase.order); o.append(byte: 0x2C)
                o.appendDecimal(p.startNs &- s.startNs); o.append(byte: 0x2C); o.appendDecimal(p.durationNs); o.append(byte: 0x2C)
                o.appendDecimal(p.eventCount); o.append(byte: 0x2C)
                line.removeAll()
                line.appendJoined(p.processes, ", ") { $0.append(utf8: $1.comm); $0.append(" "); $0.appendDecimal($1.pid) }
                o.appendDecimal(line.withUnsafeBytes { table.id(bytes: $0) }); o.append(byte: 0x5D)
            }
            o.append("],\"l\":[")
            for (i, lane) in timeline.lanes.enumerated() {
                if i > 0 { o.append(byte: 0x2C) }
                line.removeAll()
                s.events.arena.withBytes(lane.comm) { line.append(bytes: $0) }
                line.append(" "); line.appendDecimal(lane.pid)
                o.appendDecimal(line.withUnsafeBytes { table.id(bytes: $0) })
            }
            o.append("],\"e\":[")
            var previous = s.startNs
            for (n, i) in timeline.order.enumerated() {
                let e = stored[i]
                let ts = max(e.tsNs, previous)
                let name = s.events.arena.withBytes(e.name) { table.vocabularyID(bytes: $0) }
                line.removeAll()
                s.events.appendDetail(i, into: &line, scratch: scratch)
                let detail = line.withUnsafeBytes { b in
                    n < previousDetails.count && table.holds(previousDetails[n], b) ? previousDetails[n] : table.id(bytes: b)
                }
                details.append(detail)
                // the event's numbers in one write (an append each, with its own capacity
                // check, was a fifth of this block's time besides the details)
                let numbers = (ts - previous, e.latencyNs, UInt64(timeline.laneOfEvent[i]), UInt64(s.eventPhases[i]?.order ?? 10),
                               UInt64(name), UInt64(detail))
                let first = n == 0, failed = e.failed
                o.write(maxBytes: 1 + 6 * 21 + 1) { p in
                    var k = 0
                    if !first { p[0] = 0x2C; k = 1 }
                    k += decimalAndComma(numbers.0, p + k)
                    k += decimalAndComma(numbers.1, p + k)
                    k += decimalAndComma(numbers.2, p + k)
                    k += decimalAndComma(numbers.3, p + k)
                    k += decimalAndComma(numbers.4, p + k)
                    k += decimalAndComma(numbers.5, p + k)
                    p[k] = failed ? 0x31 : 0x30
                    return k + 1
                }
                previous = ts
            }
            swap(&previousDetails, &details)
            details.removeAll(keepingCapacity: true)
            o.append("]}")
        }
        o.append("],\"s\":[")
        for i in 0 ..< table.count {
            if i > 0 { o.append(byte: 0x2C) }
            table.withBytes(i) { o.appendJSONStringForHTMLScript($0) }
        }
        o.append("]}")
    }

    /// Writes `v` in decimal and a comma at `p` (room for 21 bytes); returns the count written.
    @inline(__always)
    static func decimalAndComma(_ v: UInt64, _ p: UnsafeMutablePointer<UInt8>) -> Int {
        let n = OutputBuffer.decimalDigits(v)
        OutputBuffer.writeDigits(v, n, p)
        p[n] = 0x2C
        return n + 1
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
