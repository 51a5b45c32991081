import Foundation
import XCTest
@testable import NstraceCore

/// A /proc tree made of plain files and dangling symlinks (`net:[…]`), and a /run for
/// the runtimes' state directories.
private final class FakeProc {
    let root: String
    var proc: String { root + "/proc" }
    var run: String { root + "/run" }

    init() throws {
        root = NSTemporaryDirectory() + "nstrace-fakeproc-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: root + "/proc", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/run", withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Namespace inodes by type; types not given get the host's (1000 + index).
    static let host: [String: UInt64] = ["mnt": 1000, "net": 1001, "pid": 1002, "uts": 1003, "ipc": 1004, "user": 1005, "cgroup": 1006, "time": 1007]

    func addProcess(pid: Int32, ppid: Int32, comm: String, start: UInt64, cgroup: String, ns: [String: UInt64] = [:],
                    nsPID: [Int32]? = nil, state: String = "S") throws {
        let directory = "\(proc)/\(pid)"
        try FileManager.default.createDirectory(atPath: directory + "/ns", withIntermediateDirectories: true)
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority nice threads itreal starttime ...
        let stat = "\(pid) (\(comm)) \(state) \(ppid) \(pid) \(pid) 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 \(start) 1000 100 18446744073709551615 0 0 0\n"
        try stat.write(toFile: directory + "/stat", atomically: false, encoding: .utf8)
        try cgroup.write(toFile: directory + "/cgroup", atomically: false, encoding: .utf8)
        let nsPIDs = (nsPID ?? [pid]).map(String.init).joined(separator: "\t")
        try "Name:\t\(comm)\nPid:\t\(pid)\nNSpid:\t\(nsPIDs)\n".write(toFile: directory + "/status", atomically: false, encoding: .utf8)
        var inodes = Self.host.merging(ns) { _, new in new }
        inodes["pid_for_children"] = inodes["pid"]
        inodes["time_for_children"] = inodes["time"]
        for (link, inode) in inodes {
            let type = link.hasPrefix("pid") ? "pid" : link.hasPrefix("time") ? "time" : link
            try FileManager.default.createSymbolicLink(atPath: "\(directory)/ns/\(link)", withDestinationPath: "\(type):[\(inode)]")
        }
    }

    func makeStateDirectory(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: run + "/" + relative, withIntermediateDirectories: true)
    }

    func options(hostPID: Int32 = 1) -> ContainerInventory.Options {
        var options = ContainerInventory.Options()
        options.procRoot = proc
        options.hostPID = hostPID
        options.stateDirectories = RuntimeStateDirectories(runRoot: run)
        return options
    }
}

final class ContainerInventoryTests: XCTestCase {
    static let dockerID = "20530def80a261ce4f0d5d1562161f1f49ee5d6a3d8d2827c135a959c879f7b5"
    static let dockerID2 = "20531aaa80a261ce4f0d5d1562161f1f49ee5d6a3d8d2827c135a959c879f7b5"
    static let podmanID = "61f6766115f7f6178e7fb496b8c84338d61487cc3d4953350445edd7a2078a45"

    private static let containerNS: [String: UInt64] = ["mnt": 2000, "net": 2001, "pid": 2002, "uts": 2003, "ipc": 2004]

