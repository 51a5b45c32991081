/// `nstrace analyze -o json`: one JSON document (schema in docs/analysis.md). Valid JSON
/// whatever the strings hold: every string goes through `OutputBuffer.appendJSONString`.
public enum StartupJSONReport {
    public static func render(_ a: StartupAnalysis) -> String {
        var o = OutputBuffer(capacity: 1 << 16)
        render(a, into: &o)
        return o.string
    }

    /// Appends the report to `o` (what `nstrace analyze -o json` writes out).
    public static func render(_ a: StartupAnalysis, into o: inout OutputBuffer) {
        o.reserve(for: a, bytesPerStart: 3900)   // 3.7 KB for a runc start
        let j = JSONWriter(writingInto: &o)
        j.object {
            j.key("files"); j.array(a.files) { j.string($0) }
            j.key("events"); j.number(a.eventsRead)
            j.key("lost_events"); j.number(a.lostEvents)
            j.key("cut_files"); j.array(a.cutFiles) { j.string($0) }
            j.key("known_containers"); j.array(a.knownContainers) { container($0, j) }
            j.key("containers"); j.array(a.startups.indices) { startup(a.startups[$0], j) }
            j.key("statistics"); statistics(StartupStatistics(a.startups), j)
        }
        j.finish(into: &o)
        o.append("\n")
    }

    static func container(_ c: AnalysisEvent.Container, _ j: JSONWriter) {
        j.object {
            j.key("id"); j.string(c.id)
            j.key("name"); j.optional(c.name)
            j.key("image"); j.optional(c.image)
            j.key("runtime"); j.string(c.runtime)
        }
    }

    static func startup(_ s: ContainerStartup, _ j: JSONWriter) {
        j.object {
            j.key("container"); container(s.container, j)
            j.key("complete"); j.bool(s.complete)
            j.key("incomplete_reasons"); j.array(s.incompleteReasons) { j.string($0) }
            j.key("start_ns"); j.number(s.startNs)
            j.key("total_ns"); if let t = s.totalNs { j.number(t) } else { j.null() }
            j.key("phases"); j.array(s.phases) { p in
                j.object {
                    j.key("phase"); j.string(p.phase.rawValue)
                    j.key("offset_ns"); j.number(p.startNs &- s.startNs)
                    j.key("duration_ns"); j.number(p.durationNs)
                    j.key("events"); j.number(UInt64(p.eventCount))
                    j.key("processes"); j.array(p.processes) { pr in
                        j.object { j.key("pid"); j.number(UInt64(pr.pid)); j.key("comm"); j.string(pr.comm) }
                    }
                }
            }
            j.key("critical_chain"); j.array(s.criticalChain.links) { l in
                j.object {
                    j.key("phase"); j.string(l.phase.rawValue)
                    j.key("offset_ns"); j.number(l.startNs &- s.startNs)
                    j.key("duration_ns"); j.number(l.durationNs)
                    j.key("wait_ns"); j.number(l.waitNs)
                }
            }
            j.key("namespaces"); j.array(s.namespaces) { n in
                j.object {
                    j.key("type"); j.string(n.type)
                    j.key("inode"); j.number(UInt64(n.inode))
                    j.key("how"); j.string(n.how)
                    j.key("pid"); j.number(UInt64(n.pid))
                }
            }
            j.key("shared_with_host"); j.array(s.sharedWithHost) { j.string($0) }
            j.key("mounts_by_kind"); j.object {
                for (k, v) in s.mountsByKind.sorted(by: { $0.key < $1.key }) { j.key(text: k); j.number(UInt64(v)) }
            }
            j.key("volumes"); j.array(s.volumes) { v in
                j.object {
                    j.key("source"); j.string(v.source)
                    j.key("target"); j.optional(v.target)
                    j.key("raw_target"); j.string(v.rawTarget)
                    j.key("propagation"); j.string(v.propagation)
                    j.key("read_only"); j.bool(v.readOnly)
                }
            }
            j.key("failed_calls"); j.number(UInt64(s.failedCallCount))
            j.key("later_joins"); j.number(UInt64(s.laterJoins))
            j.key("exec_sessions"); j.number(UInt64(s.execSessions))
            j.key("findings"); j.array(s.findings) { f in
                j.object {
                    j.key("kind"); j.string(f.kind)
                    j.key("severity"); j.string(f.severity)
                    j.key("message"); j.string(f.message)
                    j.key("events"); j.array(f.events.filter { $0 < s.events.count }) { event($0, s, j) }
                }
            }
            j.key("event_count"); j.number(UInt64(s.eventCount))
            j.key("events_dropped"); j.number(UInt64(s.eventsDropped))
            j.key("lost_events"); j.number(s.lostEvents)
        }
    }

    /// Event `i` of `s`, its strings straight from the start's arena (no StartupEvent Strings).
    static func event(_ i: Int, _ s: ContainerStartup, _ j: JSONWriter) {
        let e = s.events.stored[i]
        j.object {
            j.key("offset_ns"); j.number(e.tsNs &- s.startNs)
            j.key("latency_ns"); j.number(e.latencyNs)
            j.key("pid"); j.number(UInt64(e.pid))
            j.key("comm"); s.events.arena.withBytes(e.comm) { j.string(bytes: $0) }
            j.key("event"); s.events.arena.withBytes(e.name) { j.string(bytes: $0) }
            j.key("detail"); j.detail(i, of: s.events)
        }
    }

