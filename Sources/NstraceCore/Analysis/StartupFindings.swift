/// What a person should look at in a container start, each with the events behind it.
enum StartupFindings {
    /// Namespaces whose sharing with the host changes isolation (cgroup, user and time are
    /// shared by default in the runtimes here). A switch: hashing each name into a set cost more.
    static func isIsolating(_ type: String) -> Bool {
        switch type {
        case "mnt", "net", "pid", "ipc", "uts": true
        default: false
        }
    }
    /// A call taking at least this share of its phase, and at least 1 ms, dominates it.
    static let dominantShare = 0.5
    static let dominantMinNs: UInt64 = 1_000_000

    static func find(_ s: ContainerStartup, sharedPropagation: [Int], lossy: Bool) -> [ContainerStartup.Finding] {
        var out: [ContainerStartup.Finding] = []
        let stored = s.events.stored   // the numbers as stored: no StartupEvent per event
        var entryEvents: [Int]?   // the entrypoint's exec, looked for once a finding needs it
        for t in s.sharedWithHost where isIsolating(t) {
            let entry = entryEvents ?? stored.indices.filter {
                s.eventPhases[$0] == .entrypoint && stored[$0].kind == .exec && stored[$0].tsNs == s.endNs
            }
            entryEvents = entry
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
        // grouped by "name errno", in order of first sight: a short list searched by errno and
        // name bytes, each group's key and message made once (a key String and two hashes per
        // failed call were most of `find`: issue 9)
        let arena = s.events.arena
        var groups: [(first: Int, count: Int)] = []
        var groupOf = [Int](repeating: 0, count: s.failedCalls.count)
        for (k, i) in s.failedCalls.enumerated() {
            if let g = groups.firstIndex(where: { sameFailure(stored[$0.first], stored[i], arena) }) {
                groups[g].count += 1
                groupOf[k] = g
            } else {
                groupOf[k] = groups.count
                groups.append((i, 1))
            }
        }
        if !groups.isEmpty { out.reserveCapacity(out.count + groups.count) }
        for (g, group) in groups.enumerated() {
            var list: [Int] = []
            list.reserveCapacity(group.count)
            for (k, i) in s.failedCalls.enumerated() where groupOf[k] == g { list.append(i) }
            let (message, key) = failureMessage(stored[group.first], count: group.count, arena)
            out.append(.init(kind: "failed_call", severity: "notice", message: message, events: list, subject: key))
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

    /// "N failed KEY" and KEY, `name + " " + errno's name` (or its number), made in one buffer.
    static func failureMessage(_ e: StoredEvent, count: Int, _ arena: EventArena) -> (message: String, key: String) {
        var o = OutputBuffer(capacity: 64 + Int(e.name.count))
        o.appendDecimal(count)
        o.append(" failed ")
        let keyStart = o.count
        arena.withBytes(e.name) { o.append(bytes: $0) }
        o.append(byte: 0x20)
        if let name = Errno.staticName(e.errno) { o.append(name) } else { o.appendDecimal(e.errno) }
        let key = o.withUnsafeBytes { String(decoding: UnsafeRawBufferPointer(rebasing: $0[keyStart...]), as: UTF8.self) }
        return (o.string, key)
    }

    /// Whether two failed calls have the same key, `name + " " + errno's name` (or its number):
    /// the same errno (its text is the errno's own: the names differ, and a number is no name)
    /// and names equal as Strings. The key's errno part holds no space, so equal keys are equal
    /// names and equal errnos. Equal bytes are equal Strings; unequal ASCII bytes unequal ones;
    /// other names (events made by hand) compared as Strings, as the key was.
    static func sameFailure(_ a: StoredEvent, _ b: StoredEvent, _ arena: EventArena) -> Bool {
        guard a.errno == b.errno else { return false }
        return arena.withBytes(a.name) { x in
            arena.withBytes(b.name) { y in
                if UTF8Search.equals(x, y) { return true }
                if !x.contains(where: { $0 >= 0x80 }) && !y.contains(where: { $0 >= 0x80 }) { return false }
                return String(decoding: x, as: UTF8.self) == String(decoding: y, as: UTF8.self)
            }
        }
    }
}

/// Durations for people: 850µs, 12.3ms, 1.25s. Written as bytes into the reports' buffer
/// (`append`); `format` is the same as a String, for messages.
enum DurationText {
    static func format(_ ns: UInt64) -> String {
        var o = OutputBuffer(capacity: 32)
        append(ns, into: &o)
        return o.string
    }

    static func append(_ ns: UInt64, into o: inout OutputBuffer) {
        if ns < 1_000 {
            o.appendDecimal(ns); o.append("ns")
        } else if ns < 1_000_000 {
            appendFixed(Double(ns) / 1_000, ns < 10_000 ? 1 : 0, into: &o); o.append("µs")
        } else if ns < 1_000_000_000 {
            appendFixed(Double(ns) / 1_000_000, ns < 10_000_000 ? 2 : 1, into: &o); o.append("ms")
        } else {
            appendFixed(Double(ns) / 1_000_000_000, 2, into: &o); o.append("s")
        }
    }

    static func signed(_ ns: Int64) -> String {
        (ns < 0 ? "-" : "+") + format(ns.magnitude)
    }

    /// `v` with `digits` decimals, without Foundation.
    static func fixed(_ v: Double, _ digits: Int) -> String {
        var o = OutputBuffer(capacity: 32)
        appendFixed(v, digits, into: &o)
        return o.string
    }

    static func appendFixed(_ v: Double, _ digits: Int, into o: inout OutputBuffer) {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (v * scale).rounded()
        let whole = Int64(r / scale)
        o.appendDecimal(whole)
        guard digits > 0 else { return }
        o.append(byte: 0x2E)
        // the fraction's digits, zero-padded on the left to `digits`
        let frac = Int64(r) - whole * Int64(scale)
        if frac >= 0 {
            o.appendZeroPadded(UInt64(frac), digits: max(digits, OutputBuffer.decimalDigits(UInt64(frac))))
        } else {   // only for a negative v: "-5" padded as a String was
            let text = String(frac)
            for _ in text.utf8.count ..< max(digits, text.utf8.count) { o.append(byte: 0x30) }
            o.append(utf8: text)
        }
    }
}
