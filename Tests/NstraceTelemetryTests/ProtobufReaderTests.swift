import XCTest
@testable import NstraceTelemetry

/// The protobuf wire reader and the CRI list responses, from bytes: what containerd sends, and
/// what a broken or hostile socket could send instead (truncated fields, lengths past the end,
/// lengths near 2^64, endless varints, groups).
final class ProtobufReaderTests: XCTestCase {
    // A test-side encoder: independent of the reader (field key, varint, length-delimited).
    static func varint(_ v: UInt64) -> [UInt8] {
        var v = v, out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        return out + [UInt8(v)]
    }
    static func field(_ n: UInt64, _ bytes: [UInt8]) -> [UInt8] { varint(n << 3 | 2) + varint(UInt64(bytes.count)) + bytes }
    static func field(_ n: UInt64, _ text: String) -> [UInt8] { field(n, Array(text.utf8)) }
    static func label(_ n: UInt64, _ key: String, _ value: String) -> [UInt8] { field(n, field(1, key) + field(2, value)) }

    static let podID = String(repeating: "a1", count: 32)
    static let containerID = String(repeating: "0f", count: 32)

    func testReadsVarintsFixedAndLengthDelimitedFields() throws {
        let bytes = Self.varint(1 << 3 | 0) + Self.varint(300) + [0x11] + [1, 0, 0, 0, 0, 0, 0, 0x80]
            + [0x1D, 7, 0, 0, 0] + Self.field(4, "web-0") + Self.varint(5 << 3 | 0) + Self.varint(.max)
        var r = ProtobufReader(bytes[...])
        var f = try XCTUnwrap(r.next())
        XCTAssertEqual([f.number, f.varint], [1, 300])
        f = try XCTUnwrap(r.next())
        XCTAssertEqual([f.number, UInt64(f.wireType), f.varint], [2, 1, 0x8000_0000_0000_0001])
        f = try XCTUnwrap(r.next())
        XCTAssertEqual([f.number, UInt64(f.wireType), f.varint], [3, 5, 7])
        f = try XCTUnwrap(r.next())
        XCTAssertEqual(f.number, 4)
        XCTAssertEqual(ProtobufReader.string(f.bytes), "web-0")
        f = try XCTUnwrap(r.next())
        XCTAssertEqual(f.varint, .max)
        XCTAssertNil(try r.next())
    }

    func testTruncatedAndHostileInputIsAnErrorNeverATrap() {
        func error(_ bytes: [UInt8]) -> ProtobufReader.WireError? {
            var r = ProtobufReader(bytes[...])
            do { while try r.next() != nil {} } catch { return error }
            return nil
        }
        let whole = Self.field(1, "abcdef")
        for cut in 1..<whole.count { XCTAssertEqual(error(Array(whole[..<cut])), .truncated, "cut at \(cut)") }
        XCTAssertEqual(error([0x0A] + Self.varint(7) + Array("abc".utf8)), .truncated, "length past the end")
        XCTAssertEqual(error([0x0A] + Self.varint(.max)), .truncated, "length near 2^64")
        XCTAssertEqual(error([0x0A] + Self.varint(UInt64(Int.max) + 1) + [1, 2]), .truncated, "length past Int.max")
        XCTAssertEqual(error([0x08] + [UInt8](repeating: 0xFF, count: 11)), .varintTooLong)
        XCTAssertEqual(error([0x08] + [UInt8](repeating: 0xFF, count: 5)), .truncated)
        XCTAssertEqual(error([0x11, 1, 2, 3]), .truncated, "fixed64 cut")
        XCTAssertEqual(error([0x0B]), .badWireType(3), "group start")
        XCTAssertEqual(error([0x0C]), .badWireType(4), "group end")
        XCTAssertEqual(error([0x0E, 0]), .badWireType(6))
        XCTAssertEqual(error([0x02, 0]), .badFieldNumber, "field 0")
        XCTAssertNil(error([]))
        // the slice's own indices: a reader over the middle of a buffer never reads outside it
        let buffer = [0xFF] + Self.field(2, "xy") + [0xFF]
        var r = ProtobufReader(buffer[1..<(buffer.count - 1)])
        XCTAssertEqual((try? r.next())?.map { ProtobufReader.string($0.bytes) }, "xy")
        XCTAssertNil(try r.next())
    }