    static func statistics(_ st: StartupStatistics, _ j: JSONWriter) {
        j.array(st.groups) { g in
            j.object {
                j.key("by"); j.string(g.by)
                j.key("key"); j.string(g.key)
                j.key("total"); summary(g.total, j)
                j.key("phases"); j.object {
                    for (p, s) in g.phases { j.key(text: p.rawValue); summary(s, j) }
                }
            }
        }
    }

    static func summary(_ s: StartupStatistics.Summary?, _ j: JSONWriter) {
        guard let s else { j.null(); return }
        j.object {
            j.key("count"); j.number(UInt64(s.count))
            j.key("p50_ns"); j.number(s.p50)
            j.key("p90_ns"); j.number(s.p90)
            j.key("p99_ns"); j.number(s.p99)
            j.key("max_ns"); j.number(s.max)
        }
    }
}

/// A minimal streaming JSON writer over `OutputBuffer` (commas handled here). Keys are the
/// reports' own names (StaticStrings: copied, no escaping needed); strings go through
/// `OutputBuffer.appendJSONString`.
final class JSONWriter {
    private var out = OutputBuffer(capacity: 1 << 14)
    /// A detail line is formatted here, then written as a JSON string.
    private var line = OutputBuffer(capacity: 1024)
    private let scratch = StoredEventDetail.Scratch()
    private var needComma = false

    init() {}

    /// A writer that appends to `buffer`'s content: it holds the buffer (left empty) until
    /// `finish(into:)` gives it back, so that the report is written once, in place.
    init(writingInto buffer: inout OutputBuffer) {
        swap(&out, &buffer)
    }

    /// Gives back the buffer taken by `init(writingInto:)`, with what was written.
    func finish(into buffer: inout OutputBuffer) {
        swap(&out, &buffer)
    }

    var text: String { out.string }

    private func comma() {
        if needComma { out.append(byte: 0x2C) }
        needComma = true
    }

    /// A key of the schema (plain ASCII names).
    func key(_ k: StaticString) {
        // one write for the comma, the quoted key and the colon: a key is most of a report's
        // appends, and each append to a class's buffer is checked for exclusive access
        guard k.hasPointerRepresentation else {
            comma(); out.appendQuoted(k); out.append(byte: 0x3A); needComma = false
            return
        }
        let n = k.utf8CodeUnitCount, src = k.utf8Start, first = needComma
        out.write(maxBytes: n + 4) { p in
            var o = 0
            if first { p[0] = 0x2C; o = 1 }
            p[o] = 0x22
            copyKey(src, n, to: p + o + 1)
            p[o + n + 1] = 0x22
            p[o + n + 2] = 0x3A
            return o + n + 3
        }
        needComma = false
    }

    /// Copies a key's `n` bytes: up to 16 with two overlapping loads and stores (a key is a
    /// few bytes, and a memmove call cost more than the copy: a quarter of a key's write).
    @inline(__always)
    private func copyKey(_ src: UnsafePointer<UInt8>, _ n: Int, to dst: UnsafeMutablePointer<UInt8>) {
        let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
        if n >= 8 && n <= 16 {
            let a = s.loadUnaligned(as: UInt64.self), b = s.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            d.storeBytes(of: a, as: UInt64.self)
            d.storeBytes(of: b, toByteOffset: n - 8, as: UInt64.self)
        } else if n >= 4 && n < 8 {
            let a = s.loadUnaligned(as: UInt32.self), b = s.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
            d.storeBytes(of: a, as: UInt32.self)
            d.storeBytes(of: b, toByteOffset: n - 4, as: UInt32.self)
        } else if n < 4 {
            for i in 0 ..< n { dst[i] = src[i] }
        } else {
            dst.update(from: src, count: n)
        }
    }

    /// A key from the data (e.g. a mount kind), escaped.
    func key(text k: String) {
        comma()
        out.appendJSONString(k)
        out.append(byte: 0x3A)
        needComma = false
    }

    func object(_ body: () -> Void) {
        comma()
        out.append(byte: 0x7B)
        needComma = false
        body()
        out.append(byte: 0x7D)
        needComma = true
    }

    func array<C: Collection>(_ items: C, _ body: (C.Element) -> Void) {
        comma()
        out.append(byte: 0x5B)
        needComma = false
        for i in items { body(i) }
        out.append(byte: 0x5D)
        needComma = true
    }

    func string(_ s: String) { comma(); out.appendJSONString(s) }
    func string(bytes: UnsafeRawBufferPointer) { comma(); out.appendJSONString(bytes) }
    /// Event `i`'s detail line, as a JSON string.
    func detail(_ i: Int, of events: StartupEvents) {
        line.removeAll()
        events.appendDetail(i, into: &line, scratch: scratch)
        comma()
        line.withUnsafeBytes { out.appendJSONString($0) }
    }
    func optional(_ s: String?) { if let s { string(s) } else { null() } }
    func number(_ v: UInt64) { comma(); out.appendDecimal(v) }
    func signed(_ v: Int64) { comma(); out.appendDecimal(v) }
    func double(_ v: Double) { comma(); DurationText.appendFixed(v, 3, into: &out) }
    func bool(_ v: Bool) { comma(); if v { out.append("true") } else { out.append("false") } }
    func null() { comma(); out.append("null") }
}
