/// count, p50, p90, p99, max of the total and of every phase, over complete starts, grouped
/// by runtime and by image.
public struct StartupStatistics: Sendable {
    public struct Summary: Sendable {
        public var count: Int
        public var p50: UInt64
        public var p90: UInt64
        public var p99: UInt64
        public var max: UInt64

        /// Nearest-rank percentiles of `values` (nil when empty).
        public init?(_ values: [UInt64]) {
            guard !values.isEmpty else { return nil }
            let v = values.sorted()
            func rank(_ p: Double) -> UInt64 {
                let r = Int((p * Double(v.count)).rounded(.up))
                return v[Swift.max(0, Swift.min(v.count - 1, r - 1))]
            }
            count = v.count
            p50 = rank(0.5)
            p90 = rank(0.9)
            p99 = rank(0.99)
            max = v[v.count - 1]
        }
    }

    public struct Group: Sendable {
        /// `runtime` or `image`.
        public var by: String
        public var key: String
        public var total: Summary?
        /// Phases in their usual order; a phase no start went through is absent.
        public var phases: [(StartupPhase, Summary)]
    }

    public var groups: [Group]

    public init(_ startups: [ContainerStartup]) {
        var groups: [Group] = []
        for by in ["runtime", "image"] {
            // the members of a group by their index: a ContainerStartup is a large struct, and
            // copying it into a list per group cost a retain and a release per field
            var keys: [String] = []
            var members: [String: [Int]] = [:]
            for i in startups.indices where startups[i].complete {
                let k = by == "runtime" ? startups[i].container.runtime : (startups[i].container.image ?? "-")
                if members[k] == nil { keys.append(k) }
                members[k, default: []].append(i)
            }
            for k in keys.sorted() { groups.append(Self.group(by: by, key: k, startups, members: members[k]!)) }
        }
        self.groups = groups
    }

    /// The group of `startups[members]`: their totals, and the durations of each phase (the
    /// first of its kind in a start, as `ContainerStartup.phase(_:)` finds it) gathered in one
    /// pass over each start's phases.
    static func group(by: String, key: String, _ startups: [ContainerStartup], members: [Int]) -> Group {
        var durations = [[UInt64]](repeating: [], count: StartupPhase.allCases.count)
        var totals: [UInt64] = []
        for i in members {
            var seen: UInt32 = 0
            for p in startups[i].phases where seen & (1 << p.phase.order) == 0 {
                seen |= 1 << p.phase.order
                durations[p.phase.order].append(p.durationNs)
            }
            if let t = startups[i].totalNs { totals.append(t) }
        }
        var phases: [(StartupPhase, Summary)] = []
        for p in StartupPhase.allCases {
            if let s = Summary(durations[p.order]) { phases.append((p, s)) }
        }
        return Group(by: by, key: key, total: Summary(totals), phases: phases)
    }
}
