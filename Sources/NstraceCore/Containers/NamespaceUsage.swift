/// One namespace on the host and who is in it, as `lsns` lists it, with containers.
public struct NamespaceUsage: Sendable, Hashable {
    public var type: NamespaceType
    public var inode: UInt64
    /// Every process in it, ascending.
    public var pids: [Int32]
    /// The lowest pid in it and that process's command (lsns's PID and COMMAND).
    public var firstPID: Int32
    public var firstCommand: String
    /// Whether it is the host's namespace of its type (the one nstrace itself is in).
    public var isHost: Bool
    /// How many of its processes belong to no container.
    public var hostProcessCount: Int
    /// Containers with at least one process in it, in inventory order.
    public var containers: [ContainerIdentity]
    /// The container it belongs to: the first container whose init is in it, else the
    /// only container in it when no host process is. nil for the host's namespaces and
    /// those of host processes (`ip netns`, `unshare`, services with private namespaces).
    public var owner: ContainerIdentity?

    public init(type: NamespaceType, inode: UInt64, pids: [Int32], firstPID: Int32, firstCommand: String,
                isHost: Bool, hostProcessCount: Int, containers: [ContainerIdentity], owner: ContainerIdentity?) {
        self.type = type
        self.inode = inode
        self.pids = pids
        self.firstPID = firstPID
        self.firstCommand = firstCommand
        self.isHost = isHost
        self.hostProcessCount = hostProcessCount
        self.containers = containers
        self.owner = owner
    }
}

/// Where one namespace of a process or container is also used.
public struct NamespaceSharing: Sendable, Hashable {
    /// The /proc/PID/ns link (`net`, ..., `pid_for_children`).
    public var link: ProcNamespaceLink
    public var inode: UInt64
    /// It is the host's namespace of its type.
    public var sharedWithHost: Bool
    /// Other containers with a process in it.
    public var sharedWithContainers: [ContainerIdentity]
    /// Host processes (not in any container) in it; for the host's own namespaces all of them.
    public var hostProcessCount: Int

    public init(link: ProcNamespaceLink, inode: UInt64, sharedWithHost: Bool, sharedWithContainers: [ContainerIdentity], hostProcessCount: Int) {
        self.link = link
        self.inode = inode
        self.sharedWithHost = sharedWithHost
        self.sharedWithContainers = sharedWithContainers
        self.hostProcessCount = hostProcessCount
    }
}

extension ContainerInventory {
    private struct NamespaceKey: Hashable {
        var type: NamespaceType
        var inode: UInt64
    }

    /// Every namespace that has a process, host namespaces first, then by owning container
    /// (inventory order), then namespaces of host processes; by type and inode within a group.
    public func namespaceUsage() -> [NamespaceUsage] {
        var pidsByKey: [NamespaceKey: [ProcessRecord]] = [:]
        for process in processes {
            for type in NamespaceType.allCases {
                guard let link = ProcNamespaceLink(rawValue: type.name), let inode = process.namespaces[link] else { continue }
                pidsByKey[NamespaceKey(type: type, inode: inode), default: []].append(process)
            }
        }
        let order = Dictionary(uniqueKeysWithValues: containers.enumerated().map { ($0.element.identity, $0.offset) })
        var usages: [NamespaceUsage] = []
        for (key, members) in pidsByKey {
            guard let first = members.min(by: { $0.pid < $1.pid }) else { continue }
            let link = ProcNamespaceLink(rawValue: key.type.name)
            let isHost = link.map { hostNamespaces[$0] == key.inode } ?? false
            var inside: [ContainerIdentity] = []
            var hostCount = 0
            for member in members {
                if let identity = member.container {
                    if !inside.contains(identity) { inside.append(identity) }
                } else {
                    hostCount += 1
                }
            }
            inside.sort { (order[$0] ?? Int.max, $0.id) < (order[$1] ?? Int.max, $1.id) }
            var owner: ContainerIdentity?
            if !isHost, let link {
                owner = containers.first { $0.namespaces[link] == key.inode }?.identity
                if owner == nil, hostCount == 0, inside.count == 1 { owner = inside[0] }
            }
            usages.append(NamespaceUsage(
                type: key.type, inode: key.inode, pids: members.map(\.pid).sorted(), firstPID: first.pid,
                firstCommand: first.command, isHost: isHost, hostProcessCount: hostCount, containers: inside, owner: owner))
        }
        func group(_ usage: NamespaceUsage) -> Int {
            if usage.isHost { return -1 }
            if let owner = usage.owner { return order[owner] ?? Int.max - 1 }
            return Int.max
        }
        return usages.sorted {
            (group($0), $0.type.rawValue, $0.inode) < (group($1), $1.type.rawValue, $1.inode)
        }
    }

    /// The namespaces of process `namespaces.pid` (of container `container` when given) and
    /// where else each is used. The eight types always; `pid_for_children` and
    /// `time_for_children` only where they differ from `pid` and `time` (after an unshare).
    public func sharing(of namespaces: ProcNamespaceInodes, excluding container: ContainerIdentity?) -> [NamespaceSharing] {
        var links: [ProcNamespaceLink] = NamespaceType.allCases.compactMap { ProcNamespaceLink(rawValue: $0.name) }
        if let forChildren = namespaces[.pidForChildren], forChildren != namespaces[.pid] { links.append(.pidForChildren) }
        if let forChildren = namespaces[.timeForChildren], forChildren != namespaces[.time] { links.append(.timeForChildren) }
        var result: [NamespaceSharing] = []
        for link in links {
            guard let inode = namespaces[link] else { continue }
            // Processes are compared by their own namespace of the kernel type (a pid_for_children
            // namespace is where other processes' `pid` is).
            let ownLink = ProcNamespaceLink(rawValue: link.kernelTypeName) ?? link
            var others: [ContainerIdentity] = []
            var hostCount = 0
            for process in processes where process.namespaces[ownLink] == inode {
                if let identity = process.container {
                    if identity != container, !others.contains(identity) { others.append(identity) }
                } else {
                    hostCount += 1
                }
            }
            let order = containers.map(\.identity)
            others.sort { (order.firstIndex(of: $0) ?? Int.max) < (order.firstIndex(of: $1) ?? Int.max) }
            result.append(NamespaceSharing(
                link: link, inode: inode, sharedWithHost: hostNamespaces[ownLink] == inode,
                sharedWithContainers: others, hostProcessCount: hostCount))
        }
        return result
    }
}
