import Foundation
import XCTest
@testable import NstraceCore

/// The startup analysis of real container starts recorded on this machine by `nstrace record`
/// (Tests/Fixtures/analysis, re-recorded by record.sh and record-extra.sh there).
final class StartupAnalysisTests: XCTestCase {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/analysis")

    static func fixture(_ name: String) -> String { dir.appendingPathComponent(name + ".nst").path }

    func analyze(_ names: String...) throws -> StartupAnalysis {
        try TraceAnalysis.analyze(files: names.map(Self.fixture)).0
    }

    func only(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> ContainerStartup {
        let a = try analyze(name)
        XCTAssertEqual(a.startups.count, 1, "starts in \(name)", file: file, line: line)
        return try XCTUnwrap(a.startups.first, file: file, line: line)
    }

    func phases(_ s: ContainerStartup) -> [StartupPhase] { s.phases.map(\.phase) }
    func comms(_ s: ContainerStartup, _ p: StartupPhase) -> Set<String> { Set(s.phase(p)?.processes.map(\.comm) ?? []) }
    func created(_ s: ContainerStartup) -> Set<String> { Set(s.namespaces.filter { $0.how == "created" }.map(\.type)) }

    /// Phases follow each other: each starts no earlier than the previous one of the runtime's chain.
    func assertChain(_ s: ContainerStartup, _ chain: [StartupPhase], file: StaticString = #filePath, line: UInt = #line) {
        let starts = chain.compactMap { s.phase($0)?.startNs }
        XCTAssertEqual(starts.count, chain.count, "phases present", file: file, line: line)
        XCTAssertEqual(starts, starts.sorted(), "phases in order \(chain)", file: file, line: line)
    }

    func testRuncRun() throws {
        let s = try only("runc")
        XCTAssertTrue(s.complete, "\(s.incompleteReasons)")
        XCTAssertEqual(phases(s), [.runtimeInvoked, .runtimeBootstrap, .namespaces, .mountSetup, .pivotRoot, .finishing, .entrypoint])
        // `runc run`: no engine, no separate start, no network set up by anybody
        XCTAssertNil(s.phase(.enginePreparation)); XCTAssertNil(s.phase(.network)); XCTAssertNil(s.phase(.createStartWait))
        XCTAssertEqual(comms(s, .namespaces), ["runc:[1:CHILD]"])
        XCTAssertEqual(comms(s, .mountSetup), ["runc:[2:INIT]"])
        XCTAssertEqual(comms(s, .entrypoint), ["sleep"])
        XCTAssertEqual(created(s), ["mnt", "net", "pid", "uts", "ipc"])
        XCTAssertEqual(s.sharedWithHost, ["cgroup", "time", "user"])
        XCTAssertEqual(s.mountsByKind["proc"], 1)
        XCTAssertEqual(s.mountsByKind["sysfs"], 1)
        XCTAssertEqual(s.mountsByKind["devpts"], 1)
        XCTAssertEqual(s.mountsByKind["mqueue"], 1)
        XCTAssertEqual(s.mountsByKind["pivot_root"], 1)
        XCTAssertEqual(s.failedCallCount, 9)
        XCTAssertTrue(s.volumes.isEmpty)
        let total = try XCTUnwrap(s.totalNs)
        XCTAssertGreaterThan(total, 5_000_000)
        XCTAssertLessThan(total, 2_000_000_000)
        XCTAssertEqual(s.endNs.map { $0 - s.startNs }, total)
        for p in s.phases { XCTAssertLessThanOrEqual(p.endNs, s.startNs + total + 1, "\(p.phase) ends by the entrypoint") }
    }

    func testCrunRunHasNoFinishing() throws {
        let s = try only("crun")
        XCTAssertTrue(s.complete, "\(s.incompleteReasons)")
        // crun masks paths before pivot_root: no finishing phase
        XCTAssertEqual(phases(s), [.runtimeInvoked, .runtimeBootstrap, .namespaces, .mountSetup, .pivotRoot, .entrypoint])
        XCTAssertEqual(s.phase(.namespaces)?.eventCount, 1, "one clone makes them all")
        XCTAssertEqual((s.events.first { $0.kind == .clone }?.namespaceFlags ?? 0) & 0x20000, 0x20000, "CLONE_NEWNS")
        XCTAssertEqual(created(s), ["mnt", "net", "pid", "uts", "ipc"])
    }

    func testContainerdShimAndStart() throws {
        let s = try only("ctr")
        XCTAssertTrue(s.complete, "\(s.incompleteReasons)")
        assertChain(s, [.enginePreparation, .runtimeInvoked, .runtimeBootstrap, .namespaces, .mountSetup, .pivotRoot,
                        .finishing, .createStartWait, .entrypoint])
        XCTAssertTrue(comms(s, .enginePreparation).contains("containerd-shim"))
        XCTAssertEqual(s.mountsByKind["overlay"], 1, "the shim's rootfs")
        XCTAssertEqual(s.container.runtime, "containerd")
        let wait = try XCTUnwrap(s.phase(.createStartWait))
        XCTAssertEqual(wait.processes.map(\.comm), ["runc"], "the `runc start` that ends the wait")
    }

    func testDockerEngineNetworkAndVolume() throws {
        let s = try only("docker")
        XCTAssertTrue(s.complete, "\(s.incompleteReasons)")
        XCTAssertEqual(s.container.id.count, 64)
        XCTAssertEqual(s.container.image, "nstrace-e2e/busybox:latest")
        assertChain(s, [.enginePreparation, .runtimeInvoked, .runtimeBootstrap, .namespaces, .mountSetup, .pivotRoot,
                        .finishing, .createStartWait, .entrypoint])
        XCTAssertTrue(comms(s, .enginePreparation).contains("dockerd"), "dockerd's overlay mounts")
        XCTAssertEqual(s.events.filter { $0.comm == "dockerd" && $0.fstype == "overlay" }.count, 3)
        let network = try XCTUnwrap(s.phase(.network))
        XCTAssertTrue(network.processes.contains { $0.comm == "dockerd" }, "dockerd pins and enters the netns")
        // dockerd's setns into the new netns (and back), its "exe" helper's and the setkey hook's
        // are the engine's network work: not namespaces the runtime made, not the container's joins
        XCTAssertEqual(try XCTUnwrap(s.phase(.namespaces)).processes.map(\.comm), ["runc:[1:CHILD]"])
        XCTAssertFalse(try XCTUnwrap(s.phase(.mountSetup)).processes.contains { $0.comm == "dockerd" }, "the netns pin is network work")
        XCTAssertTrue(network.processes.contains { $0.comm == "exe" && $0.pid == 17432 }, "dockerd's re-executed helper in the netns")
        XCTAssertFalse(s.namespaces.contains { $0.how == "joined" }, "\(s.namespaces)")
        XCTAssertTrue(s.criticalChain.links.contains { $0.phase == .network }, "runc waits for the setkey hook before pivot_root")
        XCTAssertEqual(s.volumes.count, 1)
        let v = try XCTUnwrap(s.volumes.first)
        XCTAssertEqual(v.source, "/home")
        XCTAssertEqual(v.rawTarget, "/proc/self/fd/6")
        XCTAssertNil(v.target, "runc mounts through an fd: the target is not in the trace")
        XCTAssertEqual(v.propagation, "private")
        XCTAssertFalse(v.readOnly)
        XCTAssertTrue(s.findings.contains { $0.kind == "host_path_rw" && $0.subject == "/home" && !$0.events.isEmpty })
    }

    func testPodmanNetnsFromEngineAndPlugins() throws {
        let s = try only("podman")
        XCTAssertTrue(s.complete, "\(s.incompleteReasons)")
        assertChain(s, [.enginePreparation, .runtimeInvoked, .runtimeBootstrap, .namespaces, .mountSetup, .pivotRoot,
                        .createStartWait, .entrypoint])
        XCTAssertNil(s.phase(.finishing))
        let net = comms(s, .network)
        XCTAssertTrue(net.isSuperset(of: ["podman", "bridge", "tuning"]), "\(net)")
        // podman made the netns; crun joined it and created the rest
        XCTAssertEqual(Set(s.namespaces.filter { $0.how == "joined" }.map(\.type)), ["net"])
        XCTAssertEqual(created(s), ["mnt", "pid", "uts", "ipc"])
        XCTAssertTrue(comms(s, .enginePreparation).isSuperset(of: ["podman", "conmon"]))
    }

    func testPercentilesAcrossStarts() throws {
        let a = try analyze("runc-multi")
        XCTAssertEqual(a.startups.count, 3)
        XCTAssertTrue(a.startups.allSatisfy(\.complete))
        let st = StartupStatistics(a.startups)
        let runc = try XCTUnwrap(st.groups.first { $0.by == "runtime" && $0.key == "runc" })
        let total = try XCTUnwrap(runc.total)
        XCTAssertEqual(total.count, 3)
        let totals = a.startups.compactMap(\.totalNs).sorted()
        XCTAssertEqual(total.p50, totals[1])
        XCTAssertEqual(total.max, totals[2])
        XCTAssertEqual(total.p99, totals[2])
        XCTAssertTrue(runc.phases.contains { $0.0 == .mountSetup && $0.1.count == 3 })
    }

    func testSeveralFilesMerged() throws {
        let a = try analyze("podman", "runc", "crun")
        XCTAssertEqual(a.startups.map(\.container.runtime), ["runc", "crun", "podman"], "in time order")
        XCTAssertEqual(Set(StartupStatistics(a.startups).groups.filter { $0.by == "runtime" }.map(\.key)), ["runc", "crun", "podman"])
    }

    func testLostEventsMakeTheStartIncomplete() throws {
        let a = try analyze("runc-lossy")
        XCTAssertGreaterThan(a.lostEvents, 0)
        let s = try XCTUnwrap(a.startups.first)
        XCTAssertFalse(s.complete)
        XCTAssertNil(s.totalNs, "never shown as complete")
        XCTAssertTrue(s.incompleteReasons.contains { $0.contains("lost") })
        XCTAssertTrue(s.findings.contains { $0.kind == "lost_events" })
        XCTAssertTrue(StartupStatistics(a.startups).groups.isEmpty, "incomplete starts stay out of the percentiles")
    }

    func testCutTraceIsIncomplete() throws {
        let (a, warnings) = try TraceAnalysis.analyze(files: [Self.fixture("docker-cut")])
        XCTAssertEqual(a.cutFiles.count, 1)
        XCTAssertTrue(warnings.contains { $0.contains("cut") })
        let s = try XCTUnwrap(a.startups.first)
        XCTAssertFalse(s.complete)
        XCTAssertNil(s.endNs)
        XCTAssertTrue(s.incompleteReasons.contains { $0.hasPrefix("cut at end") })
        XCTAssertNotNil(s.phase(.runtimeInvoked))
        XCTAssertNil(s.phase(.entrypoint))
    }

    /// `runc create` ran before the recording, `runc start` in it: the start is listed, never complete.
    func testStartCutAtItsBeginningIsNeverComplete() throws {
        let a = try analyze("runc-cut-start")
        let s = try XCTUnwrap(a.startups.first)
        XCTAssertEqual(a.startups.count, 1)
        XCTAssertFalse(s.complete)
        XCTAssertNil(s.totalNs, "never shown as complete")
        XCTAssertTrue(s.incompleteReasons.contains { $0.hasPrefix("cut at start") }, "\(s.incompleteReasons)")
        XCTAssertNil(s.phase(.runtimeInvoked))
        XCTAssertNil(s.phase(.namespaces))
        XCTAssertTrue(StartupStatistics(a.startups).groups.isEmpty, "left out of the percentiles")
        XCTAssertTrue(StartupTextReport.render(a).contains("INCOMPLETE: cut at start"))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(StartupJSONReport.render(a).utf8)) as? [String: Any])
        let c = try XCTUnwrap((json["containers"] as? [[String: Any]])?.first)
        XCTAssertEqual(c["complete"] as? Bool, false)
        XCTAssertTrue(c["total_ns"] is NSNull)
    }

    /// `runc exec` and `docker exec` after the starts: later joins and exec sessions, not part of the starts.
    func testExecSessionsAreLaterJoinsNotPartOfTheStart() throws {
        let a = try analyze("exec")
        XCTAssertEqual(a.startups.map(\.container.runtime), ["runc", "docker"])
        for s in a.startups {
            XCTAssertTrue(s.complete, "\(s.container.runtime): \(s.incompleteReasons)")
            XCTAssertEqual(s.execSessions, 1, s.container.runtime)
            XCTAssertGreaterThanOrEqual(s.laterJoins, 4, "the exec's setns into each namespace: \(s.container.runtime)")
            let end = try XCTUnwrap(s.endNs)
            for p in s.phases { XCTAssertLessThanOrEqual(p.endNs, end + 1, "\(p.phase) ends by the entrypoint's exec") }
            for (i, e) in s.events.enumerated() where s.eventPhases[i] != nil {
                XCTAssertLessThanOrEqual(e.tsNs, end, "\(e.name) \(e.detail) is after the start")
            }
            XCTAssertFalse(s.events.contains { $0.isRuntime && RuntimeInvocation.subcommand($0.argv) == "exec" }, "the exec is not in the start's timeline")
            XCTAssertEqual(created(s), ["mnt", "net", "pid", "uts", "ipc"], "the exec creates nothing")
            XCTAssertEqual(s.criticalChain.links.last?.phase, .entrypoint)
        }
        XCTAssertTrue(StartupTextReport.render(a).contains("later joins 5, exec sessions 1"))
    }

    /// The recorder resolved runc's /proc/self/fd/N target (issue 8's in_container): the volume's target is a fact.
    func testVolumeTargetFromTheResolvedPath() throws {
        let docker = try XCTUnwrap(try analyze("exec").startups.first { $0.container.runtime == "docker" })
        let v = try XCTUnwrap(docker.volumes.first)
        XCTAssertEqual(docker.volumes.count, 1)
        XCTAssertEqual(v.source, "/home")
        XCTAssertEqual(v.target, "/outside-home")
        XCTAssertTrue(v.rawTarget.hasPrefix("/proc/self/fd/"), v.rawTarget)
        XCTAssertTrue(v.readOnly, "-v /home:/outside-home:ro, remounted read-only through another fd")
        XCTAssertEqual(v.propagation, "private")
        XCTAssertFalse(docker.findings.contains { $0.kind == "host_path_rw" })
    }

    func testCriticalChain() throws {
        let runc = try only("runc").criticalChain.links
        XCTAssertEqual(runc.map(\.phase), [.runtimeInvoked, .runtimeBootstrap, .namespaces, .mountSetup, .pivotRoot, .finishing, .entrypoint])
        let s = try only("docker")
        let chain = s.criticalChain.links
        XCTAssertEqual(chain.first?.phase, .enginePreparation)
        XCTAssertEqual(chain.last?.phase, .entrypoint)
        XCTAssertEqual(chain.last?.endNs, s.endNs)
        XCTAssertTrue(chain.map(\.phase).contains(.createStartWait), "docker start waited for")
        for (a, b) in zip(chain, chain.dropFirst()) {
            XCTAssertLessThan(a.startNs, b.startNs, "\(a.phase) before \(b.phase)")
            XCTAssertEqual(b.waitNs, b.startNs > a.endNs ? b.startNs - a.endNs : 0)
        }
        let text = StartupTextReport.render(try analyze("docker"))
        XCTAssertTrue(text.contains("critical chain (each waited for the one above):\n    engine preparation      @0ns"), text)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(StartupJSONReport.render(try analyze("docker")).utf8)) as? [String: Any])
        let links = try XCTUnwrap(((json["containers"] as? [[String: Any]])?.first)?["critical_chain"] as? [[String: Any]])
        XCTAssertEqual(links.compactMap { $0["phase"] as? String }, chain.map(\.phase.rawValue))
        XCTAssertEqual(links.first?["offset_ns"] as? Int, 0)
        XCTAssertNotNil(links.last?["wait_ns"] as? Int)
    }

    /// docker's fixture knows one container by a cut id and by its full id, with one name:
    /// their order was the dictionary's (it changed from run to run), now name then id.
    func testKnownContainersInAStableOrder() throws {
        let (a, _) = try TraceAnalysis.analyze(files: [Self.fixture("docker")])
        let ids = a.knownContainers.map(\.id)
        XCTAssertEqual(ids, ["cd7a16efc7f62bcdbac1db7074640d6e041879fb0613f27d",
                             "cd7a16efc7f62bcdbac1db7074640d6e041879fb0613f27d9ede0e105f635718"])
        let unordered = a.knownContainers.reversed()
        XCTAssertEqual(StartupAnalyzer.sortedKnown(unordered).map(\.id), ids)
    }

    func testNoContainerStart() throws {
        let a = try analyze("none")
        XCTAssertTrue(a.startups.isEmpty)
        XCTAssertTrue(StartupTextReport.render(a).contains("no container start in the trace"))
    }

    func testSelectingContainers() throws {
        var a = try analyze("runc-multi")
        let name = try XCTUnwrap(a.startups[1].container.name)
        XCTAssertEqual(a.select([name]), [])
        XCTAssertEqual(a.startups.map(\.container.name), [name])
        XCTAssertEqual(a.select(["no-such-container"]), ["no-such-container"])
    }

    func testDiffOfTwoFixtures() throws {
        let runc = try analyze("runc").startups, crun = try analyze("crun").startups
        let d = StartupDiff(a: runc, b: crun)
        let finishing = try XCTUnwrap(d.rows.first { $0.name == "finishing" })
        XCTAssertNotNil(finishing.a)
        XCTAssertNil(finishing.b, "crun has no finishing phase")
        let total = try XCTUnwrap(d.rows.first { $0.name == "total" })
        XCTAssertEqual(total.changeNs, Int64(crun[0].totalNs!) - Int64(runc[0].totalNs!))
        XCTAssertTrue(d.changes.contains { $0.what == "finding" && $0.item == "failed_call:umount EINVAL" && $0.change == "appeared" })
        XCTAssertTrue(d.changes.contains { $0.what == "mount_kind" && $0.item == "propagation" })
        let docker = try analyze("docker").startups
        XCTAssertTrue(StartupDiff(a: runc, b: docker).changes.contains { $0.what == "volume" && $0.item.hasPrefix("/home") && $0.change == "appeared" })
        let json = try JSONSerialization.jsonObject(with: Data(d.json().utf8)) as? [String: Any]
        XCTAssertEqual((json?["phases"] as? [Any])?.count, d.rows.count)
    }

    func testJSONReportIsValidAndComplete() throws {
        let a = try analyze("docker", "podman")
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(StartupJSONReport.render(a).utf8)) as? [String: Any])
        let containers = try XCTUnwrap(obj["containers"] as? [[String: Any]])
        XCTAssertEqual(containers.count, 2)
        let phases = try XCTUnwrap(containers[0]["phases"] as? [[String: Any]])
        XCTAssertEqual(phases.first?["phase"] as? String, "engine_preparation")
        XCTAssertNotNil(containers[0]["total_ns"] as? Int)
        XCTAssertNotNil(obj["statistics"] as? [Any])
    }
}

