import ArgumentParser
import NstraceCore

struct NsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ns",
        abstract: "Show the namespaces of a process or container, or every namespace on the host.",
        discussion: """
            With a PID or CONTAINER (full id, name, or unique id prefix; a number that is a live \
            pid is a pid): each namespace's type and inode, and whether the host or other \
            containers share it. Without an argument: every namespace that has a process, like \
            lsns, grouped by the container it belongs to ('-' for the host), with the \
            containers that share it.
            """
    )

    @Argument(help: ArgumentHelp("A process id, or a container's id, unique id prefix or name.", valueName: "PID|CONTAINER"))
    var target: String?

    @OptionGroup(title: "Output")
    var view: ViewOutputOptions

    func run() throws {
        Views.prepareOutput()
        let inventory = try Views.scan()
        if let target {
            try showOne(Views.resolve(target, in: inventory), inventory: inventory)
        } else {
            try showAll(inventory)
        }
    }

    private func showOne(_ target: Views.Target, inventory: ContainerInventory) throws {
        let namespaces: ProcNamespaceInodes
        let command: String
        switch target {
        case .container(let container):
            namespaces = container.namespaces
            command = inventory.process(container.initPID)?.command ?? ""
        case .process(let process, _):
            namespaces = process.namespaces
            command = process.command
        }
        let container = target.container
        let rows = inventory.sharing(of: namespaces, excluding: container?.identity)
        func sharedWith(_ row: NamespaceSharing) -> [String] {
            (row.sharedWithHost ? ["host"] : []) + row.sharedWithContainers.map { Views.containerLabel($0, in: inventory) }
        }
        switch view.output {
        case .json:
            var members: [(String, JSONValue)] = [("pid", .number(target.pid)), ("command", .string(command))]
            members.append(("container", container.map { .object(JSONValue.container($0)) } ?? .null))
            members.append(("namespaces", .array(rows.map { row in
                .object([
                    ("type", .string(row.link.rawValue)),
                    ("inode", .number(row.inode)),
                    ("shared_with_host", .bool(row.sharedWithHost)),
                    ("shared_with_containers", .array(row.sharedWithContainers.map { identity in
                        .object([("id", .string(identity.id)), ("name", .optional(inventory.containers.first { $0.identity == identity }?.name))])
                    })),
                    ("host_processes", .number(row.hostProcessCount)),
                ])
            })))
            try Views.write(JSONValue.object(members).render())
        case .text:
            var title = "pid \(target.pid) (\(terminalSafe(command)))"
            if let container {
                title += container.initPID == target.pid ? ", init of container " : ", in container "
                title += terminalSafe(Views.describe(container))
            } else {
                title += ", host process"
            }
            var table = TextTable(["TYPE", "NS", "SHARED WITH"])
            for row in rows {
                let others = sharedWith(row)
                table.add([row.link.rawValue, String(row.inode), others.isEmpty ? "-" : others.joined(separator: ",")])
            }
            try Views.write((view.noHeader ? "" : title + "\n") + table.render(withHeader: !view.noHeader))
        }
    }

    private func showAll(_ inventory: ContainerInventory) throws {
        let usages = inventory.namespaceUsage()
        func label(_ identity: ContainerIdentity) -> String { Views.containerLabel(identity, in: inventory) }
        switch view.output {
        case .json:
            let items: [JSONValue] = usages.map { usage in
                .object([
                    ("type", .string(usage.type.name)),
                    ("inode", .number(usage.inode)),
                    ("container", usage.owner.flatMap { owner in inventory.containers.first { $0.identity == owner } }
                        .map { .object(JSONValue.container($0)) } ?? .null),
                    ("host", .bool(usage.isHost)),
                    ("nprocs", .number(usage.pids.count)),
                    ("pid", .number(usage.firstPID)),
                    ("command", .string(usage.firstCommand)),
                    ("containers", .array(usage.containers.map { .string($0.id) })),
                    ("host_processes", .number(usage.hostProcessCount)),
                ])
            }
            try Views.write(JSONValue.array(items).render())
        case .text:
            var table = TextTable(["CONTAINER", "TYPE", "NS", "NPROCS", "PID", "COMMAND", "SHARED WITH"], rightAligned: [3, 4])
            for usage in usages {
                let owner = usage.owner.map(label) ?? "-"
                var shared = usage.containers.filter { $0 != usage.owner }.map(label)
                if usage.owner != nil && (usage.hostProcessCount > 0) { shared.insert("host processes", at: 0) }
                table.add([owner, usage.type.name, String(usage.inode), String(usage.pids.count), String(usage.firstPID),
                           usage.firstCommand, shared.isEmpty ? "" : shared.joined(separator: ",")])
            }
            try Views.write(table.render(withHeader: !view.noHeader))
        }
    }
}