    /// The host as `start-containers.sh` leaves it: runc and crun with cgroupsPath
    /// /rtdemo/<id>, ctr in containerd namespace rtdemo, docker (with an exec), podman.
    private func makeHost() throws -> FakeProc {
        let fake = try FakeProc()
        try fake.addProcess(pid: 1, ppid: 0, comm: "init", start: 1, cgroup: "0::/\n")
        try fake.addProcess(pid: 50, ppid: 1, comm: "containerd-shim", start: 40, cgroup: "1:name=systemd:/\n0::/\n")
        // docker: init 100 with a child 101, and a later `docker exec` 102 whose parent is the shim.
        let docker = "0::/docker/\(Self.dockerID)\n"
        try fake.addProcess(pid: 100, ppid: 50, comm: "sh", start: 100, cgroup: docker, ns: Self.containerNS, nsPID: [100, 1])
        try fake.addProcess(pid: 101, ppid: 100, comm: "sleep", start: 101, cgroup: docker, ns: Self.containerNS, nsPID: [101, 7])
        try fake.addProcess(pid: 102, ppid: 50, comm: "exe", start: 500, cgroup: docker, ns: Self.containerNS, nsPID: [102, 8])
        // A second docker container sharing the first one's network (--net=container:…) and the host's ipc.
        try fake.addProcess(pid: 120, ppid: 50, comm: "sleep", start: 120, cgroup: "0::/docker/\(Self.dockerID2)\n",
                            ns: ["mnt": 2100, "pid": 2102, "uts": 2103, "net": 2001], nsPID: [120, 1])
        // The same layout /rtdemo/<id> for runc, crun and containerd: the state directories tell them apart.
        try fake.addProcess(pid: 200, ppid: 1, comm: "sleep", start: 200, cgroup: "0::/rtdemo/rtdemo1-runc\n", ns: ["mnt": 3000, "net": 3001])
        try fake.addProcess(pid: 210, ppid: 1, comm: "sleep", start: 210, cgroup: "0::/rtdemo/rtdemo1-crun\n", ns: ["mnt": 3100, "net": 3101])
        try fake.addProcess(pid: 220, ppid: 50, comm: "sleep", start: 220, cgroup: "0::/rtdemo/rtdemo1-ctr\n", ns: ["mnt": 3200, "net": 3201])
        try fake.addProcess(pid: 230, ppid: 1, comm: "sleep", start: 230, cgroup: "0::/plain-runc\n", ns: ["mnt": 3300, "net": 3301])
        try fake.makeStateDirectory("runc/rtdemo1-runc")
        try fake.makeStateDirectory("crun/rtdemo1-crun")
        try fake.makeStateDirectory("containerd/runc/rtdemo/rtdemo1-ctr")
        try fake.makeStateDirectory("crun/plain-runc")
        // podman on the host network.
        try fake.addProcess(pid: 300, ppid: 1, comm: "sleep", start: 300, cgroup: "0::/libpod_parent/libpod-\(Self.podmanID)\n", ns: ["mnt": 4000])
        // A host process in its own network namespace (`unshare -n`), and a zombie.
        try fake.addProcess(pid: 400, ppid: 1, comm: "unshare", start: 400, cgroup: "0::/\n", ns: ["net": 5001])
        try fake.addProcess(pid: 401, ppid: 1, comm: "defunct", start: 401, cgroup: "", state: "Z")
        // A process that exited mid-scan: its directory is there, its files are not.
        try FileManager.default.createDirectory(atPath: fake.proc + "/402", withIntermediateDirectories: true)
        return fake
    }

    func testScanFindsAndRefinesEveryContainer() throws {
        let fake = try makeHost()
        let inventory = try ContainerInventory.scan(options: fake.options())
        let byID = Dictionary(uniqueKeysWithValues: inventory.containers.map { ($0.id, $0) })
        XCTAssertEqual(inventory.containers.count, 7)

        let docker = try XCTUnwrap(byID[Self.dockerID])
        XCTAssertEqual(docker.identity.runtime, .docker)
        XCTAssertEqual(docker.initPID, 100, "the pid-1 root, not the exec'd process")
        XCTAssertEqual(docker.pids, [100, 101, 102])
        XCTAssertEqual(docker.cgroupPath, "/docker/\(Self.dockerID)")
        XCTAssertEqual(docker.namespaces[.net], 2001)
        XCTAssertEqual(docker.sharedWithHost, [.user, .cgroup, .time])
        XCTAssertEqual(docker.shortID, "20530def80a2")
        XCTAssertEqual(docker.displayName, "20530def80a2")

        XCTAssertEqual(byID["rtdemo1-runc"]?.identity, ContainerIdentity(id: "rtdemo1-runc", runtime: .runc))
        XCTAssertEqual(byID["rtdemo1-crun"]?.identity, ContainerIdentity(id: "rtdemo1-crun", runtime: .crun))
        XCTAssertEqual(byID["rtdemo1-ctr"]?.identity, ContainerIdentity(id: "rtdemo1-ctr", runtime: .containerd, containerdNamespace: "rtdemo"))
        XCTAssertEqual(byID["plain-runc"]?.identity.runtime, .crun)
        XCTAssertEqual(byID["rtdemo1-runc"]?.shortID, "rtdemo1-runc", "only 64-hex ids are shortened")

        let podman = try XCTUnwrap(byID[Self.podmanID])
        XCTAssertEqual(podman.identity.runtime, .podman)
        XCTAssertTrue(podman.sharedWithHost.contains(.net))
        XCTAssertEqual(podman.sharedWithHost.count, 7, "all but mnt")

        XCTAssertEqual(inventory.processes.map(\.pid), [1, 50, 100, 101, 102, 120, 200, 210, 220, 230, 300, 400],
                       "the zombie and the exited process are skipped")
        XCTAssertEqual(inventory.unreadableProcesses, 0)
        XCTAssertEqual(inventory.container(ofPID: 101)?.id, Self.dockerID)
        XCTAssertNil(inventory.container(ofPID: 400))
    }

