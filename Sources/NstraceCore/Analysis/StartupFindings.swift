/// What a person should look at in a container start, each with the events behind it.
enum StartupFindings {
    /// Namespaces whose sharing with the host changes isolation (cgroup, user and time are
    /// shared by default in the runtimes here).
    static let isolating: Set<String> = ["mnt", "net", "pid", "ipc", "uts"]
    /// A call taking at least this share of its phase, and at least 1 ms, dominates it.
    static let dominantShare = 0.5
    static let dominantMinNs: UInt64 = 1_000_000

    static func find(_ s: ContainerStartup, sharedPropagation: [Int], lossy: Bool) -> [ContainerStartup.Finding] {
        var out: [ContainerStartup.Finding] = []
        let entry = s.events.indices.filter { s.eventPhases[$0] == .entrypoint && s.events[$0].kind == .exec && s.events[$0].tsNs == s.endNs }
        for t in s.sharedWithHost where isolating.contains(t) {
            out.append(.init(kind: "host_namespace_shared", severity: "warning",
                             message: "the container shares the host's \(t) namespace", events: entry, subject: t))
        }
        let kept = sharedPropagation.filter { $0 < s.events.count }
        for i in kept {
            let target = s.events[i].target ?? "?"
            out.append(.init(kind: "shared_propagation", severity: "warning",
                             message: "shared mount propagation into the container at \(target): its mounts and the host's propagate both ways",
                             events: [i], subject: target))
        }
        for v in s.volumes where !v.readOnly {
            out.append(.init(kind: "host_path_rw", severity: "warning",
                             message: "host path \(v.source) is mounted read-write at \(v.target ?? v.rawTarget)",
                             events: v.event.map { $0 < s.events.count ? [$0] : [] } ?? [], subject: v.source))
        }
        var failedGroups: [String: [Int]] = [:]
        var failedOrder: [String] = []
        for i in s.failedCalls {
            let e = s.events[i]
            let key = e.name + " " + (Errno.name(e.errno) ?? String(e.errno))
            if failedGroups[key] == nil { failedOrder.append(key) }
            failedGroups[key, default: []].append(i)
        }
        for key in failedOrder {
            let list = failedGroups[key]!
            out.append(.init(kind: "failed_call", severity: "notice",
                             message: "\(list.count) failed \(key)", events: list, subject: key))
        }
        for p in s.phases {
            guard let i = p.longestEvent, i < s.events.count, p.eventCount > 1 else { continue }
            let e = s.events[i]
            let d = p.durationNs
            guard e.latencyNs >= dominantMinNs, d > 0, Double(e.latencyNs) >= dominantShare * Double(d) else { continue }
            let pct = Int((Double(e.latencyNs) * 100 / Double(d)).rounded())
            out.append(.init(kind: "dominant_call", severity: "notice",
                             message: "\(e.name) by \(e.comm) \(e.pid) took \(DurationText.format(e.latencyNs)), \(pct)% of \(p.phase.title)",
                             events: [i], subject: p.phase.rawValue + ":" + e.name))
        }
        if lossy {
            out.append(.init(kind: "lost_events", severity: "warning",
                             message: "events were lost while the container started: the analysis is incomplete",
                             events: [], subject: "lost"))
        }
        return out
    }
}

/// Durations for people: 850µs, 12.3ms, 1.25s.
enum DurationText {
    static func format(_ ns: UInt64) -> String {
        if ns < 1_000 { return "\(ns)ns" }
        if ns < 1_000_000 { return fixed(Double(ns) / 1_000, ns < 10_000 ? 1 : 0) + "µs" }
        if ns < 1_000_000_000 { return fixed(Double(ns) / 1_000_000, ns < 10_000_000 ? 2 : 1) + "ms" }
        return fixed(Double(ns) / 1_000_000_000, 2) + "s"
    }

    static func signed(_ ns: Int64) -> String {
        (ns < 0 ? "-" : "+") + format(ns.magnitude)
    }

    /// `v` with `digits` decimals, without Foundation.
    static func fixed(_ v: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (v * scale).rounded()
        let whole = Int64(r / scale)
        guard digits > 0 else { return String(whole) }
        var frac = String(Int64(r) - whole * Int64(scale))
        while frac.count < digits { frac = "0" + frac }
        return String(whole) + "." + frac
    }
}
