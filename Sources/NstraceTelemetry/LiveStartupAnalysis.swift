import Glibc
import NstraceCore
import Prometheus

/// `nstrace_container_startup_seconds{runtime}`: `nstrace analyze`'s startup analysis
/// (StartupAnalyzer, docs/analysis.md) run live on the attributed events of the ring-buffer
/// loop. A start is observed when its entrypoint's exec has been seen (between two batches,
/// so at most ~100 ms later): its total, from the first phase to that exec, goes into the
/// histogram of its runtime; starts the analysis calls incomplete (its beginning not seen,
/// events lost during it) are counted apart, never guessed into the histogram.
///
/// Memory stays bounded for a long-running agent (StartupAnalyzer.releaseFinished): finished
/// starts are released at once, containers with no finished start after `staleSeconds`
/// (running before nstrace started, or a start cut short) are let go unreported.
final class LiveStartupAnalysis {
    static let buckets: [Double] = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
    static let staleSeconds: UInt64 = 120

    private let analyzer = StartupAnalyzer()
    private let adapter = AnalysisEventAdapter()
    private let registry: PrometheusCollectorRegistry
    private var histograms: [String: ValueHistogram] = [:]
    private var incomplete: [String: Counter] = [:]
    private var lastLost: UInt64 = 0
    /// Starts observed, for the tests and the summary.
    private(set) var observed = 0

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        analyzer.beginFile("live")
    }

    /// Every attributed event, filtered or not (the ring-buffer loop's thread).
    func observe(_ ev: EventView, _ found: Attribution, attribution: ContainerAttribution) {
        adapter.feed(ev, container: found.container, target: found.target, attribution: attribution, into: analyzer)
    }

    /// Between batches (the same thread): losses noted, finished starts into the histogram.
    func turn(lostEvents: UInt64) {
        if lostEvents != lastLost {
            analyzer.noteLost(total: lostEvents)
            lastLost = lostEvents
        }
        let now = Self.boottimeNs(), window = Self.staleSeconds * 1_000_000_000
        let stale = now > window ? now - window : 0
        let done = analyzer.releaseFinished(staleBeforeNs: stale)
        for startup in done {
            let runtime = startup.container.runtime
            if startup.complete, let total = startup.totalNs {
                histogram(runtime).record(Double(total) / 1e9)
                observed += 1
            } else {
                incompleteCounter(runtime).increment()
            }
        }
    }

    private func histogram(_ runtime: String) -> ValueHistogram {
        if let h = histograms[runtime] { return h }
        let h = registry.makeValueHistogram(
            name: "nstrace_container_startup_seconds", labels: [("runtime", runtime)], buckets: Self.buckets,
            help: "Container start duration by runtime, from the runtime's invocation (or the engine's first work for it) to the entrypoint's exec, as nstrace analyze measures it.")
        histograms[runtime] = h
        return h
    }

    private func incompleteCounter(_ runtime: String) -> Counter {
        if let c = incomplete[runtime] { return c }
        let c = registry.makeCounter(
            name: "nstrace_container_startups_incomplete_total", labels: [("runtime", runtime)],
            help: "Container starts that reached their entrypoint but whose beginning was not seen or during which events were lost (not in the histogram).")
        incomplete[runtime] = c
        return c
    }

    /// The events' clock (CLOCK_BOOTTIME).
    static func boottimeNs() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_BOOTTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
