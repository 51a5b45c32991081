import FoundationEssentials
import NstraceBPF
import NstraceCore
#if Telemetry
import NstraceTelemetry
#endif

/// `nstrace record`: every event that passes the filters, and the bookkeeping events that
/// attribution needs (exec, cgroup_mkdir) always, into a trace file; plus what reading it
/// later, elsewhere, needs: the host snapshot first, containers as they are found and named,
/// lost counts as they change, totals at the end.
final class RecordSession: EventSink {
    private let writer: TraceFileWriter
    let pipeline: EventPipeline
    private var attribution: ContainerAttribution { pipeline.attribution }
    private let destination: String
    private var written: [String: [UInt8]] = [:]   // container id -> its JSON as last written
    private var lastLost = TraceLostCounts()
    private var lastLostCheck = 0.0
    /// A write failed (full disk): the file stays readable up to the last complete block.
    private var failure: TraceFileError?
    var telemetry: Telemetry?

    init(writer: TraceFileWriter, destination: String, pipeline: EventPipeline) {
        self.writer = writer
        self.destination = destination
        self.pipeline = pipeline
    }

    /// The host as recording starts: nstrace's namespaces, the running containers with their
    /// namespaces and mount tables, every cgroup's path.
    func writeSnapshot(inventory: ContainerInventory?) throws(TraceFileError) {
        let hostNamespaces = attribution.hostNamespaces.byName
        let resolver = attribution.cgroupPaths as? CgroupResolver
        let cgroups = resolver?.allPaths() ?? [:]
        var idsByPath: [String: [UInt64]] = [:]
        for (id, path) in cgroups { idsByPath[path, default: []].append(id) }
        let containers = (inventory?.containers ?? []).map { c -> TraceMetadata.Container in
            let namespaces = c.namespaces.set.byName
            return TraceMetadata.Container(
                id: c.id, runtime: c.identity.runtime.rawValue, name: c.name ?? c.identity.name, image: c.image,
                podUID: c.identity.podUID, containerdNamespace: c.identity.containerdNamespace,
                cgroupIDs: c.cgroupPath.flatMap { idsByPath[$0] } ?? [], cgroupPath: c.cgroupPath,
                pid: UInt32(c.initPID), namespaces: namespaces, sharedWithHost: c.sharedWithHost.map(\.name).sorted(),
                mountinfo: try? String(contentsOfFile: "/proc/\(c.initPID)/mountinfo", encoding: .utf8),
                state: "running")
        }
        let snapshot = TraceMetadata.HostSnapshot(
            hostNamespaces: hostNamespaces, containers: containers,
            hostMountinfo: try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8),
            cgroup2Mount: resolver?.mount.mountPoint)
        try writer.appendMetadata(snapshot, tsNs: writer.header.startBootNs, retainAs: "host-snapshot")
        for (id, path) in cgroups.sorted(by: { $0.key < $1.key }) {
            try writer.appendMetadata(TraceMetadata.Cgroup(id: id, path: path), tsNs: writer.header.startBootNs,
                                      retainAs: "cgroup-\(id)")
        }
        for container in attribution.containers { written[container.id] = container.json }
        try writer.flush()
    }

    /// Events that pass the filters, and the bookkeeping events reading the file back needs.
    func handle(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil else { return }
        let record: UnsafeRawBufferPointer
        switch pipeline.process(record: bytes) {
        case .passed(let ev):
            telemetry?.observe(ev)
            record = ev.event.bytes
        case .bookkeeping(let ev): record = ev.bytes
        case .filtered, .malformed: return
        }
        do {
            try writer.append(record: record)
        } catch {
            failure = error
        }
    }

    func turn(stats: () -> TracerStats?) throws -> Bool {
        if let failure { throw PreflightError(destination + ": " + failure.description + " (the file is readable up to its last complete block)") }
        try writeContainerChanges()
        let now = MonotonicClock.seconds()
        if now - lastLostCheck >= 1, let s = stats() {
            lastLostCheck = now
            let lost = TraceLostCounts(ringbuf: s.lostRingBuffer, pending: s.lostPending)
            if lost != lastLost {
                lastLost = lost
                writer.lostCounts = lost
                try writer.appendMetadata(TraceMetadata.Lost(ringbuf: lost.ringbuf, pending: lost.pending, submitted: s.submitted),
                                          tsNs: WallClock.bootNow())
            }
        }
        try writer.flush()
        return true
    }

    var wantsNamesBeforeFinish: Bool { true }

    func finish(stats: TracerStats) throws -> String {
        if let failure { throw PreflightError(destination + ": " + failure.description + " (the file is readable up to its last complete block)") }
        try writeContainerChanges()
        let lost = TraceLostCounts(ringbuf: stats.lostRingBuffer, pending: stats.lostPending)
        writer.lostCounts = lost
        try writer.finish(lost: lost)
        var line = "\(pipeline.passed) events recorded to \(destination) (\(writer.totalBytesWritten) bytes"
        if writer.fileIndex > 0 { line += " in \(writer.fileIndex + 1) files" }
        line += "), \(lost.total) lost"
        if lost.total > 0 { line += " (ring buffer full: \(lost.ringbuf), enter record not kept: \(lost.pending); try a larger --ring-size)" }
        if pipeline.malformed > 0 { line += ", \(pipeline.malformed) malformed" }
        let containers = attribution.containers.count
        if containers > 0 { line += ", \(containers) container\(containers == 1 ? "" : "s")" }
        return line
    }

    /// A container found or named since the last turn: write what is known now (the last
    /// record for an id wins; each is retained across rotated files).
    private func writeContainerChanges() throws(TraceFileError) {
        for record in attribution.containers where written[record.id] != record.json {
            written[record.id] = record.json
            let id = record.identity
            let meta = TraceMetadata.Container(id: id.id, runtime: id.runtime.rawValue, name: id.name, image: record.image,
                                               podUID: id.podUID, containerdNamespace: id.containerdNamespace)
            try writer.appendMetadata(meta, tsNs: WallClock.bootNow(), retainAs: "container-" + id.id)
        }
    }
}
