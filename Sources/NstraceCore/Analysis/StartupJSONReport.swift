/// `nstrace analyze -o json`: one JSON document (schema in docs/analysis.md). Valid JSON
/// whatever the strings hold: every string goes through `OutputBuffer.appendJSONString`.
public enum StartupJSONReport {
    public static func render(_ a: StartupAnalysis) -> String {
        let j = JSONWriter()
        j.object {
            j.key("files"); j.array(a.files) { j.string($0) }
            j.key("events"); j.number(a.eventsRead)
            j.key("lost_events"); j.number(a.lostEvents)
            j.key("cut_files"); j.array(a.cutFiles) { j.string($0) }
            j.key("known_containers"); j.array(a.knownContainers) { container($0, j) }
            j.key("containers"); j.array(a.startups) { startup($0, j) }
            j.key("statistics"); statistics(StartupStatistics(a.startups), j)
        }
        return j.text + "\n"
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
                for (k, v) in s.mountsByKind.sorted(by: { $0.key < $1.key }) { j.key(k); j.number(UInt64(v)) }
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
                    j.key("events"); j.array(f.events.filter { $0 < s.events.count }) { event(s.events[$0], s, j) }
                }
            }
            j.key("event_count"); j.number(UInt64(s.eventCount))
            j.key("events_dropped"); j.number(UInt64(s.eventsDropped))
            j.key("lost_events"); j.number(s.lostEvents)
        }
    }

    static func event(_ e: StartupEvent, _ s: ContainerStartup, _ j: JSONWriter) {
        j.object {
            j.key("offset_ns"); j.number(e.tsNs &- s.startNs)
            j.key("latency_ns"); j.number(e.latencyNs)
            j.key("pid"); j.number(UInt64(e.pid))
            j.key("comm"); j.string(e.comm)
            j.key("event"); j.string(e.name)
            j.key("detail"); j.string(e.detail)
        }
    }

    static func statistics(_ st: StartupStatistics, _ j: JSONWriter) {
        j.array(st.groups) { g in
            j.object {
                j.key("by"); j.string(g.by)
                j.key("key"); j.string(g.key)
                j.key("total"); summary(g.total, j)
                j.key("phases"); j.object {
                    for (p, s) in g.phases { j.key(p.rawValue); summary(s, j) }
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

/// A minimal streaming JSON writer over `OutputBuffer` (commas handled here).
final class JSONWriter {
    private var out = OutputBuffer(capacity: 1 << 14)
    private var needComma = false

    var text: String { out.string }

    private func comma() {
        if needComma { out.append(byte: 0x2C) }
        needComma = true
    }

    func key(_ k: String) {
        comma()
        out.appendJSONString(Array(k.utf8))
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

    func array<T>(_ items: [T], _ body: (T) -> Void) {
        comma()
        out.append(byte: 0x5B)
        needComma = false
        for i in items { body(i) }
        out.append(byte: 0x5D)
        needComma = true
    }

    func string(_ s: String) { comma(); out.appendJSONString(Array(s.utf8)) }
    func optional(_ s: String?) { if let s { string(s) } else { null() } }
    func number(_ v: UInt64) { comma(); out.appendDecimal(v) }
    func signed(_ v: Int64) { comma(); out.appendDecimal(v) }
    func double(_ v: Double) { comma(); out.append(Array(DurationText.fixed(v, 3).utf8)) }
    func bool(_ v: Bool) { comma(); if v { out.append("true") } else { out.append("false") } }
    func null() { comma(); out.append("null") }
}
