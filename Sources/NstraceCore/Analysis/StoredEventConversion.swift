/// Between the two forms of an analysis event: `AnalysisEvent` (owned Strings: events made by
/// hand in tests, and the adapter's `make`) and `StoredEvent` (spans into an arena: what a
/// container start keeps). Both ways are lossless for every field the analysis reads.
extension AnalysisEvent {
    /// `e` read back from `arena`, with its container, joined container and detail line.
    init(_ e: StoredEvent, in arena: EventArena, container: Container?, joined: Container?, detail: String) {
        self.init(kind: e.kind, name: arena.string(e.name) ?? "", tsNs: e.tsNs, latencyNs: e.latencyNs, pid: e.pid,
                  tid: e.tid, comm: arena.string(e.comm) ?? "", errno: e.errno, container: container, detail: detail)
        self.joined = joined
        namespaceFlags = e.namespaceFlags
        arena.forEachNamespace(e) { type, inode in namespaces.append((type.name, inode)) }
        netns = e.netns
        sharedWithHost = StoredEvent.sharedNames(e.sharedWithHost)
        source = arena.string(e.source)
        target = arena.string(e.target)
        fstype = arena.string(e.fstype)
        resolvedTarget = arena.string(e.resolvedTarget)
        mountFlags = e.mountFlags
        filename = arena.string(e.filename)
        arena.forEachArgument(e) { argv.append(String(decoding: $0, as: UTF8.self)) }
        isRuntime = e.isRuntime
        isEngine = e.isEngine
        ppid = e.ppid
    }
}

extension StoredEvent {
    /// `e` stored into `arena` (its detail kept as text: there is no raw record).
    init(_ e: AnalysisEvent, into arena: inout EventArena) {
        self.init(tsNs: e.tsNs, latencyNs: e.latencyNs, pid: e.pid, tid: e.tid, kind: e.kind,
                  name: arena.append(e.name), comm: arena.append(e.comm))
        namespaceFlags = e.namespaceFlags
        mountFlags = e.mountFlags
        ppid = e.ppid
        netns = e.netns
        errno = e.errno
        attributed = e.container != nil
        isRuntime = e.isRuntime
        isEngine = e.isEngine
        for name in e.sharedWithHost {
            if let t = NamespaceType(name: name) { sharedWithHost |= UInt8(1) << UInt8(t.rawValue) }
        }
        func optional(_ s: String?) -> ByteSpan { s.map { arena.append($0) } ?? .absent }
        source = optional(e.source)
        target = optional(e.target)
        fstype = optional(e.fstype)
        resolvedTarget = optional(e.resolvedTarget)
        filename = optional(e.filename)
        let argvStart = arena.count
        for a in e.argv {
            _ = arena.append(a)
            arena.append(byte: 0)
        }
        argv = ByteSpan(offset: UInt32(argvStart), count: UInt32(arena.count - argvStart))
        let nsStart = arena.count
        for (name, inode) in e.namespaces {
            if let t = NamespaceType(name: name) { arena.appendNamespace(t, inode) }
        }
        namespaces = ByteSpan(offset: UInt32(nsStart), count: UInt32(arena.count - nsStart))
        detailText = arena.append(e.detail)
    }

    /// The names of the namespace types in `mask` (bit `NamespaceType.rawValue`), sorted by
    /// name (as the reports list what the entrypoint shares with the host).
    static func sharedNames(_ mask: UInt8) -> [String] {
        guard mask != 0 else { return [] }
        return typesByName.filter { mask & (UInt8(1) << UInt8($0.rawValue)) != 0 }.map(\.name)
    }

    private static let typesByName = NamespaceType.allCases.sorted { $0.name < $1.name }
}
