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
        let complete = startups.filter(\.complete)
        var groups: [Group] = []
        for by in ["runtime", "image"] {
            var keys: [String] = []
            var members: [String: [ContainerStartup]] = [:]
            for s in complete {
                let k = by == "runtime" ? s.container.runtime : (s.container.image ?? "-")
                if members[k] == nil { keys.append(k) }
                members[k, default: []].append(s)
            }
            for k in keys.sorted() { groups.append(Self.group(by: by, key: k, members[k]!)) }
        }
        self.groups = groups
    }

    public static func group(by: String, key: String, _ starts: [ContainerStartup]) -> Group {
        var phases: [(StartupPhase, Summary)] = []
        for p in StartupPhase.allCases {
            if let s = Summary(starts.compactMap { $0.phase(p)?.durationNs }) { phases.append((p, s)) }
        }
        return Group(by: by, key: key, total: Summary(starts.compactMap(\.totalNs)), phases: phases)
    }
}
