import XCTest
@testable import NstraceCore

final class ContainerMountsTests: XCTestCase {
    /// nstrace's (the host's) mount table here, abridged.
    static let host = MountInfo.parse("""
        27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
        28 27 0:21 / /proc rw,relatime - proc proc rw
        43 27 254:0 /run/netns /run/netns rw,relatime shared:1 - ext4 /dev/vda rw
        50 27 254:0 /srv/data /data rw,relatime shared:1 - ext4 /dev/vda rw
        60 27 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        170 27 0:69 / /var/lib/docker/overlay2/379f/merged rw,relatime shared:3 - overlay overlay rw,lowerdir=/l
        """)

    /// A docker container's table (from `docker run -v /home:/outside-home`), abridged.
    static let container = MountInfo.parse("""
        156 141 0:69 / / rw,relatime master:3 - overlay overlay rw,lowerdir=/l
        157 156 0:72 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
        165 160 0:29 /docker/fdf4 /sys/fs/cgroup/cpu ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu
        174 156 254:0 /home /outside-home rw,relatime - ext4 /dev/vda rw,discard
        175 156 254:0 /var/lib/docker/containers/fdf4/hosts /etc/hosts rw,relatime - ext4 /dev/vda rw
        176 156 254:0 /srv/data/x /data-x rw,relatime shared:7 - ext4 /dev/vda rw
        177 157 0:72 /bus /proc/bus ro,nosuid,nodev,noexec,relatime - proc proc rw
        180 156 0:99 /sub /unbound rw unbindable - tmpfs tmpfs rw
        """)

    private func decoded() -> [String: DecodedMount] {
        Dictionary(uniqueKeysWithValues: ContainerMounts.decode(Self.container, hostTable: Self.host).map { ($0.entry.mountPoint, $0) })
    }

    func testDockerVolumeShowsHostDirectory() throws {
        let volume = try XCTUnwrap(decoded()["/outside-home"])
        XCTAssertEqual(volume.hostPath, "/home")
        XCTAssertEqual(volume.hostMountPoint, "/")
        XCTAssertEqual(volume.entry.fsType, "ext4")
        XCTAssertEqual(volume.entry.source, "/dev/vda")
        XCTAssertEqual(volume.device, "254:0")
        XCTAssertTrue(volume.isBindMount)
        XCTAssertEqual(volume.entry.propagation.kind, .private)
    }

    func testOtherMounts() throws {
        let mounts = decoded()
        XCTAssertEqual(mounts["/"]?.hostPath, "/var/lib/docker/overlay2/379f/merged", "the overlay dockerd mounted on the host")
        XCTAssertEqual(mounts["/"]?.entry.propagation.kind, .slave)
        XCTAssertFalse(try XCTUnwrap(mounts["/"]).isBindMount)
        XCTAssertNil(mounts["/proc"]?.hostPath, "the container's own proc")
        XCTAssertNil(mounts["/proc/bus"]?.hostPath)
        XCTAssertEqual(mounts["/sys/fs/cgroup/cpu"]?.hostPath, "/sys/fs/cgroup/cpu/docker/fdf4")
        XCTAssertEqual(mounts["/etc/hosts"]?.hostPath, "/var/lib/docker/containers/fdf4/hosts")
        XCTAssertEqual(mounts["/data-x"]?.hostPath, "/srv/data/x", "through the whole-filesystem mount, not the /data bind")
        XCTAssertEqual(mounts["/data-x"]?.entry.propagation.kind, .shared)
        XCTAssertEqual(mounts["/unbound"]?.entry.propagation.kind, .unbindable)
        XCTAssertNil(mounts["/unbound"]?.hostPath)
    }

    func testHostBindOfASubdirectoryOnly() {
        // The host has only /srv/data of the device mounted (at /data): paths below it map,
        // paths outside it do not.
        let host = MountInfo.parse("50 27 254:1 /srv/data /data rw - ext4 /dev/vdb rw")
        let container = MountInfo.parse("""
            1 0 254:1 /srv/data/x /x rw - ext4 /dev/vdb rw
            2 0 254:1 /srv/database /y rw - ext4 /dev/vdb rw
            3 0 254:1 /srv/data /z rw - ext4 /dev/vdb rw
            """)
        let mounts = ContainerMounts.decode(container, hostTable: host)
        XCTAssertEqual(mounts.map(\.hostPath), ["/data/x", nil, "/data"])
    }

    func testRelativePath() {
        XCTAssertEqual(ContainerMounts.relativePath("/home", under: "/"), "home")
        XCTAssertEqual(ContainerMounts.relativePath("/", under: "/"), "")
        XCTAssertEqual(ContainerMounts.relativePath("/a/b", under: "/a"), "b")
        XCTAssertEqual(ContainerMounts.relativePath("/a", under: "/a"), "")
        XCTAssertNil(ContainerMounts.relativePath("/ab", under: "/a"))
        XCTAssertNil(ContainerMounts.relativePath("/b", under: "/a"))
        XCTAssertEqual(ContainerMounts.join("/", ""), "/")
        XCTAssertEqual(ContainerMounts.join("/", "home"), "/home")
        XCTAssertEqual(ContainerMounts.join("/data", "x"), "/data/x")
    }

    func testOwnMountTableMapsToItself() throws {
        let own = try MountInfo.read(pid: getpid())
        for mount in ContainerMounts.decode(own, hostTable: own) where mount.entry.root == "/" {
            XCTAssertNotNil(mount.hostPath, mount.entry.mountPoint)
        }
    }
}
