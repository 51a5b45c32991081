/// Events made by hand (tests), as `AnalysisEvent`s with Strings, stored in the compact form
/// a container start keeps (`StoredEvent`): lossless for every field the analysis reads.
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
}
