/// A start's critical chain, like `systemd-analyze critical-chain`: the phases along its
/// longest path, each one what the next waited for. From the last phase (the entrypoint's
/// exec) back to the first, a phase's predecessor is the phase that finished last before it
/// began: the work it could not begin without. The gap between the two is time nobody on the
/// chain was working (e.g. a runtime waiting for its engine). Phases off the chain (the network
/// set up while the runtime mounts) ran alongside it, except where the chain waited for them
/// (docker's network hook before pivot_root): then they are on it.
public struct StartupCriticalChain: Sendable {
    public struct Link: Sendable, Equatable {
        public var phase: StartupPhase
        public var startNs: UInt64
        public var endNs: UInt64
        /// From the end of the link before to this one's start; 0 when they overlap (or first).
        public var waitNs: UInt64
        public var durationNs: UInt64 { endNs >= startNs ? endNs - startNs : 0 }
    }

    /// In time order, from the start's first phase to its last.
    public var links: [Link]

    public init(_ s: ContainerStartup) {
        // phases by their index: a Phase holds its processes (an array), and copying one per
        // comparison cost a retain and a release each
        links = []
        let phases = s.phases
        guard var current = phases.firstIndex(where: { $0.phase == .entrypoint }) ?? Self.lastToEnd(phases) else { return }
        var chain = [current]
        // strictly earlier starts: the walk ends, whatever the phases hold
        while let before = Self.predecessor(of: current, in: phases) {
            chain.append(before)
            current = before
        }
        chain.reverse()
        for (i, k) in chain.enumerated() {
            let previousEnd = i > 0 ? phases[chain[i - 1]].endNs : phases[k].startNs
            let start = phases[k].startNs
            links.append(Link(phase: phases[k].phase, startNs: start, endNs: phases[k].endNs,
                              waitNs: start > previousEnd ? start - previousEnd : 0))
        }
    }

    /// The phase that ends last (ties: the one that begins last; then the first listed), or nil.
    static func lastToEnd(_ phases: [ContainerStartup.Phase]) -> Int? {
        guard !phases.isEmpty else { return nil }
        var best = 0
        for k in phases.indices.dropFirst() where (phases[best].endNs, phases[best].startNs) < (phases[k].endNs, phases[k].startNs) { best = k }
        return best
    }

    /// Of the phases that finished before phase `p` began, the one that finished last (ties:
    /// the one that began later, the nearer cause). A phase still running when `p` began ran
    /// alongside it: it is `p`'s predecessor only when none finished before (then the latest
    /// to begin). Indexes into `phases`.
    static func predecessor(of p: Int, in phases: [ContainerStartup.Phase]) -> Int? {
        var finished: Int?, overlapping: Int?
        let phase = phases[p].phase, begin = phases[p].startNs
        for q in phases.indices where phases[q].phase != phase && phases[q].startNs < begin {
            if phases[q].endNs <= begin {
                if let f = finished, (phases[f].endNs, phases[f].startNs) >= (phases[q].endNs, phases[q].startNs) { continue }
                finished = q
            } else if overlapping.map({ phases[q].startNs > phases[$0].startNs }) ?? true {
                overlapping = q
            }
        }
        return finished ?? overlapping
    }
}

extension ContainerStartup {
    /// What waited for what along the start's longest path (docs/analysis.md).
    public var criticalChain: StartupCriticalChain { StartupCriticalChain(self) }
}
