/// The analysis of one container start: what `nstrace analyze` reports. All times are
/// CLOCK_BOOTTIME nanoseconds; offsets are from `startNs`.
public struct ContainerStartup: Sendable {
    public struct Process: Sendable, Hashable {
        public var pid: UInt32
        public var comm: String
    }

    public struct Phase: Sendable {
        public var phase: StartupPhase
        public var startNs: UInt64
        public var endNs: UInt64
        public var processes: [Process]
        public var eventCount: Int
        /// The call with the longest latency in the phase (an index into `events` when kept).
        public var longestEvent: Int?
        public var durationNs: UInt64 { endNs >= startNs ? endNs - startNs : 0 }
    }

    public struct Namespace: Sendable, Hashable {
        public var type: String
        public var inode: UInt32
        /// created (unshare/clone), joined (setns into one the engine made).
        public var how: String
        public var pid: UInt32
    }

    public struct Volume: Sendable, Hashable {
        public var source: String
        /// The path inside the container; nil when the trace cannot tell (runc and crun mount
        /// through /proc/self/fd/N, resolved only by engine-side path resolution).
        public var target: String?
        /// The target as the call named it (e.g. /proc/self/fd/6).
        public var rawTarget: String
        /// private, slave, shared, unbindable, or inherited (no propagation call followed).
        public var propagation: String
        public var readOnly: Bool
        public var event: Int?
    }

    public struct Finding: Sendable, Hashable {
        /// host_namespace_shared, shared_propagation, host_path_rw, failed_call,
        /// dominant_call, lost_events.
        public var kind: String
        public var severity: String
        public var message: String
        /// Indexes into `events` of the events behind it (those kept).
        public var events: [Int]
        /// What makes two findings the same one across traces (for diff).
        public var key: String { kind + ":" + subject }
        public var subject: String
    }

    public var container: AnalysisEvent.Container
    /// The file (index into the analysed files) the start was read from.
    public var file: Int
    public var startNs: UInt64
    /// The entrypoint's exec; nil when the trace does not show it.
    public var endNs: UInt64?
    public var complete: Bool
    /// Why not complete: "cut at start", "cut at end", "events lost".
    public var incompleteReasons: [String]
    public var phases: [Phase]
    public var namespaces: [Namespace]
    public var sharedWithHost: [String]
    public var mountsByKind: [String: Int]
    public var volumes: [Volume]
    public var failedCalls: [Int]
    public var failedCallCount: Int
    public var laterJoins: Int
    public var execSessions: Int
    public var findings: [Finding]
    /// The events kept for the timeline (at most `StartupAnalyzer.maxEventsPerContainer`),
    /// with the phase each was put in (nil: after the start, or not part of a phase).
    public var events: StartupEvents
    public var eventPhases: [StartupPhase?]
    public var eventCount: Int
    /// Events beyond what was kept.
    public var eventsDropped: Int
    public var lostEvents: UInt64

    /// From the first event of the start to the entrypoint's exec; nil unless complete.
    public var totalNs: UInt64? {
        guard complete, let endNs, endNs >= startNs else { return nil }
        return endNs - startNs
    }

    public var label: String {
        if let name = container.name, !name.isEmpty { return name }
        let id = container.id
        return id.utf8.count == 64 ? String(id.prefix(12)) : id
    }

    public func phase(_ p: StartupPhase) -> Phase? { phases.first { $0.phase == p } }

    public func matches(_ selector: String) -> Bool {
        container.id == selector || container.name == selector || (selector.count >= 4 && container.id.hasPrefix(selector))
    }
}

/// Everything `analyze` found in its input.
public struct StartupAnalysis: Sendable {
    public var files: [String]
    public var startups: [ContainerStartup]
    /// Every container the trace knows (also those whose start it does not show).
    public var knownContainers: [AnalysisEvent.Container]
    public var eventsRead: UInt64
    public var lostEvents: UInt64
    /// Files that were cut (no trailer).
    public var cutFiles: [String]

    public init(files: [String], startups: [ContainerStartup], knownContainers: [AnalysisEvent.Container],
                eventsRead: UInt64, lostEvents: UInt64, cutFiles: [String]) {
        self.files = files
        self.startups = startups
        self.knownContainers = knownContainers
        self.eventsRead = eventsRead
        self.lostEvents = lostEvents
        self.cutFiles = cutFiles
    }

    /// Keeps the starts of the containers `selectors` name (id, id prefix or name). Returns the
    /// selectors that matched no known container.
    public mutating func select(_ selectors: [String]) -> [String] {
        guard !selectors.isEmpty else { return [] }
        let unknown = selectors.filter { s in
            !knownContainers.contains { c in c.id == s || c.name == s || (s.count >= 4 && c.id.hasPrefix(s)) }
                && !startups.contains { $0.matches(s) }
        }
        startups = startups.filter { st in selectors.contains { st.matches($0) } }
        return unknown
    }
}