    func testInitIsTheOldestRootWithoutAPidNamespace() throws {
        let fake = try FakeProc()
        try fake.addProcess(pid: 1, ppid: 0, comm: "init", start: 1, cgroup: "0::/\n")
        let cgroup = "0::/docker/\(Self.dockerID)\n"
        // --pid=host: NSpid has one entry; the exec (lower pid after a wrap-around) started later.
        try fake.addProcess(pid: 90, ppid: 1, comm: "exe", start: 900, cgroup: cgroup)
        try fake.addProcess(pid: 95, ppid: 1, comm: "sleep", start: 100, cgroup: cgroup)
        let inventory = try ContainerInventory.scan(options: fake.options())
        XCTAssertEqual(inventory.containers.first?.initPID, 95)
    }

    func testMetadataIsAttached() throws {
        struct Fixed: ContainerMetadataLookup {
            func lookup(_ identity: ContainerIdentity) -> (name: String?, image: String?)? {
                identity.runtime == .docker ? ("web-\(identity.id.prefix(5))", "busybox:latest") : nil
            }
        }
        let fake = try makeHost()
        let inventory = try ContainerInventory.scan(options: fake.options(), metadata: Fixed())
        let docker = try XCTUnwrap(inventory.containers.first { $0.id == Self.dockerID })
        XCTAssertEqual(docker.name, "web-20530")
        XCTAssertEqual(docker.image, "busybox:latest")
        XCTAssertEqual(docker.displayName, "web-20530")
        XCTAssertNil(inventory.containers.first { $0.id == "rtdemo1-runc" }?.name)
    }

    func testFind() throws {
        let fake = try makeHost()
        struct Names: ContainerMetadataLookup {
            func lookup(_ identity: ContainerIdentity) -> (name: String?, image: String?)? {
                switch identity.id {
                case ContainerInventoryTests.dockerID: return ("web", nil)
                case ContainerInventoryTests.dockerID2: return ("db", nil)
                default: return (identity.id, nil)
                }
            }
        }
        let inventory = try ContainerInventory.scan(options: fake.options(), metadata: Names())
        XCTAssertEqual(try inventory.find(Self.dockerID).id, Self.dockerID)
        XCTAssertEqual(try inventory.find("web").id, Self.dockerID)
        XCTAssertEqual(try inventory.find("db").id, Self.dockerID2)
        XCTAssertEqual(try inventory.find("20530d").id, Self.dockerID)
        XCTAssertEqual(try inventory.find("rtdemo1-ctr").identity.runtime, .containerd)
        XCTAssertEqual(try inventory.find("61f").id, Self.podmanID)

        XCTAssertThrowsError(try inventory.find("2053")) { error in
            guard case .ambiguous(let query, let candidates)? = error as? ContainerQueryError else { return XCTFail("\(error)") }
            XCTAssertEqual(query, "2053")
            XCTAssertEqual(candidates, ["20530def80a2 (web, docker)", "20531aaa80a2 (db, docker)"])
            XCTAssertEqual((error as? ContainerQueryError)?.description,
                           "'2053' matches 2 containers: 20530def80a2 (web, docker), 20531aaa80a2 (db, docker); give more of the id")
        }
        XCTAssertThrowsError(try inventory.find("rtdemo1")) { error in
            guard case .ambiguous(_, let candidates)? = error as? ContainerQueryError else { return XCTFail("\(error)") }
            XCTAssertEqual(candidates.count, 3)
        }
        XCTAssertThrowsError(try inventory.find("nope")) { error in
            guard case .notFound(_, let running)? = error as? ContainerQueryError else { return XCTFail("\(error)") }
            XCTAssertTrue(running.contains("web"))
            XCTAssertTrue("\(error)".hasPrefix("no running container matches 'nope'; running: "), "\(error)")
        }
        XCTAssertThrowsError(try inventory.find(""))
        let empty = ContainerInventory(containers: [], processes: [], hostNamespaces: ProcNamespaceInodes(pid: 1, inodes: [:]))
        XCTAssertEqual("\(ContainerQueryError.notFound(query: "x", running: []))", "no running container matches 'x' (no containers are running)")
        XCTAssertThrowsError(try empty.find("x"))
    }

