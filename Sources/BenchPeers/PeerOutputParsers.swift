// Parsers of the other tracers' output (and of nstrace's own), for `make bench`'s completeness
// column: each counts completed calls per syscall for the processes a ProcessFilter accepts.
// Formats as captured here (strace 6.1, perf 6.1, bpftrace 0.17); samples in Tests/BenchPeersTests.

public enum StraceOutput {
    /// `strace -f -o FILE` lines: "PID name(args) = ret" (the pid padded to five columns), "PID name(args <unfinished ...>",
    /// "PID <... name resumed>...) = ret", "PID +++ exited with 0 +++", "PID --- SIGCHLD {...} ---".
    /// A call counts once: complete, or at its "resumed" line. strace traces only the command's
    /// own process tree, so there is nothing to filter.
    public static func count(_ text: String) -> PeerCounts {
        var counts = PeerCounts()
        for line in lines(text) {
            guard let space = line.firstIndex(of: " "), leadingInt(line) != nil else { continue }
            // strace pads the pid to five columns: "2704  unshare(...)" has two spaces
            let body = line[space...].drop(while: { $0 == " " })
            if body.hasPrefix("+++") || body.hasPrefix("---") { continue }
            if body.hasPrefix("<... ") {
                let name = body.dropFirst(5).prefix(while: { $0 != " " })
                if body.contains(" resumed>") { counts.add(name) } else { counts.unparsed += 1 }
                continue
            }
            guard let paren = body.firstIndex(of: "("), isIdentifier(body[..<paren]) else {
                counts.unparsed += 1
                continue
            }
            if body.hasSuffix("<unfinished ...>") { continue }
            counts.add(body[..<paren])
        }
        return counts
    }
}

public enum PerfTraceOutput {
    /// `perf trace -a -e ... -o FILE` lines. Whole calls:
    ///   "   529.476 ( 0.031 ms): unshare/11367 unshare(unshare_flags: 67108864)   = 0"
    /// a call cut by another CPU's event is split: its start ends in "...", its end comes later as
    ///   "   582.100 ( 0.050 ms): umount/11370  ... [continued]: umount2())   = 0"
    /// and a call whose enter perf did not see (a fork's child, a call begun before perf
    /// started) is exit-only: "         ? (         ): sh/11370  ... [continued]: clone())  = 0".
    /// A call counts at its result. Losses: "LOST 12 events!".
    /// perf names a process it saw no COMM record for ":PID" (a fork's child): the processes
    /// a counted process's clone returned are counted too, whatever their name.
    public static func count(_ text: String, filter: ProcessFilter) -> PeerCounts {
        var counts = PeerCounts()
        var calls: [Call] = []
        for line in lines(text) {
            if let lost = lostCount(line) {
                counts.lost += lost
                continue
            }
            guard line.contains("): ") else { continue }
            guard let call = parse(line) else { counts.unparsed += 1; continue }
            calls.append(call)
        }
        // the workload's process tree: its named processes and, transitively, what they cloned
        var tree = Set(calls.filter { filter.accepts($0.comm) }.map(\.pid))
        var grew = true
        while grew {
            grew = false
            for c in calls where (c.name == "clone" || c.name == "clone3") && tree.contains(c.pid) {
                if let child = c.result, child > 0, tree.insert(child).inserted { grew = true }
            }
        }
        for c in calls where c.result != nil && (tree.contains(c.pid) || filter.accepts(c.comm)) {
            counts.add(c.name)
        }
        return counts
    }

    struct Call {
        let comm: Substring
        let pid: Int
        let name: Substring
        let result: Int?   // nil: the start of a split call (its end is a [continued] line)
    }

    static func parse(_ line: Substring) -> Call? {
        guard let close = line.firstRange(of: "): ") else { return nil }
        let rest = line[close.upperBound...]
        if let cont = rest.firstRange(of: "  ... [continued]: ") {
            let who = rest[..<cont.lowerBound]
            let name = rest[cont.upperBound...].prefix(while: { $0 != "(" })
            guard let slash = who.lastIndex(of: "/"), let pid = Int(who[who.index(after: slash)...]), isIdentifier(name),
                  let r = result(rest) else { return nil }
            return Call(comm: who[..<slash], pid: pid, name: name, result: r)
        }
        guard let (comm, pid, name) = commPidSyscall(rest) else { return nil }
        var end = rest[...]
        while end.last == " " { end = end.dropLast() }
        if end.hasSuffix("...") { return Call(comm: comm, pid: pid, name: name, result: nil) }
        guard let r = result(rest) else { return nil }
        return Call(comm: comm, pid: pid, name: name, result: r)
    }

