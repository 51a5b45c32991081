import Glibc
import NstraceCore
import Prometheus

/// `--metrics`: what the Prometheus endpoint shows. Event counters are bumped by the ring-buffer
/// loop (one array lookup and one atomic add per event); totals that change slowly (lost
/// events, exporter drops, containers) are set between batches; the process's CPU and RSS are
/// read when Prometheus scrapes.
public final class EventMetrics: @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    /// Counter per (event type, runtime); touched only by the ring-buffer loop's thread.
    private var eventCounters: [Counter?]
    private static let runtimes: [ContainerRuntime] = ContainerRuntime.allCases
    private static let runtimeSlots = runtimes.count + 1   // + "none": not in a container
    private let lost: Counter
    private var lastLost: UInt64 = 0
    private let otlpDropped: Counter
    private let otlpExported: Counter
    private var lastOTLP = (exported: UInt64(0), dropped: UInt64(0))
    private let containers: Gauge
    private let cpu: Counter
    private let rss: Gauge
    private var lastCPU = 0.0

    public init() {
        eventCounters = Array(repeating: nil, count: (Int(EventType.allCases.map(\.rawValue).max() ?? 0) + 1) * Self.runtimeSlots)
        lost = registry.makeCounter(descriptor: Self.named("nstrace_lost_events_total", "Events the kernel could not hand over (ring buffer full, enter record not kept)."))
        otlpExported = registry.makeCounter(descriptor: Self.named("nstrace_otlp_exported_total", "Log records the OTLP receiver accepted."))
        otlpDropped = registry.makeCounter(descriptor: Self.named("nstrace_otlp_dropped_total", "Events not delivered to the OTLP receiver (queue full, export failed, undelivered at exit)."))
        containers = registry.makeGauge(descriptor: Self.named("nstrace_containers_seen", "Containers seen since nstrace started (running at start, or started since)."))
        cpu = registry.makeCounter(descriptor: Self.named("process_cpu_seconds_total", "User and system CPU time of nstrace."))
        rss = registry.makeGauge(descriptor: Self.named("process_resident_memory_bytes", "Resident memory of nstrace."))
    }

    /// A whole metric name (no unit suffix added) and its HELP text.
    private static func named(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// One event that passed the filters.
    @inline(__always)
    public func count(_ type: EventType, container: ContainerRecord?) {
        var runtimeIndex = 0
        if let container {
            runtimeIndex = 1 + (Self.runtimes.firstIndex(of: container.identity.runtime) ?? 0)
        }
        let index = Int(type.rawValue) * Self.runtimeSlots + runtimeIndex
        if let counter = eventCounters[index] {
            counter.increment()
        } else {
            let runtime = runtimeIndex == 0 ? "none" : Self.runtimes[runtimeIndex - 1].rawValue
            let counter = registry.makeCounter(descriptor: Self.named("nstrace_events_total", "Events seen, by event type and container runtime (none: not in a container)."), labels: [("event", type.name), ("runtime", runtime)])
            eventCounters[index] = counter
            counter.increment()
        }
    }

    /// Between batches: totals that only grow.
    public func update(lostEvents: UInt64, containersSeen: Int, otlp: OTLPLogExporter.Totals?) {
        if lostEvents > lastLost {
            lost.increment(by: Int64(lostEvents - lastLost))
            lastLost = lostEvents
        }
        containers.set(Double(containersSeen))
        if let otlp {
            if otlp.exported > lastOTLP.exported { otlpExported.increment(by: Int64(otlp.exported - lastOTLP.exported)) }
            if otlp.dropped > lastOTLP.dropped { otlpDropped.increment(by: Int64(otlp.dropped - lastOTLP.dropped)) }
            lastOTLP = (max(lastOTLP.exported, otlp.exported), max(lastOTLP.dropped, otlp.dropped))
        }
    }

    /// The exposition text, with CPU and RSS read now. Called only by the server's one thread,
    /// which serves scrapes one at a time.
    func exposition() -> [UInt8] {
        var usage = rusage()
        if getrusage(RUSAGE_SELF.rawValue, &usage) == 0 {
            let seconds = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
                + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
            if seconds > lastCPU { cpu.increment(by: seconds - lastCPU); lastCPU = seconds }
        }
        if let pages = Self.residentPages() { rss.set(Double(pages) * Double(sysconf(Int32(_SC_PAGESIZE)))) }
        var out: [UInt8] = []
        registry.emit(into: &out)
        return out
    }

    /// The second field of /proc/self/statm.
    static func residentPages() -> Int? {
        let fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 128)
        let n = read(fd, &buf, buf.count)
        guard n > 0 else { return nil }
        let fields = buf[0..<n].split(separator: 0x20)
        guard fields.count >= 2 else { return nil }
        return Int(String(decoding: fields[1], as: UTF8.self))
    }
}