    func testListResponsesMapContainersToTheirPods() throws {
        // ListPodSandboxResponse { items { id, metadata { name, uid, namespace }, labels } }
        let sandbox = Self.field(1, Self.podID) + Self.field(2, Self.field(1, "web-0") + Self.field(2, "0c8f0b1c-5d2e-4f7a-9b1e-3a2c4d5e6f70") + Self.field(3, "shop"))
            + Self.label(5, "io.kubernetes.pod.name", "web-0") + Self.label(5, "app", "kept-out") + Self.varint(3 << 3) + Self.varint(1)
        let sandboxes = try CRIMessages.sandboxes(Self.field(1, sandbox))
        XCTAssertEqual(sandboxes, [CRIMessages.Sandbox(id: Self.podID, name: "web-0", uid: "0c8f0b1c-5d2e-4f7a-9b1e-3a2c4d5e6f70",
                                                       namespace: "shop", labels: ["io.kubernetes.pod.name": "web-0"])])
        // ListContainersResponse { containers { id, pod_sandbox_id, metadata { name }, labels } }
        let container = Self.field(1, Self.containerID) + Self.field(2, Self.podID) + Self.field(3, Self.field(1, "nginx") + Self.varint(2 << 3) + [0])
            + Self.field(4, Self.field(1, "docker.io/library/nginx:1")) + Self.label(8, "io.kubernetes.container.name", "nginx")
        let stray = Self.field(1, "0123") + Self.field(2, Self.podID) + Self.field(3, Self.field(1, "short-id"))
        let containers = try CRIMessages.containers(Self.field(1, container) + Self.field(1, stray))
        XCTAssertEqual(containers.map(\.name), ["nginx", "short-id"])

        let pods = CRIMessages.pods(sandboxes: sandboxes, containers: containers)
        XCTAssertEqual(pods[Self.containerID], PodNames.Pod(name: "web-0", namespace: "shop", uid: "0c8f0b1c-5d2e-4f7a-9b1e-3a2c4d5e6f70", containerName: "nginx"))
        XCTAssertEqual(pods[Self.podID]?.name, "web-0", "the sandbox (pause) container is in the pod too")
        XCTAssertEqual(pods.count, 2, "a container id that is not full is dropped, never matched: \(pods.keys)")
    }

    func testLabelsFillInAndNamesThatAreNotKubernetesNamesAreDropped() throws {
        // no sandbox metadata: the container's own labels; a hostile name is not presented
        let container = Self.field(1, Self.containerID) + Self.field(2, Self.podID)
            + Self.label(8, "io.kubernetes.pod.name", "api-7") + Self.label(8, "io.kubernetes.pod.namespace", "Bad Name\u{1B}[31m")
        let bad = Self.field(1, Self.podID) + Self.field(2, Self.field(1, String(repeating: "x", count: 254)) + Self.field(3, [0xC3]))
        let pods = CRIMessages.pods(sandboxes: try CRIMessages.sandboxes(Self.field(1, bad)),
                                    containers: try CRIMessages.containers(Self.field(1, container)))
        XCTAssertEqual(pods[Self.containerID], PodNames.Pod(name: "api-7"))
        XCTAssertNil(pods[Self.podID], "254 bytes and invalid UTF-8 are no names")
        XCTAssertThrowsError(try CRIMessages.containers(Self.field(1, Array(container.dropLast(3)))))
        XCTAssertThrowsError(try CRIMessages.sandboxes([0x0A, 0x05, 0x0A, 0x7F]), "a nested length past its parent")
    }

    func testFullIDs() {
        XCTAssertTrue(CRIMessages.isFullID(Self.podID))
        XCTAssertFalse(CRIMessages.isFullID(String(Self.podID.dropLast())))
        XCTAssertFalse(CRIMessages.isFullID(Self.podID.uppercased()))
        XCTAssertFalse(CRIMessages.isFullID(String(Self.podID.dropLast(2)) + "/x"))
    }
}
