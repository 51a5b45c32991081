/// `nstrace diff A B`: two sets of container starts compared phase by phase (absolute change
/// and ratio of the p50, with p90 / p99 where there are several starts), and what appeared
/// or disappeared: namespaces, mount kinds, volumes, findings.
public struct StartupDiff: Sendable {
    public struct Row: Sendable {
        /// `total` or a phase's name.
        public var name: String
        public var a: StartupStatistics.Summary?
        public var b: StartupStatistics.Summary?
        public var changeNs: Int64? {
            guard let a, let b else { return nil }
            return Int64(bitPattern: b.p50 &- a.p50)
        }
        public var ratio: Double? {
            guard let a, let b, a.p50 > 0 else { return nil }
            return Double(b.p50) / Double(a.p50)
        }
    }

    public struct Change: Sendable, Equatable {
        /// namespace, mount_kind, volume, finding
        public var what: String
        public var item: String
        /// appeared, disappeared, or for mount kinds `A → B` counts
        public var change: String
    }

    public var countA: Int
    public var countB: Int
    public var rows: [Row]
    public var changes: [Change]

    public init(a: [ContainerStartup], b: [ContainerStartup]) {
        let ca = a.filter(\.complete), cb = b.filter(\.complete)
        countA = a.count
        countB = b.count
        var rows = [Row(name: "total", a: .init(ca.compactMap(\.totalNs)), b: .init(cb.compactMap(\.totalNs)))]
        for p in StartupPhase.allCases {
            let ra = StartupStatistics.Summary(ca.compactMap { $0.phase(p)?.durationNs })
            let rb = StartupStatistics.Summary(cb.compactMap { $0.phase(p)?.durationNs })
            if ra != nil || rb != nil { rows.append(.init(name: p.rawValue, a: ra, b: rb)) }
        }
        self.rows = rows
        var changes: [Change] = []
        func sets(_ what: String, _ f: (ContainerStartup) -> [String]) {
            let sa = Set(a.flatMap(f)), sb = Set(b.flatMap(f))
            for x in sb.subtracting(sa).sorted() { changes.append(.init(what: what, item: x, change: "appeared")) }
            for x in sa.subtracting(sb).sorted() { changes.append(.init(what: what, item: x, change: "disappeared")) }
        }
        sets("namespace") { s in s.namespaces.map { "\($0.how) \($0.type)" } + s.sharedWithHost.map { "shared with host \($0)" } }
        sets("volume") { s in s.volumes.map { "\($0.source) → \($0.target ?? "?") \($0.propagation) \($0.readOnly ? "ro" : "rw")" } }
        sets("finding") { s in s.findings.map(\.key) }
        // mount kinds: the mean count per start, when it changed
        var kinds = Set<String>()
        for s in a + b { kinds.formUnion(s.mountsByKind.keys) }
        for k in kinds.sorted() {
            let ma = Self.mean(a.map { $0.mountsByKind[k] ?? 0 }), mb = Self.mean(b.map { $0.mountsByKind[k] ?? 0 })
            if ma != mb {
                changes.append(.init(what: "mount_kind", item: k,
                                     change: ma == 0 ? "appeared" : mb == 0 ? "disappeared" : "\(DurationText.fixed(ma, 1)) → \(DurationText.fixed(mb, 1)) per start"))
            }
        }
        self.changes = changes
    }

    static func mean(_ v: [Int]) -> Double { v.isEmpty ? 0 : Double(v.reduce(0, +)) / Double(v.count) }

    public func text() -> String {
        var out = "nstrace diff: A has \(countA) container start\(countA == 1 ? "" : "s"), B has \(countB) (phases over complete starts)\n"
        out += StartupTextReport.pad("phase", 22) + StartupTextReport.pad("A p50", 10) + StartupTextReport.pad("B p50", 10)
            + StartupTextReport.pad("change", 11) + "ratio\n"
        for r in rows {
            var line = StartupTextReport.pad(r.name, 22)
            line += StartupTextReport.pad(r.a.map { DurationText.format($0.p50) } ?? "absent", 10)
            line += StartupTextReport.pad(r.b.map { DurationText.format($0.p50) } ?? "absent", 10)
            line += StartupTextReport.pad(r.changeNs.map(DurationText.signed) ?? "-", 11)
            line += r.ratio.map { "×" + DurationText.fixed($0, 2) } ?? "-"
            if let a = r.a, let b = r.b, a.count > 1 || b.count > 1 {
                line += "   p90 \(DurationText.format(a.p90)) → \(DurationText.format(b.p90)), p99 \(DurationText.format(a.p99)) → \(DurationText.format(b.p99))"
            }
            out += line + "\n"
        }
        if changes.isEmpty { out += "no namespace, mount, volume or finding appeared or disappeared\n" }
        for c in changes { out += "\(c.what) \(c.item): \(c.change)\n" }
        return out
    }

    public func json() -> String {
        let j = JSONWriter()
        j.object {
            j.key("a_starts"); j.number(UInt64(countA))
            j.key("b_starts"); j.number(UInt64(countB))
            j.key("phases"); j.array(rows) { r in
                j.object {
                    j.key("phase"); j.string(r.name)
                    j.key("a"); StartupJSONReport.summary(r.a, j)
                    j.key("b"); StartupJSONReport.summary(r.b, j)
                    j.key("change_ns"); if let c = r.changeNs { j.signed(c) } else { j.null() }
                    j.key("ratio"); if let q = r.ratio { j.double(q) } else { j.null() }
                }
            }
            j.key("changes"); j.array(changes) { c in
                j.object { j.key("what"); j.string(c.what); j.key("item"); j.string(c.item); j.key("change"); j.string(c.change) }
            }
        }
        return j.text + "\n"
    }
}
