import ArgumentParser
import NstraceCore

struct ContainersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "containers",
        abstract: "List the containers running now, with their namespaces.",
        discussion: """
            Finds containers from /proc: each process's cgroup names its container (docker, \
            containerd, CRI-O, podman, Kubernetes, LXC, systemd-nspawn, runc, crun). Names and \
            images come from docker's API socket and podman's storage when they are there. \
            SHARED lists the namespace types the container's init shares with the host \
            (with nstrace); NAMESPACES the inodes of the others.
            """
    )

    @OptionGroup(title: "Output")
    var view: ViewOutputOptions

    func run() throws {
        Views.prepareOutput()
        let inventory = try Views.scan()
        switch view.output {
        case .json:
            let items: [JSONValue] = inventory.containers.map { container in
                var members = JSONValue.container(container)
                members.append(("pids", .array(container.pids.map { .number($0) })))
                members.append(("cgroup", .optional(container.cgroupPath)))
                members.append(("namespaces", .namespaces(container.namespaces)))
                members.append(("shared_with_host", .array(NamespaceType.allCases.filter(container.sharedWithHost.contains).map { .string($0.name) })))
                return .object(members)
            }
            try Views.write(JSONValue.array(items).render())
        case .text:
            var table = TextTable(["CONTAINER", "RUNTIME", "NAME", "IMAGE", "PID", "SHARED", "NAMESPACES"], rightAligned: [4])
            for container in inventory.containers {
                let own = NamespaceType.allCases.filter { !container.sharedWithHost.contains($0) }.compactMap { type -> String? in
                    guard let link = ProcNamespaceLink(rawValue: type.name), let inode = container.namespaces[link] else { return nil }
                    return "\(type.name):\(inode)"
                }
                var runtime = container.identity.runtime.rawValue
                if let namespace = container.identity.containerdNamespace { runtime += "/" + namespace }
                table.add([
                    container.shortID, runtime, container.name ?? "", container.image ?? "", String(container.initPID),
                    namespaceList(container.sharedWithHost), own.joined(separator: " "),
                ])
            }
            if inventory.containers.isEmpty && view.noHeader { return }
            try Views.write(table.render(withHeader: !view.noHeader))
        }
    }
}
