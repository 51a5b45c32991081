import XCTest
import NstraceABI
@testable import NstraceCore

final class ABILayoutTests: XCTestCase {
    func testSizeStrideAlignment() {
        XCTAssertEqual(MemoryLayout<nst_event>.size, 256)
        XCTAssertEqual(MemoryLayout<nst_event>.stride, 256)
        XCTAssertEqual(MemoryLayout<nst_event>.alignment, 8)
        XCTAssertEqual(MemoryLayout<nst_strings>.size, 4 * 512)
        XCTAssertEqual(EventLayout.headerSize, 256)
        XCTAssertEqual(EventLayout.recordSizeWithStrings, 256 + 2048)
        XCTAssertEqual(Int(NST_ABI_VERSION), 4)
        XCTAssertEqual(NST_F_PACKED, 1 << 13)
    }

    /// ABI 3: mount-family records end in struct nst_paths (issue 8).
    func testPathsLayout() {
        XCTAssertEqual(MemoryLayout<nst_paths>.size, 8 + 2 * 512)
        XCTAssertEqual(MemoryLayout<nst_paths>.offset(of: \nst_paths.len), 0)
        XCTAssertEqual(MemoryLayout<nst_paths>.offset(of: \nst_paths.flags), 4)
        XCTAssertEqual(MemoryLayout<nst_paths>.offset(of: \nst_paths.path), 8)
        XCTAssertEqual(PathLayout.offset, 256 + 2048)
        XCTAssertEqual(PathLayout.paths - PathLayout.offset, 8)
        XCTAssertEqual(PathLayout.recordSize, 256 + 2048 + 8 + 1024)
        let withPaths = EventType.allCases.filter(\.hasPaths).map(\.name).sorted()
        XCTAssertEqual(withPaths, ["mount", "mount_setattr", "move_mount", "open_tree", "pivot_root", "umount"])
    }

    func testFieldOffsets() {
        typealias L = MemoryLayout<nst_event>
        let expected: [(PartialKeyPath<nst_event>, Int, Int, String)] = [
            (\nst_event.ts_ns, 0, 8, "ts_ns"),
            (\nst_event.latency_ns, 8, 8, "latency_ns"),
            (\nst_event.cgroup_id, 16, 8, "cgroup_id"),
            (\nst_event.ret, 24, 8, "ret"),
            (\nst_event.args, 32, 48, "args"),
            (\nst_event.aux, 80, 32, "aux"),
            (\nst_event.pid, 112, 4, "pid"),
            (\nst_event.tid, 116, 4, "tid"),
            (\nst_event.ppid, 120, 4, "ppid"),
            (\nst_event.ns_pid, 124, 4, "ns_pid"),
            (\nst_event.uid, 128, 4, "uid"),
            (\nst_event.gid, 132, 4, "gid"),
            (\nst_event.ns, 136, 40, "ns"),
            (\nst_event.ns_before, 176, 40, "ns_before"),
            (\nst_event.flags, 216, 4, "flags"),
            (\nst_event.type, 220, 2, "type"),
            (\nst_event.size, 222, 2, "size"),
            (\nst_event.str_len, 224, 8, "str_len"),
            (\nst_event.cpu, 232, 4, "cpu"),
            (\nst_event.lineage, 236, 4, "lineage"),
            (\nst_event.comm, 240, 16, "comm"),
        ]
        var end = 0
        for (kp, off, size, name) in expected {
            XCTAssertEqual(L.offset(of: kp), off, name)
            XCTAssertEqual(off, end, "gap before \(name)")
            end = off + size
        }
        XCTAssertEqual(end, 256)

        let e = nst_event()
        XCTAssertEqual(MemoryLayout.size(ofValue: e.args), 48)
        XCTAssertEqual(MemoryLayout.size(ofValue: e.aux), 32)
        XCTAssertEqual(MemoryLayout.size(ofValue: e.ns), 40)
        XCTAssertEqual(MemoryLayout.size(ofValue: e.ns_before), 40)
        XCTAssertEqual(MemoryLayout.size(ofValue: e.str_len), 8)
        XCTAssertEqual(MemoryLayout.size(ofValue: e.comm), 16)
        XCTAssertEqual(MemoryLayout.size(ofValue: e.ret), 8)
        XCTAssertEqual(MemoryLayout.size(ofValue: e.type), 2)

        // the decoder's own offset table
        XCTAssertEqual(L.offset(of: \.ts_ns), EventLayout.tsNs)
        XCTAssertEqual(L.offset(of: \.latency_ns), EventLayout.latencyNs)
        XCTAssertEqual(L.offset(of: \.cgroup_id), EventLayout.cgroupId)
        XCTAssertEqual(L.offset(of: \.ret), EventLayout.ret)
        XCTAssertEqual(L.offset(of: \.args), EventLayout.args)
        XCTAssertEqual(L.offset(of: \.aux), EventLayout.aux)
        XCTAssertEqual(L.offset(of: \.pid), EventLayout.pid)
        XCTAssertEqual(L.offset(of: \.tid), EventLayout.tid)
        XCTAssertEqual(L.offset(of: \.ppid), EventLayout.ppid)
        XCTAssertEqual(L.offset(of: \.ns_pid), EventLayout.nsPid)
        XCTAssertEqual(L.offset(of: \.uid), EventLayout.uid)
        XCTAssertEqual(L.offset(of: \.gid), EventLayout.gid)
        XCTAssertEqual(L.offset(of: \.ns), EventLayout.ns)
        XCTAssertEqual(L.offset(of: \.ns_before), EventLayout.nsBefore)
        XCTAssertEqual(L.offset(of: \.flags), EventLayout.flags)
        XCTAssertEqual(L.offset(of: \.type), EventLayout.type)
        XCTAssertEqual(L.offset(of: \.size), EventLayout.size)
        XCTAssertEqual(L.offset(of: \.str_len), EventLayout.strLen)
        XCTAssertEqual(L.offset(of: \.cpu), EventLayout.cpu)
        XCTAssertEqual(L.offset(of: \.lineage), EventLayout.lineage)
        XCTAssertEqual(L.offset(of: \.comm), EventLayout.comm)
    }

