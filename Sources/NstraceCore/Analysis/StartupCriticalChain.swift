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
        links = []
        guard var current = s.phase(.entrypoint) ?? s.phases.max(by: { ($0.endNs, $0.startNs) < ($1.endNs, $1.startNs) }) else { return }
        var chain = [current]
        // strictly earlier starts: the walk ends, whatever the phases hold
        while let before = Self.predecessor(of: current, in: s.phases) {
            chain.append(before)
            current = before
        }
        chain.reverse()
        for (i, p) in chain.enumerated() {
            let previousEnd = i > 0 ? chain[i - 1].endNs : p.startNs
            links.append(Link(phase: p.phase, startNs: p.startNs, endNs: p.endNs,
                              waitNs: p.startNs > previousEnd ? p.startNs - previousEnd : 0))
        }
    }

    /// Of the phases that finished before `p` began, the one that finished last (ties: the one
    /// that began later, the nearer cause). A phase still running when `p` began ran alongside
    /// it: it is `p`'s predecessor only when none finished before (then the latest to begin).
    static func predecessor(of p: ContainerStartup.Phase, in phases: [ContainerStartup.Phase]) -> ContainerStartup.Phase? {
        var finished: ContainerStartup.Phase?, overlapping: ContainerStartup.Phase?
        for q in phases where q.phase != p.phase && q.startNs < p.startNs {
            if q.endNs <= p.startNs {
                if let f = finished, (f.endNs, f.startNs) >= (q.endNs, q.startNs) { continue }
                finished = q
            } else if overlapping.map({ q.startNs > $0.startNs }) ?? true {
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