final class EngineNetworkWorkTests: XCTestCase {
    /// dockerd's setns back into the host's netns, during a start, is network work: it must not
    /// make the host's netns the container's (every later host setns into it would be claimed).
    func testEngineReturnToTheHostNetnsIsNotTheContainers() {
        let c = AnalysisEvent.Container(id: String(repeating: "a", count: 64), runtime: "docker")
        let analyzer = StartupAnalyzer()
        analyzer.beginFile("synthetic")
        var create = AnalysisEvent(kind: .exec, name: "exec", tsNs: 1_000, pid: 20, comm: "runc", container: c)
        create.argv = ["runc", "--root", "/run/runc", "create", "--bundle", "/b", c.id]
        create.isRuntime = true
        analyzer.consume(create)
        var unshare = AnalysisEvent(kind: .unshare, name: "unshare", tsNs: 2_000, pid: 21, comm: "runc:[1:CHILD]", container: c)
        unshare.namespaceFlags = NamespaceType.net.cloneFlag
        unshare.namespaces = [("net", 500)]
        analyzer.consume(unshare)
        for (ts, inode) in [(3_000 as UInt64, 500 as UInt32), (4_000, 100)] {
            var setns = AnalysisEvent(kind: .setns, name: "setns", tsNs: ts, pid: 10, comm: "dockerd", container: c)
            setns.isEngine = true
            setns.namespaceFlags = NamespaceType.net.cloneFlag
            setns.namespaces = [("net", inode)]
            analyzer.consume(setns)
        }
        XCTAssertTrue(analyzer.ownsNetns(500), "the netns the runtime made")
        XCTAssertFalse(analyzer.ownsNetns(100), "the host's netns, which dockerd went back to")
    }
}