    func testConstants() {
        XCTAssertEqual(EventType.unshare.rawValue, UInt16(NST_EV_UNSHARE))
        XCTAssertEqual(EventType.setns.rawValue, UInt16(NST_EV_SETNS))
        XCTAssertEqual(EventType.clone.rawValue, UInt16(NST_EV_CLONE))
        XCTAssertEqual(EventType.clone3.rawValue, UInt16(NST_EV_CLONE3))
        XCTAssertEqual(EventType.mount.rawValue, UInt16(NST_EV_MOUNT))
        XCTAssertEqual(EventType.umount.rawValue, UInt16(NST_EV_UMOUNT))
        XCTAssertEqual(EventType.pivotRoot.rawValue, UInt16(NST_EV_PIVOT_ROOT))
        XCTAssertEqual(EventType.fsopen.rawValue, UInt16(NST_EV_FSOPEN))
        XCTAssertEqual(EventType.fsconfig.rawValue, UInt16(NST_EV_FSCONFIG))
        XCTAssertEqual(EventType.fsmount.rawValue, UInt16(NST_EV_FSMOUNT))
        XCTAssertEqual(EventType.moveMount.rawValue, UInt16(NST_EV_MOVE_MOUNT))
        XCTAssertEqual(EventType.openTree.rawValue, UInt16(NST_EV_OPEN_TREE))
        XCTAssertEqual(EventType.mountSetattr.rawValue, UInt16(NST_EV_MOUNT_SETATTR))
        XCTAssertEqual(EventType.allCases.count, Int(NST_EV_MAX))
        for t in EventType.allCases {
            XCTAssertEqual(t.hasStrings, nst_event_has_strings(t.rawValue) != 0, t.name)
        }

        XCTAssertEqual(NamespaceSlot.count, 10)
        XCTAssertEqual(NamespaceType.mnt.rawValue, Int(NST_NS_MNT))
        XCTAssertEqual(NamespaceType.net.rawValue, Int(NST_NS_NET))
        XCTAssertEqual(NamespaceType.pid.rawValue, Int(NST_NS_PID))
        XCTAssertEqual(NamespaceType.uts.rawValue, Int(NST_NS_UTS))
        XCTAssertEqual(NamespaceType.ipc.rawValue, Int(NST_NS_IPC))
        XCTAssertEqual(NamespaceType.user.rawValue, Int(NST_NS_USER))
        XCTAssertEqual(NamespaceType.cgroup.rawValue, Int(NST_NS_CGROUP))
        XCTAssertEqual(NamespaceType.time.rawValue, Int(NST_NS_TIME))
        XCTAssertEqual(NamespaceSlot.pidForChildren.index, 8)
        XCTAssertEqual(NamespaceSlot.timeForChildren.index, 9)

        XCTAssertEqual(EventFlags.truncated(0), NST_F_STR0_TRUNC)
        XCTAssertEqual(EventFlags.truncated(3), NST_F_STR3_TRUNC)
        XCTAssertEqual(EventFlags.fault(0), NST_F_STR0_FAULT)
        XCTAssertEqual(EventFlags.fault(3), NST_F_STR3_FAULT)
        XCTAssertEqual(EventFlags.nsBefore, NST_F_NS_BEFORE)
        XCTAssertEqual(EventLayout.stringSlotSize, 512)
        XCTAssertEqual(EventLayout.commSize, 16)
    }

    /// The ABI header's string-slot table (which bpf/ reads strings by) and Swift's slot names
    /// agree: every named slot has an argument in the C table and no other slot has, and each
    /// slot's name is the syscall's parameter at the index the C table gives.
    func testStringSlotTableAgreesWithSwift() {
        let parameters: [EventType: [String]] = [
            .mount: ["source", "target", "fstype", "flags", "data"], .umount: ["target", "flags"],
            .pivotRoot: ["new_root", "put_old"], .fsopen: ["fsname", "flags"],
            .fsconfig: ["fd", "cmd", "key", "value", "aux"],
            .moveMount: ["from_dfd", "from_path", "to_dfd", "to_path", "flags"],
            .openTree: ["dfd", "filename", "flags"], .mountSetattr: ["dfd", "path", "flags", "uattr", "usize"],
        ]
        for t in EventType.allCases {
            for slot in -1...EventLayout.stringSlots {
                let arg = Int(nst_string_slot_arg(t.rawValue, Int32(slot)))
                let name = (0..<EventLayout.stringSlots).contains(slot) ? t.stringSlotName(slot).map { "\($0)" } : nil
                if t.isInternal || parameters[t] == nil {
                    XCTAssertEqual(arg, -1, "\(t) slot \(slot): no argument (kernel-filled or no strings)")
                    continue
                }
                XCTAssertEqual(arg >= 0, name != nil, "\(t) slot \(slot): C table and Swift names disagree")
                if arg >= 0, let name, let params = parameters[t] {
                    XCTAssertTrue(arg < params.count && params[arg] == name, "\(t) slot \(slot) is \(name) but the C table reads argument \(arg)")
                    XCTAssertEqual(t.stringSlotArgIndex(slot), arg)
                    XCTAssertTrue(t.hasStrings)
                }
            }
        }
        XCTAssertEqual(nst_string_slot_arg(UInt16(NST_EV_MOUNT), 3), 4, "mount's data is its fifth argument")
    }
}