    func testNamespaceUsageGroupsByContainer() throws {
        let fake = try makeHost()
        let inventory = try ContainerInventory.scan(options: fake.options())
        let usages = inventory.namespaceUsage()
        // Host namespaces first.
        let hostNet = try XCTUnwrap(usages.first { $0.type == .net && $0.inode == 1001 })
        XCTAssertTrue(hostNet.isHost)
        XCTAssertNil(hostNet.owner)
        XCTAssertEqual(hostNet.firstPID, 1)
        XCTAssertEqual(hostNet.firstCommand, "init")
        XCTAssertEqual(hostNet.containers.map(\.id), [Self.podmanID])
        XCTAssertTrue(hostNet.containers.contains { $0.id == Self.podmanID }, "podman runs on the host network")
        XCTAssertEqual(usages.prefix(8).map(\.isHost), Array(repeating: true, count: 8))

        // The docker container's net namespace is owned by it and shared with the second one.
        let dockerNet = try XCTUnwrap(usages.first { $0.type == .net && $0.inode == 2001 })
        XCTAssertEqual(dockerNet.owner?.id, Self.dockerID)
        XCTAssertEqual(dockerNet.containers.map(\.id), [Self.dockerID, Self.dockerID2])
        XCTAssertEqual(dockerNet.pids, [100, 101, 102, 120])
        XCTAssertEqual(dockerNet.hostProcessCount, 0)

        // A host process's own namespace: no owner, grouped last.
        let unshared = try XCTUnwrap(usages.last)
        XCTAssertEqual(unshared.inode, 5001)
        XCTAssertNil(unshared.owner)
        XCTAssertFalse(unshared.isHost)
        XCTAssertEqual(unshared.hostProcessCount, 1)
    }

    func testSharingOfOneContainer() throws {
        let fake = try makeHost()
        let inventory = try ContainerInventory.scan(options: fake.options())
        let second = try inventory.find(Self.dockerID2)
        let rows = Dictionary(uniqueKeysWithValues: inventory.sharing(of: second.namespaces, excluding: second.identity).map { ($0.link, $0) })
        XCTAssertEqual(rows.count, 8, "no *_for_children rows when they equal pid/time")
        XCTAssertEqual(rows[.net]?.sharedWithContainers.map(\.id), [Self.dockerID])
        XCTAssertFalse(rows[.net]?.sharedWithHost ?? true)
        XCTAssertEqual(rows[.ipc]?.sharedWithHost, true)
        XCTAssertEqual(rows[.mnt]?.sharedWithContainers, [])
        XCTAssertEqual(rows[.mnt]?.sharedWithHost, false)
    }

    func testParseStat() {
        let line = "4242 (a) (b c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 100 0\n"
        let parsed = ContainerInventory.parseStat(line)
        XCTAssertEqual(parsed?.command, "a) (b c)")
        XCTAssertEqual(parsed?.parentPID, 1)
        XCTAssertEqual(parsed?.startTime, 98765)
        XCTAssertEqual(parsed?.state, "S")
        for bad in ["", "4242 (x S 1", "4242 (x) S", "4242 (x) S notanumber 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20"] {
            XCTAssertNil(ContainerInventory.parseStat(bad), bad)
        }
    }

    func testUnifiedCgroupPath() {
        XCTAssertEqual(ContainerInventory.unifiedCgroupPath("9:name=systemd:/\n4:memory:/x\n0::/docker/abc\n"), "/docker/abc")
        XCTAssertEqual(ContainerInventory.unifiedCgroupPath("0::/\n"), "/")
        XCTAssertNil(ContainerInventory.unifiedCgroupPath("4:memory:/x\n"))
    }

    func testRefineLeavesDistinctiveLayoutsAlone() throws {
        let fake = try FakeProc()
        try fake.makeStateDirectory("runc/\(Self.dockerID)")
        let directories = RuntimeStateDirectories(runRoot: fake.run)
        let docker = ContainerIdentity(id: Self.dockerID, runtime: .docker)
        XCTAssertEqual(directories.refine(docker), docker)
        let guess = ContainerIdentity(id: "x", runtime: .containerd, containerdNamespace: "k8s.io")
        XCTAssertEqual(directories.refine(guess), guess, "no state directory: the guess stays")
        let hostile = ContainerIdentity(id: "..", runtime: .runc)
        XCTAssertEqual(directories.refine(hostile), hostile)
    }

    func testScanOfThisHost() throws {
        // Whatever runs here: nstrace's own process is a host process in the host's namespaces.
        let inventory = try ContainerInventory.scan()
        let me = try XCTUnwrap(inventory.process(getpid()))
        XCTAssertEqual(me.namespaces, inventory.hostNamespaces)
        for container in inventory.containers {
            XCTAssertTrue(container.pids.contains(container.initPID))
            XCTAssertFalse(container.pids.contains(getpid()))
        }
    }

    func testMissingProcRootIsAnError() {
        var options = ContainerInventory.Options()
        options.procRoot = "/nonexistent-proc"
        XCTAssertThrowsError(try ContainerInventory.scan(options: options))
    }
}