    /// The value after the last ") = " (perf pads with spaces before '=').
    static func result(_ rest: Substring) -> Int? {
        guard let eq = rest.lastIndex(of: "=") else { return nil }
        let value = rest[rest.index(after: eq)...].drop(while: { $0 == " " })
        let digits = value.first == "-" ? value.dropFirst().prefix(while: { $0.isNumber }) : value.prefix(while: { $0.isNumber })
        guard let n = Int(digits) else { return nil }
        return value.first == "-" ? -n : n
    }

    /// "comm/pid name(" : the comm may hold '/' and spaces, so find "/<digits> <known syscall>(".
    static func commPidSyscall(_ rest: Substring) -> (Substring, Int, Substring)? {
        var i = rest.startIndex
        while let slash = rest[i...].firstIndex(of: "/") {
            let afterSlash = rest.index(after: slash)
            let digits = rest[afterSlash...].prefix(while: { $0.isNumber })
            if let pid = Int(digits), digits.endIndex < rest.endIndex, rest[digits.endIndex] == " " {
                let call = rest[rest.index(after: digits.endIndex)...]
                let name = call.prefix(while: { $0 != "(" })
                if name.endIndex < call.endIndex, PeerSyscalls.all.contains(String(name)) {
                    return (rest[..<slash], pid, name)
                }
            }
            i = afterSlash
        }
        return nil
    }

    static func lostCount(_ line: Substring) -> Int? {
        guard let r = line.firstRange(of: "LOST ") else { return nil }
        guard let n = leadingInt(line[r.upperBound...]), line[r.upperBound...].contains(" events") else { return nil }
        return n
    }
}

public enum BpftraceOutput {
    /// Lines of `BpftraceScript.text`: tab-separated "name pid tid comm ret ...". Other lines
    /// (the "Attaching N probes..." banner, maps printed at exit) are not events.
    /// Losses: "Lost N events".
    public static func count(_ text: String, filter: ProcessFilter) -> PeerCounts {
        var counts = PeerCounts()
        for line in lines(text) {
            if line.hasPrefix("Lost "), let n = leadingInt(line.dropFirst(5)) {
                counts.lost += n
                continue
            }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 5, PeerSyscalls.all.contains(String(fields[0])) else { continue }
            guard Int(fields[1]) != nil, Int(fields[4]) != nil else { counts.unparsed += 1; continue }
            if filter.accepts(fields[3]) { counts.add(fields[0]) }
        }
        return counts
    }
}

public enum NstraceOutput {
    /// `nstrace -o json` (or `show -o json`) lines: "event" and "comm" members.
    public static func countJSON(_ text: String, filter: ProcessFilter) -> PeerCounts {
        var counts = PeerCounts()
        for line in lines(text) where line.first == "{" {
            guard let event = stringMember("event", in: line), let comm = stringMember("comm", in: line) else {
                counts.unparsed += 1
                continue
            }
            if filter.accepts(comm) { counts.add(event) }
        }
        return counts
    }

    /// `nstrace -o text` lines: "TIME PID COMM CONTAINER EVENT DETAIL"; the header line is skipped.
    public static func countText(_ text: String, filter: ProcessFilter) -> PeerCounts {
        var counts = PeerCounts()
        for line in lines(text) {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count >= 5, Int(fields[1]) != nil else { continue }
            if filter.accepts(fields[2]) { counts.add(fields[4]) }
        }
        return counts
    }

    /// The summary nstrace prints on stderr as it stops: "nstrace: N events, M lost (...)", or
    /// for record "nstrace: N events recorded to FILE (B bytes), M lost".
    public static func summary(_ stderrText: String) -> (events: Int, lost: Int)? {
        for line in lines(stderrText).reversed() where line.hasPrefix("nstrace: ") {
            let parts = line.dropFirst("nstrace: ".count).split(separator: ",").map { $0.drop(while: { $0 == " " }) }
            guard let first = parts.first, first.contains(" events"), let events = leadingInt(first),
                  let lostPart = parts.first(where: { $0.contains(" lost") }), let lost = leadingInt(lostPart) else { continue }
            return (events, lost)
        }
        return nil
    }

    /// The value of `"key":"value"` (no escapes in the names compared here).
    static func stringMember(_ key: String, in line: Substring) -> Substring? {
        guard let r = line.firstRange(of: "\"" + key + "\":\"") else { return nil }
        let rest = line[r.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return rest[..<end]
    }
}

func isIdentifier(_ s: Substring) -> Bool {
    !s.isEmpty && s.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
}
