import XCTest
@testable import NstraceCore

final class MountInfoTests: XCTestCase {
    private func entry(_ line: String, file: StaticString = #filePath, lineNumber: UInt = #line) throws -> MountInfoEntry {
        switch MountInfo.parseLine(line) {
        case .success(let entry): return entry
        case .failure(let error):
            XCTFail("\(error)", file: file, line: lineNumber)
            throw error
        }
    }

    private func parseError(_ line: String, file: StaticString = #filePath, lineNumber: UInt = #line) -> MountInfoParseError? {
        switch MountInfo.parseLine(line) {
        case .success(let entry):
            XCTFail("parsed as \(entry)", file: file, line: lineNumber)
            return nil
        case .failure(let error):
            return error
        }
    }

    func testProcManPageExample() throws {
        let mount = try entry("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue")
        XCTAssertEqual(mount.mountID, 36)
        XCTAssertEqual(mount.parentID, 35)
        XCTAssertEqual(mount.deviceMajor, 98)
        XCTAssertEqual(mount.deviceMinor, 0)
        XCTAssertEqual(mount.root, "/mnt1")
        XCTAssertEqual(mount.mountPoint, "/mnt2")
        XCTAssertEqual(mount.mountOptions, ["rw", "noatime"])
        XCTAssertEqual(mount.optionalFields, [.master(peerGroup: 1)])
        XCTAssertEqual(mount.fsType, "ext3")
        XCTAssertEqual(mount.source, "/dev/root")
        XCTAssertEqual(mount.superOptions, ["rw", "errors=continue"])
        XCTAssertEqual(mount.propagation.kind, .slave)
        XCTAssertEqual(mount.propagation.masterPeerGroup, 1)
        XCTAssertTrue(mount.isPartialFilesystem)
    }

    func testDockerVolumeBindMount() throws {
        // docker run -v /home:/outside-home: host /home (on ext4 /dev/vda) shown at /outside-home.
        let mount = try entry("1234 1200 254:0 /home /outside-home rw,relatime - ext4 /dev/vda rw")
        XCTAssertEqual(mount.root, "/home", "root is the source directory within the filesystem")
        XCTAssertEqual(mount.mountPoint, "/outside-home")
        XCTAssertEqual(mount.fsType, "ext4")
        XCTAssertEqual(mount.source, "/dev/vda")
        XCTAssertEqual(mount.deviceMajor, 254)
        XCTAssertEqual(mount.deviceMinor, 0)
        XCTAssertEqual(mount.optionalFields, [])
        XCTAssertEqual(mount.propagation.kind, .private)
        XCTAssertEqual(mount.propagation.description, "private")
        XCTAssertTrue(mount.isPartialFilesystem)
    }

    func testDockerOverlayRoot() throws {
        let line = "1200 1100 0:52 / / rw,relatime master:1 - overlay overlay rw,"
            + "lowerdir=/var/lib/docker/overlay2/l/4QKXJ3Z:/var/lib/docker/overlay2/l/7YHV2QW,"
            + "upperdir=/var/lib/docker/overlay2/3f1c9e/diff,workdir=/var/lib/docker/overlay2/3f1c9e/work,nouserxattr"
        let mount = try entry(line)
        XCTAssertEqual(mount.root, "/")
        XCTAssertEqual(mount.mountPoint, "/")
        XCTAssertEqual(mount.fsType, "overlay")
        XCTAssertEqual(mount.source, "overlay")
        XCTAssertEqual(mount.deviceMajor, 0)
        XCTAssertEqual(mount.deviceMinor, 52)
        XCTAssertEqual(mount.superOptions, [
            "rw",
            "lowerdir=/var/lib/docker/overlay2/l/4QKXJ3Z:/var/lib/docker/overlay2/l/7YHV2QW",
            "upperdir=/var/lib/docker/overlay2/3f1c9e/diff",
            "workdir=/var/lib/docker/overlay2/3f1c9e/work",
            "nouserxattr",
        ])
        XCTAssertFalse(mount.isPartialFilesystem)
    }

