import Foundation
import XCTest
@testable import NstraceCore

final class CgroupResolverTests: XCTestCase {
    // MARK: locating the cgroup2 mount

    private let hybridMountInfo = """
        23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        """

    func testLocateOnHybridHost() {
        XCTAssertEqual(Cgroup2Mount.locate(in: MountInfo.parse(hybridMountInfo)),
                       Cgroup2Mount(mountPoint: "/sys/fs/cgroup/unified", root: "/"))
    }

    func testLocateOnPureV2Host() {
        let text = """
            23 27 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
            30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
            """
        XCTAssertEqual(Cgroup2Mount.locate(in: MountInfo.parse(text)), Cgroup2Mount(mountPoint: "/sys/fs/cgroup", root: "/"))
    }

    func testLocatePrefersWholeHierarchyAndSkipsOvermounted() {
        let text = """
            30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
            31 23 0:27 / /sys/fs/cgroup rw - tmpfs tmpfs rw
            50 27 0:26 /docker/abc /var/lib/x rw - cgroup2 cgroup2 rw
            51 27 0:26 / /run/cg rw - cgroup2 cgroup2 rw
            """
        XCTAssertEqual(Cgroup2Mount.locate(in: MountInfo.parse(text)), Cgroup2Mount(mountPoint: "/run/cg", root: "/"))
    }

    func testLocateSubtreeMountKeepsItsRoot() {
        let text = "50 27 0:26 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
        XCTAssertEqual(Cgroup2Mount.locate(in: MountInfo.parse(text)),
                       Cgroup2Mount(mountPoint: "/sys/fs/cgroup", root: "/docker/abc"))
    }

