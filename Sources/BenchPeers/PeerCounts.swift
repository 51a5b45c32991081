// What a tracer reported, reduced to what the benchmark compares: events per syscall for the
// workload's own processes, and the losses the tracer admitted to.

/// Events per syscall (nstrace's names: `umount` for umount2) and the losses a tracer reported.
public struct PeerCounts: Equatable, Sendable {
    /// Completed calls seen, per syscall.
    public var events: [String: Int] = [:]
    /// Events the tracer said it lost (bpftrace "Lost N events", perf "LOST N events!", nstrace's summary).
    public var lost: Int = 0
    /// Lines that looked like events but could not be read (a parser bug or a cut line).
    public var unparsed: Int = 0

    public init(events: [String: Int] = [:], lost: Int = 0, unparsed: Int = 0) {
        self.events = events
        self.lost = lost
        self.unparsed = unparsed
    }

    public mutating func add(_ syscall: Substring) {
        events[PeerSyscalls.nstraceName(syscall), default: 0] += 1
    }

    /// Events of the given syscalls.
    public func total(of syscalls: [String]) -> Int { syscalls.reduce(0) { $0 + (events[$1] ?? 0) } }
}

/// The syscalls every tracer is asked for: those nstrace traces.
public enum PeerSyscalls {
    /// Syscall names as strace, perf and the tracepoints spell them.
    public static let all = ["unshare", "setns", "clone", "clone3", "mount", "umount2", "pivot_root",
                             "fsopen", "fsconfig", "fsmount", "move_mount", "open_tree", "mount_setattr"]

    /// The tracepoint of umount2 is sys_enter_umount and nstrace calls the event `umount`.
    public static func nstraceName(_ syscall: Substring) -> String {
        syscall == "umount2" ? "umount" : String(syscall)
    }
}

/// Which processes count: the workload's own, by the name (comm) it gives itself.
public struct ProcessFilter: Sendable {
    let comms: Set<String>?

    /// Every process.
    public static let all = ProcessFilter(comms: nil)

    /// Only processes with one of these names.
    public static func comm(_ names: String...) -> ProcessFilter { ProcessFilter(comms: Set(names)) }

    public func accepts(_ comm: Substring) -> Bool { comms.map { $0.contains(String(comm)) } ?? true }
}

/// Lines of a text, without allocating a String per line.
func lines(_ text: String) -> [Substring] {
    text.split(separator: "\n", omittingEmptySubsequences: true)
}

/// The leading decimal digits of `s` as an Int.
func leadingInt(_ s: Substring) -> Int? { Int(s.prefix(while: { $0.isNumber })) }
