/// What `nstrace info` reports about a trace file's events, from the file alone. It is in the
/// core so that the fuzzer runs it (Fuzz/TraceFileFuzz.swift): every count read from a file
/// is a UInt64 and stays one (a crafted 2^63 must not trap a conversion to Int).
public struct TraceSummary {
    public private(set) var byType: [String: UInt64] = [:]
    /// "name (short id)", the id, or "host"; bounded by the replay's cap on containers.
    public private(set) var byContainer: [String: UInt64] = [:]
    public private(set) var firstTsNs = UInt64.max
    public private(set) var lastTsNs: UInt64 = 0

    public init() {}

    /// One event of the file, and what the pipeline made of it (only events it passed are
    /// counted by container, as `show` would print them).
    public mutating func add(_ ev: EventView, _ outcome: PipelineOutcome) {
        let ts = ev.tsNs
        if ts < firstTsNs { firstTsNs = ts }
        if ts > lastTsNs { lastTsNs = ts }
        byType[ev.type.name, default: 0] &+= 1
        if case .passed(let attributed) = outcome {
            let key = attributed.container.map { c in c.name.map { "\($0) (\(c.id.prefix(12)))" } ?? c.id } ?? "host"
            byContainer[key, default: 0] &+= 1
        }
    }

    /// Seconds from the first event to the last (nil without events).
    public var spanSeconds: Double? {
        firstTsNs == .max ? nil : Double(lastTsNs - firstTsNs) / 1e9
    }

    /// Events lost: the trailer's totals, else the last `lost` record's (a cut file); the sum
    /// saturates at UInt64.max rather than wrapping to a small, false number.
    public static func lost(trailer: TraceTrailer?, lastLost: TraceMetadata.Lost?) -> UInt64? {
        guard let counts = trailer?.lost ?? lastLost.map({ TraceLostCounts(ringbuf: $0.ringbuf, pending: $0.pending) }) else { return nil }
        let (sum, overflow) = counts.ringbuf.addingReportingOverflow(counts.pending)
        return overflow ? .max : sum
    }
}
