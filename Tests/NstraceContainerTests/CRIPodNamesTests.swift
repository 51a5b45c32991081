import Foundation
import XCTest
import NstraceTestSupport
@testable import NstraceTelemetry

/// Pod names from a real CRI runtime (issue 12): containerd's CRI plugin, started by
/// runtimes.sh with the pause image it imported (nothing is pulled), drives host-network pods
/// (no CNI) that Tests/Fleet/cri_driver.py creates through the CRI API with grpcio.
/// nstrace's own CRI client and its reading of containerd's running bundles must map each
/// container to its pod; `live --otlp` must put the names on the records of a pod started
/// before it and of one started while it runs.
final class CRIPodNamesTests: XCTestCase {
    static let socket = "/run/containerd/containerd.sock"
    static let namespace = "nstrace-e2e"   // runtimes.sh teardown removes this namespace's pods

    struct Pod {
        let name: String
        let uid: String
        let sandboxID: String
        let containerID: String
    }

    override func tearDown() {
        // every pod of the tests, whatever failed
        _ = try? Command.run(Self.python, [Self.driver, Self.socket, "remove-pods", Self.namespace], timeout: 120)
    }

    static let python = Binaries.packageRoot.appendingPathComponent(".build/pyvenv/bin/python").path
    static let driver = Binaries.packageRoot.appendingPathComponent("Tests/Fleet/cri_driver.py").path

    /// RunPodSandbox (metadata name, namespace, uid; host network), CreateContainer `app`,
    /// StartContainer: through the CRI API, as a kubelet does.
    func runPod(_ name: String) throws -> Pod {
        let uid = UUID().uuidString.lowercased()
        let out = try Command.check(Self.python, [Self.driver, Self.socket, "run-pod", name, Self.namespace, uid,
                                                  "docker.io/nstrace-e2e/pause:latest"], timeout: 150)
        var values: [String: String] = [:]
        for field in out.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let kv = field.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { values[String(kv[0])] = String(kv[1]) }
        }
        guard let sandbox = values["pod"], let container = values["container"] else {
            throw HarnessError("cri_driver.py run-pod printed no ids: \(out.summary)")
        }
        return Pod(name: name, uid: uid, sandboxID: sandbox, containerID: container)
    }

    func testNstracesCRIClientAndTheRunningBundlesMapAContainerToItsPod() throws {
        _ = try Suite.require()
        let pod = try runPod("web-0")
        let expected = PodNames.Pod(name: "web-0", namespace: Self.namespace, uid: pod.uid, containerName: "app")

        let fromCRI = try CRIClient(socketPath: Self.socket, grpc: GRPCUnixClient()).pods()
        XCTAssertEqual(fromCRI[pod.containerID], expected, "ListPodSandbox + ListContainers: \(fromCRI)")
        XCTAssertEqual(fromCRI[pod.sandboxID], PodNames.Pod(name: "web-0", namespace: Self.namespace, uid: pod.uid),
                       "the sandbox's own (pause) container")

        let fromBundles = RunningPodBundles.read()
        XCTAssertEqual(fromBundles[pod.containerID], expected, "containerd's bundle of the running task: \(fromBundles)")
    }

    func testLiveOTLPRecordsOfPodsStartedBeforeAndDuringTracingCarryTheirNames() throws {
        _ = try Suite.require()
        let before = try runPod("before-0")
        let receiver = try OTLPReceiverProcess()
        defer { receiver.stop() }
        let tracer = try NstraceTracer(["-o", "json", "--containers-only", "--otlp", receiver.url])
        try tracer.waitUntilTracing()
        // nstrace's query at start (off the event path) has had time to answer: the exec's
        // records are not exported before the names are known (misses are asked again anyway)
        usleep(500_000)
        // The pod that was running: an exec in its container (runc exec joins its namespaces;
        // the exec'd unshare makes a call in its cgroup: EPERM without CAP_SYS_ADMIN, which does
        // not matter, the call is made there).
        let exec = try Command.run("/usr/bin/ctr", ["-n", "k8s.io", "task", "exec", "--exec-id", "nste2e-\(UUID().uuidString.prefix(8))",
                                                    before.containerID, "/bin/unshare", "-u", "/bin/true"], timeout: 60)
        let during = try runPod("during-0")
        sleep(1)
        let stderr = try tracer.stop()
        XCTAssertTrue(stderr.contains(", 0 dropped"), "nothing dropped on loopback: \(stderr)")
        XCTAssertFalse(stderr.contains("failed CRI"), "the CRI socket answered: \(stderr)")

        let records = try receiver.records()
        for pod in [before, during] {
            let mine = records.filter { ($0["attributes"] as? [String: Any])?["container.id"] as? String == pod.containerID }
            let bodies = Set(mine.compactMap { $0["body"] as? String })
            print("\(pod.name) (container \(pod.containerID)): \(mine.count) OTLP records (\(bodies.sorted().joined(separator: ", "))) of \(records.count)")
            XCTAssertFalse(mine.isEmpty, "\(pod.name): no record of its container")
            for record in mine {
                let a = record["attributes"] as? [String: Any] ?? [:]
                XCTAssertEqual(a["container.runtime.name"] as? String, "containerd", "\(record)")
                XCTAssertEqual(a["k8s.pod.name"] as? String, pod.name, "\(record)")
                XCTAssertEqual(a["k8s.namespace.name"] as? String, Self.namespace, "\(record)")
                XCTAssertEqual(a["k8s.pod.uid"] as? String, pod.uid, "\(record)")
                XCTAssertEqual(a["k8s.container.name"] as? String, "app", "\(record)")
            }
        }
        XCTAssertTrue(records.contains { ($0["attributes"] as? [String: Any])?["container.id"] as? String == before.containerID
                                         && $0["body"] as? String == "unshare" },
                      "the exec'd unshare in the pod started before nstrace: \(exec.summary)")
    }
}
