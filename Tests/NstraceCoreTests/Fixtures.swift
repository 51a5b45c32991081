import NstraceABI
@testable import NstraceCore
import EventRecords

/// The tests' short name for the record builder they share with nstrace-bench.
typealias Fixture = EventRecordBuilder

extension EventRecordBuilder {
    var event: Event { try! Event(bytes: bytes) }

    /// A host process (nsenter, cgroup 1) joining the network namespace `inode` by its file.
    static func hostJoiningNetwork(_ inode: UInt32) -> Fixture {
        var setns = Fixture(.setns, comm: "nsenter")
        setns.e.cgroup_id = 1
        setns.e.flags = UInt32(NST_F_NS_BEFORE)
        setns.setAux(0, 0x4000_0000) // CLONE_NEWNET
        setns.setAux(1, UInt64(inode))
        setns.setNs(Int(NST_NS_NET), inode)
        return setns
    }
}

/// realtime = 2026-11-29T07:40:01.123456789Z at Fixture.ts; local time is UTC+1.
let testClock = WallClock(bootToRealtimeNs: 1_795_938_001_000_000_000 - 1_000_000_000_000, utcOffsetSeconds: 3600)

extension Event {
    func text(color: Bool = false) -> String {
        withView { TextFormatter(color: color, clock: testClock).line($0) }
    }
    func json() -> String {
        withView { JSONFormatter(clock: testClock).line($0) }
    }
}