    func testPodmanOverlayRootWithEscapedCommaInLowerdir() throws {
        // overlayfs escapes ',' inside option values (seq_show_option) as \054.
        let mount = try entry(#"800 700 0:61 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/containers/storage/overlay/l/a\054b,upperdir=/u,workdir=/w"#)
        XCTAssertEqual(mount.superOptions, ["rw", "lowerdir=/var/lib/containers/storage/overlay/l/a,b", "upperdir=/u", "workdir=/w"])
    }

    func testSharedAndUnbindableAndPropagateFrom() throws {
        let shared = try entry("22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro")
        XCTAssertEqual(shared.propagation.kind, .shared)
        XCTAssertEqual(shared.propagation.sharedPeerGroup, 1)
        XCTAssertEqual(shared.propagation.description, "shared:1")

        let sharedSlave = try entry("100 50 0:45 / /mnt rw shared:5 master:1 - tmpfs tmpfs rw")
        XCTAssertEqual(sharedSlave.propagation.kind, .sharedAndSlave)
        XCTAssertEqual(sharedSlave.propagation.kind.rawValue, "shared,slave")
        XCTAssertEqual(sharedSlave.propagation.description, "shared:5 master:1")

        let unbindable = try entry("101 50 0:46 / /unb rw unbindable - tmpfs tmpfs rw")
        XCTAssertEqual(unbindable.propagation.kind, .unbindable)
        XCTAssertEqual(unbindable.optionalFields, [.unbindable])

        let propagateFrom = try entry("102 50 0:47 / /pf rw master:3 propagate_from:2 - tmpfs tmpfs rw")
        XCTAssertEqual(propagateFrom.propagation.kind, .slave)
        XCTAssertEqual(propagateFrom.propagation.propagateFromPeerGroup, 2)
        XCTAssertEqual(propagateFrom.optionalFields, [.master(peerGroup: 3), .propagateFrom(peerGroup: 2)])
    }

    func testUnknownOptionalFieldsAreKeptAndIgnored() throws {
        let mount = try entry("103 50 0:48 / /x rw shared:7 future:9 weird - tmpfs tmpfs rw")
        XCTAssertEqual(mount.optionalFields, [.shared(peerGroup: 7), .unrecognized("future:9"), .unrecognized("weird")])
        XCTAssertEqual(mount.propagation.kind, .shared)
        let malformedTag = try entry("104 50 0:49 / /y rw shared:x - tmpfs tmpfs rw")
        XCTAssertEqual(malformedTag.optionalFields, [.unrecognized("shared:x")])
        XCTAssertEqual(malformedTag.propagation.kind, .private)
    }

    func testOctalEscapesInPathFields() throws {
        let mount = try entry(#"200 27 254:0 /with\040space /mnt/a\040b\011tab\012nl\134bs rw - ext4 my\040source rw"#)
        XCTAssertEqual(mount.root, "/with space")
        XCTAssertEqual(mount.mountPoint, "/mnt/a b\ttab\nnl\\bs")
        XCTAssertEqual(mount.source, "my source")

        let deleted = try entry(#"201 27 254:0 /gone\040(deleted) /mnt/f rw - ext4 /dev/vda rw"#)
        XCTAssertEqual(deleted.root, "/gone (deleted)")
    }

    func testUnescapeLeavesInvalidEscapesAlone() {
        XCTAssertEqual(MountInfo.unescapeOctal(#"/a\9"#), #"/a\9"#)
        XCTAssertEqual(MountInfo.unescapeOctal(#"/a\"#), #"/a\"#)
        XCTAssertEqual(MountInfo.unescapeOctal(#"/a\04"#), #"/a\04"#)
        XCTAssertEqual(MountInfo.unescapeOctal(#"/a\777"#), #"/a\777"#)    // > 255: not a byte
        XCTAssertEqual(MountInfo.unescapeOctal(#"\040\040"#), "  ")
        XCTAssertEqual(MountInfo.unescapeOctal(#"\303\251"#), "é")            // UTF-8 bytes reassembled
        XCTAssertEqual(MountInfo.unescapeOctal(#"\377"#), "\u{FFFD}")         // not UTF-8: replaced
    }

    func testEmptySourceAndSubtypeAndRealHostLines() throws {
        let emptySource = try entry("300 27 0:60 / /x rw - tmpfs  rw")
        XCTAssertEqual(emptySource.source, "")
        XCTAssertEqual(emptySource.superOptions, ["rw"])

        let fuse = try entry("301 27 0:61 / /mnt/remote rw,nosuid,nodev,relatime - fuse.sshfs user@host:/srv rw,user_id=0,group_id=0")
        XCTAssertEqual(fuse.fsType, "fuse.sshfs")
        XCTAssertEqual(fuse.source, "user@host:/srv")

        let cgroup2 = try entry("41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw")
        XCTAssertEqual(cgroup2.fsType, "cgroup2")
        XCTAssertEqual(cgroup2.mountPoint, "/sys/fs/cgroup/unified")

        let tmpfs = try entry("28 27 0:25 / /mnt/sandboxing/tools ro,nosuid,nodev,relatime - tmpfs model_tools_unavailable ro,size=4k,mode=755")
        XCTAssertEqual(tmpfs.mountOptions, ["ro", "nosuid", "nodev", "relatime"])
        XCTAssertEqual(tmpfs.superOptions, ["ro", "size=4k", "mode=755"])
    }

    func testMalformedLinesGiveErrorsNotCrashes() {
        let bad = [
            "",
            "garbage",
            "1 2 3",
            "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 ext3 /dev/root rw",     // no separator
            "x 35 98:0 / / rw - ext4 /dev/vda rw",
            "36 -1 98:0 / / rw - ext4 /dev/vda rw",
            "36 35 98 / / rw - ext4 /dev/vda rw",
            "36 35 a:b / / rw - ext4 /dev/vda rw",
            "36 35 99999999999:0 / / rw - ext4 /dev/vda rw",
            "36 35 98:0:1 / / rw - ext4 /dev/vda rw",
            "36 35 98:0 / / rw - ext4 /dev/vda",                                // 2 fields after '-'
            "36 35 98:0 / / rw - ext4 /dev/vda rw extra",                       // 4 fields after '-'
            "36 35 98:0 / / rw -",
            "36 35 98:0 / / rw -  /dev/vda rw",                                 // empty fstype
            "36 35 98:0  / rw - ext4 /dev/vda rw",                              // empty root
            "36  35 98:0 / / rw - ext4 /dev/vda rw",                            // double space shifts fields
            "- - - - - - - - -",
            "99999999999999999999 1 0:1 / / rw - x y z",
        ]
        for line in bad {
            let error = parseError(line)
            XCTAssertEqual(error?.line, line)
            XCTAssertFalse(error?.reason.isEmpty ?? true, line)
        }
    }

    func testWholeTableKeepsGoodLinesAndNumbersBadOnes() {
        let text = """
        22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
        this is not a mount

        1234 1200 254:0 /home /outside-home rw,relatime - ext4 /dev/vda rw

        """
        let table = MountInfo.parse(text)
        XCTAssertEqual(table.entries.map(\.mountPoint), ["/", "/outside-home"])
        XCTAssertEqual(table.errors.count, 1)
        XCTAssertEqual(table.errors.first?.lineNumber, 2)
        XCTAssertTrue(table.errors.first?.description.contains("line 2") ?? false)
    }

    func testHostileBytesNeverCrash() {
        var generator = SplitMix(seed: 42)
        let alphabet = Array(" -:/\\0123456789abcrwshared:master:unbindable\u{0}\t\u{FFFD}")
        for _ in 0..<5_000 {
            let length = Int(generator.next() % 120)
            let line = String((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
            _ = MountInfo.parse(line)
        }
    }

    func testThisProcessMountTable() throws {
        let table = try MountInfo.read(pid: getpid())
        XCTAssertEqual(table.errors, [])
        XCTAssertTrue(table.entries.contains { $0.mountPoint == "/" })
        XCTAssertTrue(table.entries.contains { $0.fsType == "proc" })
        let ids = Set(table.entries.map(\.mountID))
        XCTAssertEqual(ids.count, table.entries.count, "mount ids are unique within a table")
    }

    func testReadingAnExitedProcessSaysSo() {
        let pid = ContainersTestSupport.unusedPID()
        XCTAssertThrowsError(try MountInfo.read(pid: pid)) { error in
            guard let error = error as? ProcReadError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.reason, .processExited)
            XCTAssertEqual(error.description, "process \(pid) exited")
        }
    }
}
