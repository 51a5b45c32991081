import Foundation
import XCTest
import NstraceTestSupport

/// Test 5 of issue 3: docker's `-v /home:/outside-home` (the startup run's docker container) is a
/// bind mount of the container in the stream and in `nstrace mounts ID -o json`. Ground truth:
/// /proc/PID/mountinfo, where the volume is `... /home /outside-home ... - ext4 /dev/vda ...`.
final class BindMountTests: XCTestCase {
    /// The volume's line of the container's mountinfo: (root, fstype, source device).
    private func groundTruth(_ container: Container) throws -> (root: String, fstype: String, device: String) {
        let table = try Kernel.mountInfo(of: container.pid)
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count > 9, fields[4] == "/outside-home", let dash = fields.firstIndex(of: "-"),
                  dash + 2 < fields.count else { continue }
            return (fields[3], fields[dash + 1], fields[dash + 2])
        }
        throw HarnessError("/proc/\(container.pid)/mountinfo of \(container) has no /outside-home: the volume was not mounted")
    }

    func testVolumeIsABindMountOfTheContainerInTheStream() throws {
        _ = try Suite.require()
        let run = try Suite.get(Fixtures.startup)
        let container = try Fixtures.container(.docker)
        let truth = try groundTruth(container)
        XCTAssertEqual(truth.root, "/home", "mountinfo: the volume's root in its filesystem")

        let binds = run.trace.events.filter {
            $0.event == "mount" && $0.isMount(in: container) && $0.flags.contains("MS_BIND") && $0.string("source") == "/home"
        }
        XCTAssertEqual(binds.count, 1, "MS_BIND mounts of /home in the container's mount namespace: \(binds.map(\.brief))")
        for bind in binds {
            XCTAssertEqual(bind.ret, 0, bind.brief)
            XCTAssertEqual(bind.container?.id, container.id, "the volume's bind mount is not attributed: \(bind.brief)")
        }
    }

    func testVolumeInNstraceMounts() throws {
        _ = try Suite.require()
        let container = try Fixtures.container(.docker)
        let truth = try groundTruth(container)
        let json = try NstraceCommand.json(["mounts", container.id, "-o", "json"])
        let mounts = Self.mountObjects(json)
        XCTAssertFalse(mounts.isEmpty, "nstrace mounts \(container.id) -o json listed no mounts: \(json)")
        let mountPointKeys = ["mount_point", "mountpoint", "mount_point_in_container", "target", "path"]
        guard let volume = mounts.first(where: { ParsedJSON.first($0, mountPointKeys)?.string == "/outside-home" }) else {
            return XCTFail("nstrace mounts \(container.id): no mount on /outside-home among \(mounts.count): "
                + mounts.prefix(40).map { ParsedJSON.first($0, mountPointKeys)?.string ?? "?" }.joined(separator: " "))
        }
        let host = ParsedJSON.first(volume, ["host_path", "host_source", "source_on_host", "host", "root"])?.string
        XCTAssertEqual(host, "/home", "the volume's source on the host: \(volume)")
        let fstype = ParsedJSON.first(volume, ["fstype", "fs_type", "filesystem", "type"])?.string
        XCTAssertEqual(fstype, truth.fstype, "the volume's filesystem (mountinfo says \(truth.fstype)): \(volume)")
        print("nstrace mounts: /outside-home <- host \(host ?? "?") \(fstype ?? "?") (mountinfo: \(truth.root) \(truth.fstype) \(truth.device))")
    }

    /// The mounts of the command's JSON: an array of mounts, or an object holding one.
    static func mountObjects(_ json: ParsedJSON) -> [[String: ParsedJSON]] {
        if case .array = json { return json.objects }
        if case .object(let object) = json {
            if let mounts = object["mounts"] { return mounts.objects }
            return object.values.map(\.objects).max { $0.count < $1.count } ?? []
        }
        return []
    }
}