    func testLocateWithoutCgroup2() {
        let text = "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        XCTAssertNil(Cgroup2Mount.locate(in: MountInfo.parse(text)))
        let path = NSTemporaryDirectory() + "nstrace-mountinfo-\(getpid())"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try Cgroup2Mount.locate(mountInfoPath: path)) { error in
            XCTAssertEqual(error as? CgroupResolverError, .noCgroup2Mount(mountInfoPath: path))
        }
        XCTAssertThrowsError(try Cgroup2Mount.locate(mountInfoPath: path + ".missing"))
    }

    // MARK: walking an ordinary directory tree (deterministic, no cgroupfs needed)

    func testWalksADirectoryTreeByInode() throws {
        let base = try makeTemporaryTree(["a", "a/b", "a/b/c", "d"], files: ["cgroup.procs", "a/cgroup.procs"])
        defer { try? FileManager.default.removeItem(atPath: base) }

        let resolver = CgroupResolver(mount: Cgroup2Mount(mountPoint: base), minimumRescanInterval: .seconds(3600))
        XCTAssertEqual(resolver.path(forID: try inode(base)), "/")
        XCTAssertEqual(resolver.path(forID: try inode(base + "/a/b/c")), "/a/b/c")
        XCTAssertEqual(resolver.path(forID: try inode(base + "/d")), "/d")
        XCTAssertNil(resolver.path(forID: try inode(base + "/cgroup.procs")), "files are not cgroups")
        XCTAssertEqual(resolver.knownCount, 5)
    }

    func testSubtreeMountPrefixesPathsWithItsRoot() throws {
        let base = try makeTemporaryTree(["x"], files: [])
        defer { try? FileManager.default.removeItem(atPath: base) }
        let resolver = CgroupResolver(mount: Cgroup2Mount(mountPoint: base, root: "/docker/abc"))
        XCTAssertEqual(resolver.path(forID: try inode(base)), "/docker/abc")
        XCTAssertEqual(resolver.path(forID: try inode(base + "/x")), "/docker/abc/x")
    }

    func testRescanOnMissIsBounded() throws {
        let base = try makeTemporaryTree([], files: [])
        defer { try? FileManager.default.removeItem(atPath: base) }
        let resolver = CgroupResolver(mount: Cgroup2Mount(mountPoint: base), minimumRescanInterval: .seconds(3600))

        XCTAssertNil(resolver.path(forID: .max))                     // first miss: walks
        try FileManager.default.createDirectory(atPath: base + "/late", withIntermediateDirectories: false)
        let late = try inode(base + "/late")
        XCTAssertNil(resolver.path(forID: late), "a second walk within the interval must not happen")
        XCTAssertEqual(resolver.rescan(), 2)
        XCTAssertEqual(resolver.path(forID: late), "/late")

        let eager = CgroupResolver(mount: Cgroup2Mount(mountPoint: base), minimumRescanInterval: .zero)
        XCTAssertNil(eager.path(forID: .max))
        try FileManager.default.createDirectory(atPath: base + "/later", withIntermediateDirectories: false)
        XCTAssertEqual(eager.path(forID: try inode(base + "/later")), "/later")
    }

    func testRegisteredCgroupsResolveWithoutWalking() {
        let resolver = CgroupResolver(mount: Cgroup2Mount(mountPoint: "/nonexistent-\(getpid())"))
        resolver.register(id: 123_456_789, path: "/docker/abc")
        resolver.register(id: 123_456_790, path: "rtdemo/ctr")
        resolver.register(id: 0, path: "/ignored")
        XCTAssertEqual(resolver.path(forID: 123_456_789), "/docker/abc")
        XCTAssertEqual(resolver.path(forID: 123_456_790), "/rtdemo/ctr")
        XCTAssertNil(resolver.path(forID: 0))
        XCTAssertNil(resolver.path(forID: 1), "a mount point that does not exist resolves nothing")
        XCTAssertEqual(resolver.knownCount, 2)
    }

    func testConcurrentLookupsAreSafe() throws {
        let base = try makeTemporaryTree((0..<50).map { "c\($0)" }, files: [])
        defer { try? FileManager.default.removeItem(atPath: base) }
        let ids = try (0..<50).map { try inode(base + "/c\($0)") }
        let resolver = CgroupResolver(mount: Cgroup2Mount(mountPoint: base), minimumRescanInterval: .milliseconds(1))
        DispatchQueue.concurrentPerform(iterations: 400) { index in
            if index % 7 == 0 { resolver.register(id: UInt64(1_000_000 + index), path: "/r\(index)") }
            _ = resolver.path(forID: ids[index % ids.count])
            _ = resolver.path(forID: UInt64(2_000_000 + index))
        }
        resolver.rescan()
        for (index, id) in ids.enumerated() {
            XCTAssertEqual(resolver.path(forID: id), "/c\(index)")
        }
    }

    // MARK: the real cgroup2 filesystem of this machine

    func testRealCgroup2FilesystemResolvesAFreshCgroupEvenAfterItIsGone() throws {
        let mount = try XCTUnwrap(try? Cgroup2Mount.locate(), "this machine has a cgroup2 mount")
        XCTAssertTrue(FileManager.default.fileExists(atPath: mount.mountPoint + "/cgroup.procs"))
        XCTAssertEqual(mount.root, "/")

        let name = "nstrace-test-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let directory = mount.mountPoint + "/" + name
        guard mkdir(directory, 0o755) == 0 else {
            // the tests run as root (make test): not being able to is a failure, never a skip
            return XCTFail("cannot create a cgroup under \(mount.mountPoint) (errno \(errno)): run the tests as root")
        }
        var removed = false
        defer { if !removed { _ = rmdir(directory + "/child"); _ = rmdir(directory) } }
        XCTAssertEqual(mkdir(directory + "/child", 0o755), 0)

        let resolver = CgroupResolver(mount: mount)
        let id = try inode(directory)
        let childID = try inode(directory + "/child")
        XCTAssertEqual(resolver.path(forID: id), "/" + name)
        XCTAssertEqual(resolver.path(forID: childID), "/" + name + "/child")
        XCTAssertEqual(resolver.path(forID: try inode(mount.mountPoint)), "/")

        XCTAssertEqual(rmdir(directory + "/child"), 0)
        XCTAssertEqual(rmdir(directory), 0)
        removed = true
        XCTAssertEqual(resolver.path(forID: childID), "/" + name + "/child", "a removed cgroup still resolves")
        resolver.rescan()
        XCTAssertEqual(resolver.path(forID: id), "/" + name, "and a rescan does not forget it")
    }

    func testRealCgroupOfThisProcessMatchesProcSelfCgroup() throws {
        let mount = try XCTUnwrap(try? Cgroup2Mount.locate())
        let contents = try String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)
        let unifiedLine = try XCTUnwrap(contents.split(separator: "\n").first { $0.hasPrefix("0::") })
        let path = String(unifiedLine.dropFirst(3))
        let directory = mount.mountPoint + (path == "/" ? "" : path)
        let resolver = CgroupResolver(mount: mount)
        XCTAssertEqual(resolver.path(forID: try inode(directory)), path)
        XCTAssertGreaterThan(resolver.knownCount, 0)
    }

    // MARK: helpers

    /// What the kernel reports as the cgroup id: the directory's inode.
    private func inode(_ path: String) throws -> UInt64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
        return UInt64(info.st_ino)
    }

    private func makeTemporaryTree(_ directories: [String], files: [String]) throws -> String {
        let base = NSTemporaryDirectory() + "nstrace-cgtree-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        for directory in directories {
            try FileManager.default.createDirectory(atPath: base + "/" + directory, withIntermediateDirectories: true)
        }
        for file in files {
            _ = FileManager.default.createFile(atPath: base + "/" + file, contents: Data())
        }
        return base
    }
}
