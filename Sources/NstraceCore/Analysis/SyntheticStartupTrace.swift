#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Synthetic traces of many container starts, for `make bench` and the report-size tests:
/// copies of one real start from a fixture, each with its own container id, pids, cgroup id
/// and times.
public enum SyntheticStartupTrace {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Writes to `path` `starts` copies of the start in `fixture` (a trace of one `runc run`
    /// of the container `fixtureID`, 20 characters), each followed by `noise` events of a
    /// host process (`hostRecords` in turn, renamed `kworker/u4:1`: not an engine, whose events
    /// would wait to be claimed; in the host's namespaces and root cgroup, so that they are
    /// host noise, not some container's). Returns the number of events written.
    public static func write(path: String, fixture: String, fixtureID: String, starts: Int, noise: Int,
                             hostRecords: [[UInt8]] = []) throws(Failure) -> Int {
        var events: [[UInt8]] = []
        var metadata: [TraceMetadata] = []
        var hostNamespaces = NamespaceSet()
        do {
            let r = try TraceFileReader(path: fixture)
            try r.forEach { item in
                switch item {
                case .event(let v): events.append(Array(v.bytes))
                case .metadata(let m):
                    guard m.kind == TraceMetadata.HostSnapshot.kind else { return }
                    metadata.append(m)
                    if let snapshot = try? m.decode(TraceMetadata.HostSnapshot.self) {
                        hostNamespaces = NamespaceSet(byName: snapshot.hostNamespaces)
                    }
                }
            }
        } catch {
            throw Failure(description: "\(fixture): \(error)")
        }
        let oldID = Array(fixtureID.utf8)
        guard noise == 0 || !hostRecords.isEmpty else { throw Failure(description: "noise needs host records") }
        let host = hostRecords.map { r in
            var r = r
            for (i, b) in Array("kworker/u4:1".utf8 + [UInt8](repeating: 0, count: 4)).enumerated() { r[EventLayout.comm + i] = b }
            r.withUnsafeMutableBytes { p in
                p.storeBytes(of: UInt64(1), toByteOffset: EventLayout.cgroupId, as: UInt64.self)
                for slot in 0..<NamespaceSlot.count {
                    // a namespace the call created stays new; the others are the host's
                    let created = p.loadUnaligned(fromByteOffset: EventLayout.ns + 4 * slot, as: UInt32.self)
                        != p.loadUnaligned(fromByteOffset: EventLayout.nsBefore + 4 * slot, as: UInt32.self)
                    let host = hostNamespaces[slot]
                    p.storeBytes(of: host, toByteOffset: EventLayout.nsBefore + 4 * slot, as: UInt32.self)
                    if !created { p.storeBytes(of: host, toByteOffset: EventLayout.ns + 4 * slot, as: UInt32.self) }
                }
            }
            return r
        }
        var count = 0
        do {
            let header = TraceFileHeader(hostname: "synthetic", kernelRelease: "6.1.0", nstraceVersion: "synthetic",
                                         clock: WallClock(bootToRealtimeNs: 0, utcOffsetSeconds: 0), startBootNs: 1, startRealtimeNs: 0)
            let w = try TraceFileWriter(path: path, header: header)
            for m in metadata { try w.appendMetadata(m) }
            let t0 = events.first.map { $0.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: EventLayout.tsNs, as: UInt64.self) } } ?? 0
            var ts: UInt64 = 0
            for k in 0..<starts {
                let digits = Array(String(k).utf8)
                let newID = Array("s".utf8) + [UInt8](repeating: 0x30, count: max(0, oldID.count - 1 - digits.count)) + digits
                let base = UInt64(k) * 60_000_000
                for var e in events {
                    replace(&e, oldID, newID)
                    e.withUnsafeMutableBytes { p in
                        ts = p.loadUnaligned(fromByteOffset: EventLayout.tsNs, as: UInt64.self) &- t0 &+ base &+ 1_000_000_000
                        p.storeBytes(of: ts, toByteOffset: EventLayout.tsNs, as: UInt64.self)
                        for off in [EventLayout.pid, EventLayout.tid, EventLayout.ppid, EventLayout.lineage] {
                            let v = p.loadUnaligned(fromByteOffset: off, as: UInt32.self)
                            if v > 1 { p.storeBytes(of: v &+ UInt32(k) &* 64, toByteOffset: off, as: UInt32.self) }
                        }
                        // the container's cgroup: its own per copy (host processes stay in cgroup 1)
                        let cg = p.loadUnaligned(fromByteOffset: EventLayout.cgroupId, as: UInt64.self)
                        if cg > 1 { p.storeBytes(of: cg &+ UInt64(k) &* 1000, toByteOffset: EventLayout.cgroupId, as: UInt64.self) }
                        let type = p.loadUnaligned(fromByteOffset: EventLayout.type, as: UInt16.self)
                        if type == EventType.cgroupMkdir.rawValue {
                            let id = p.loadUnaligned(fromByteOffset: EventLayout.aux, as: UInt64.self)
                            p.storeBytes(of: id &+ UInt64(k) &* 1000, toByteOffset: EventLayout.aux, as: UInt64.self)
                        }
                    }
                    try e.withUnsafeBytes { try w.append(record: $0) }
                    count += 1
                }
                for i in 0..<noise {
                    var e = host[i % host.count]
                    ts &+= 1000
                    e.withUnsafeMutableBytes { $0.storeBytes(of: ts, toByteOffset: EventLayout.tsNs, as: UInt64.self) }
                    try e.withUnsafeBytes { try w.append(record: $0) }
                    count += 1
                }
            }
            try w.finish()
        } catch {
            unlink(path)
            throw Failure(description: "writing \(path): \(error)")
        }
        return count
    }

    private static func replace(_ bytes: inout [UInt8], _ old: [UInt8], _ new: [UInt8]) {
        guard !old.isEmpty, bytes.count >= old.count, new.count == old.count else { return }
        var i = 0
        while i <= bytes.count - old.count {
            if bytes[i] == old[0] && bytes[i..<i + old.count].elementsEqual(old) {
                bytes.replaceSubrange(i..<i + old.count, with: new)
                i += old.count
            } else {
                i += 1
            }
        }
    }
}
