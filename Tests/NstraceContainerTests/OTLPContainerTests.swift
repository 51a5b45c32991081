import Foundation
import XCTest
import NstraceTestSupport

/// `nstrace live --otlp` while a real runc container starts (issue 12): its namespace and mount
/// calls arrive at a real OTLP receiver (Tests/Fleet/otlp_receiver.py, opentelemetry-proto)
/// as log records carrying container.id and container.runtime.name, with the node as resource,
/// and the pod's identity that a CRI runtime writes into the bundle's config.json as annotations.
final class OTLPContainerTests: XCTestCase {
    func testRuncContainerStartArrivesAsOTLPRecordsWithContainerAttributes() throws {
        _ = try Suite.require()
        let receiver = try OTLPReceiverProcess()
        defer { receiver.stop() }

        let tracer = try NstraceTracer(["-o", "json", "--containers-only", "--otlp", receiver.url])
        try tracer.waitUntilTracing()
        let pod = ["io.kubernetes.cri.sandbox-name": "web-0", "io.kubernetes.cri.sandbox-namespace": "shop",
                   "io.kubernetes.cri.sandbox-uid": "0c8f0b1c-5d2e-4f7a-9b1e-3a2c4d5e6f70",
                   "io.kubernetes.cri.container-name": "nginx"]
        let container = try Runtimes.start(.runc, pod.sorted { $0.key < $1.key }.flatMap { ["--annotation", "\($0.key)=\($0.value)"] })
        try Runtimes.stop(container)
        let stderr = try tracer.stop()
        XCTAssertTrue(stderr.contains(", 0 dropped"), "nothing dropped on loopback: \(stderr)")

        let records = try receiver.records()
        let mine = records.filter { ($0["attributes"] as? [String: Any])?["container.id"] as? String == container.id }
        let bodies = Set(mine.compactMap { $0["body"] as? String })
        print("runc container \(container.id): \(mine.count) OTLP records (\(bodies.sorted().joined(separator: ", "))) of \(records.count)")
        XCTAssertTrue(bodies.contains("pivot_root"), "its pivot_root arrived as a record: \(bodies)")
        XCTAssertTrue(bodies.contains("mount"), "its mounts arrived as records: \(bodies)")
        XCTAssertTrue(bodies.contains("unshare") || bodies.contains("clone") || bodies.contains("clone3"),
                      "its namespace creation arrived as a record: \(bodies)")
        for record in mine {
            let a = record["attributes"] as? [String: Any] ?? [:]
            XCTAssertEqual(a["container.runtime.name"] as? String, "runc")
            // from the bundle's annotations (containerd's CRI plugin's keys)
            XCTAssertEqual(a["k8s.pod.name"] as? String, "web-0", "\(record)")
            XCTAssertEqual(a["k8s.namespace.name"] as? String, "shop")
            XCTAssertEqual(a["k8s.pod.uid"] as? String, "0c8f0b1c-5d2e-4f7a-9b1e-3a2c4d5e6f70")
            XCTAssertEqual(a["k8s.container.name"] as? String, "nginx")
            XCTAssertNotNil(a["process.pid"])
            XCTAssertNotNil(a["nstrace.ns"])
            let resource = record["resource"] as? [String: Any] ?? [:]
            XCTAssertEqual(resource["service.name"] as? String, "nstrace")
            XCTAssertNotNil(resource["host.id"])
        }
        // The container's own namespace: the net inode the kernel shows for its init process.
        if let net = container.namespaces["net"] {
            XCTAssertTrue(mine.contains { (($0["attributes"] as? [String: Any])?["nstrace.ns"] as? [String: Any])?["net"] as? String == String(net) },
                          "a record carries the container's net namespace \(net)")
        }
    }
}
