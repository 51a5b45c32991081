import ArgumentParser
import NstraceCore
#if canImport(Glibc)
import Glibc
#endif

struct MountsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mounts",
        abstract: "Show the mount table of a container or process, decoded.",
        discussion: """
            Reads /proc/PID/mountinfo of the container's init (or of PID) and shows for each \
            mount where its files are on the host: a bind mount such as docker's \
            `-v /home:/outside-home` shows HOST PATH /home, found from the mount's root within \
            its filesystem and the host mount of the same device. '-' when the filesystem is \
            not mounted on the host (the container's own proc, sysfs, tmpfs, ...), FSTYPE:ROOT when \
            only a part of such a filesystem is mounted. PROPAGATION \
            is shared:N, master:N (a slave), private or unbindable.
            """
    )

    @Argument(help: ArgumentHelp("A container's id, unique id prefix or name, or a process id.", valueName: "CONTAINER|PID"))
    var target: String

    @OptionGroup(title: "Output")
    var view: ViewOutputOptions

    func run() throws {
        Views.prepareOutput()
        let inventory = try Views.scan()
        let target = try Views.resolve(self.target, in: inventory)
        let table: MountTable
        do {
            table = try MountInfo.read(pid: target.pid)
        } catch {
            if error.reason == .processExited {
                if let container = target.container { throw Views.fail("container \(Views.describe(container)) stopped (its process \(target.pid) exited)") }
                throw Views.fail("process \(target.pid) exited")
            }
            throw Views.fail(error.description)
        }
        let host: MountTable
        do {
            host = try MountInfo.read(pid: getpid())
        } catch {
            throw Views.fail("cannot read nstrace's own mount table: \(error)")
        }
        for problem in table.errors { Stderr.warning(problem.description) }
        let mounts = ContainerMounts.decode(table, hostTable: host)

        switch view.output {
        case .json:
            var members: [(String, JSONValue)] = [("pid", .number(target.pid))]
            members.append(("container", target.container.map { .object(JSONValue.container($0)) } ?? .null))
            members.append(("mounts", .array(mounts.map { mount in
                let entry = mount.entry
                let propagation = entry.propagation
                return .object([
                    ("mount_id", .number(entry.mountID)),
                    ("parent_id", .number(entry.parentID)),
                    ("mount_point", .string(entry.mountPoint)),
                    ("fstype", .string(entry.fsType)),
                    ("source", .string(entry.source)),
                    ("device", .string(mount.device)),
                    ("root", .string(entry.root)),
                    ("bind", .bool(mount.isBindMount)),
                    ("host_path", .optional(mount.hostPath)),
                    ("host_mount_point", .optional(mount.hostMountPoint)),
                    ("propagation", .string(propagation.kind.rawValue)),
                    ("peer_group", propagation.sharedPeerGroup.map { .number($0) } ?? .null),
                    ("master", propagation.masterPeerGroup.map { .number($0) } ?? .null),
                    ("options", .array(entry.mountOptions.map { .string($0) })),
                    ("super_options", .array(entry.superOptions.map { .string($0) })),
                ])
            })))
            try Views.write(JSONValue.object(members).render())
        case .text:
            var text = TextTable(["MOUNTPOINT", "FSTYPE", "HOST PATH", "DEVICE", "PROPAGATION", "OPTIONS"])
            for mount in mounts {
                let entry = mount.entry
                text.add([
                    entry.mountPoint, entry.fsType, hostPath(mount), "\(entry.source) (\(mount.device))",
                    entry.propagation.description.replacingSpaces(), entry.mountOptions.joined(separator: ","),
                ])
            }
            try Views.write(text.render(withHeader: !view.noHeader))
        }
    }
}

/// The host path; for a filesystem the host does not mount, `-`, or `fstype:root` when
/// only a part of it is mounted (docker masking /proc/keys with its /dev tmpfs's `/null`).
private func hostPath(_ mount: DecodedMount) -> String {
    if let path = mount.hostPath { return path }
    return mount.isBindMount ? "\(mount.entry.fsType):\(mount.entry.root)" : "-"
}

private extension String {
    func replacingSpaces() -> String { split(separator: " ").joined(separator: ",") }
}
