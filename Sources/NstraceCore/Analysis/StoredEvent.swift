/// One kept event of a container start as the analysis stores it: integers, flags and
/// `ByteSpan`s into an `EventArena` — no class, no String, no array of its own, so an array of
/// them is one allocation and copying one is a memcpy (issue 9). It holds what `AnalysisEvent`
/// holds, with two differences:
/// - the container is not in it: an event kept by a start's builder is that start's, and the
///   analyzer routes an event by the container given beside it (`attributed` says whether
///   attribution tied it to one);
/// - the detail line is not formatted when the event is made but when a report shows it, from
///   the event's raw record (`record`: the 256-byte header and its strings, what `show` formats
///   the line from). Events made by hand (tests) carry their detail text instead.
/// Strings are made from the spans only by the reports, and only for what they show.
struct StoredEvent: Sendable {
    /// CLOCK_BOOTTIME at the call's entry (exec: when it happened), and the call's latency.
    var tsNs: UInt64
    var latencyNs: UInt64
    /// unshare/clone/clone3: the CLONE_NEW* flags; setns: the entered namespace's type.
    var namespaceFlags: UInt64 = 0
    /// mount flags (MS_*), umount flags (MNT_*), open_tree / move_mount flags.
    var mountFlags: UInt64 = 0
    var pid: UInt32
    var tid: UInt32
    var ppid: UInt32 = 0
    /// The caller's network namespace after the call (0 unknown).
    var netns: UInt32 = 0
    /// errno of a failed call, 0 on success.
    var errno: Int32 = 0
    var kind: AnalysisEvent.Kind
    /// Tied to a container by attribution (`AnalysisEvent.container` not nil).
    var attributed = false
    /// exec: the new program is a container runtime (the BPF side's lineage tracking).
    var isRuntime = false
    /// The caller is a container engine or network plugin, by its comm.
    var isEngine = false
    /// exec of a container's own program: the namespace types (bit `NamespaceType.rawValue`)
    /// whose inode is the host's (what the entrypoint shares with the host).
    var sharedWithHost: UInt8 = 0

    /// The call's name and the caller's comm, text-escaped.
    var name: ByteSpan
    var comm: ByteSpan
    /// mount: source, target, fstype; umount / pivot_root / new API: the path in `target`.
    var source = ByteSpan.absent
    var target = ByteSpan.absent
    var fstype = ByteSpan.absent
    /// A `/proc/self/fd/N` mount target as the container sees it (engine-side resolution).
    var resolvedTarget = ByteSpan.absent
    /// exec: the program, and its arguments text-escaped, each followed by a NUL (escaping
    /// leaves no NUL inside an argument).
    var filename = ByteSpan.absent
    var argv = ByteSpan.empty
    /// Namespaces the call created (setns: the one entered), in order: 8 bytes each, the
    /// `NamespaceType` raw value then the inode (little-endian UInt32s).
    var namespaces = ByteSpan.empty
    /// The raw record (header, then each string slot's bytes back to back) the detail line is
    /// formatted from; absent for events made by hand, whose `detailText` is the line.
    var record = ByteSpan.absent
    var detailText = ByteSpan.empty

    var endNs: UInt64 { tsNs &+ latencyNs }
    var failed: Bool { errno != 0 }

    static let namespaceEntrySize = 8

    /// A namespace type's name, made once (the inventory lists namespaces by name).
    static func namespaceName(_ t: NamespaceType) -> String { namespaceNames[t.rawValue] }
    private static let namespaceNames = NamespaceType.allCases.map(\.name)

    /// The names of the namespace types in `mask` (bit `NamespaceType.rawValue`), sorted by
    /// name (as the reports list what the entrypoint shares with the host).
    static func sharedNames(_ mask: UInt8) -> [String] {
        guard mask != 0 else { return [] }
        return typesByName.filter { mask & (UInt8(1) << UInt8($0.rawValue)) != 0 }.map(\.name)
    }

    private static let typesByName = NamespaceType.allCases.sorted { $0.name < $1.name }

    /// The same event with its bytes appended to `arena` (from `old`, where its spans point):
    /// the bytes from its first span to the end of its last in one copy, the spans moved by the
    /// same distance. Wherever an event is stored (the adapter's `store`, `init(_:into:)`, this
    /// function) its bytes are appended together: that range is its bytes and no other's.
    func copied(from old: EventArena, into arena: inout EventArena) -> StoredEvent {
        var lo = UInt32.max, hi: UInt32 = 0
        func include(_ s: ByteSpan) {
            guard !s.isAbsent && s.count > 0 else { return }
            lo = min(lo, s.offset)
            hi = max(hi, s.offset + s.count)
        }
        include(name); include(comm); include(source); include(target); include(fstype); include(resolvedTarget)
        include(filename); include(argv); include(namespaces); include(record); include(detailText)
        var base: UInt32 = 0
        if lo < hi { base = old.withBytes(ByteSpan(offset: lo, count: hi - lo)) { arena.append($0) }.offset } else { lo = 0 }
        func move(_ s: ByteSpan) -> ByteSpan {
            s.isAbsent ? s : s.count == 0 ? .empty : ByteSpan(offset: s.offset - lo + base, count: s.count)
        }
        var e = self
        e.name = move(name)
        e.comm = move(comm)
        e.source = move(source)
        e.target = move(target)
        e.fstype = move(fstype)
        e.resolvedTarget = move(resolvedTarget)
        e.filename = move(filename)
        e.argv = move(argv)
        e.namespaces = move(namespaces)
        e.record = move(record)
        e.detailText = move(detailText)
        return e
    }
}

extension EventArena {
    /// `e`'s namespaces, in order.
    func forEachNamespace(_ e: StoredEvent, _ body: (NamespaceType, UInt32) -> Void) {
        let n = Int(e.namespaces.count) / StoredEvent.namespaceEntrySize
        for i in 0..<n {
            let at = Int(e.namespaces.offset) + i * StoredEvent.namespaceEntrySize
            guard let type = NamespaceType(rawValue: Int(uint32(at: at))) else { continue }
            body(type, uint32(at: at + 4))
        }
    }

    /// The inode of `e`'s namespace of `type` (the first listed), if it has one.
    func namespace(_ e: StoredEvent, _ type: NamespaceType) -> UInt32? {
        var found: UInt32?
        forEachNamespace(e) { t, inode in if t == type && found == nil { found = inode } }
        return found
    }

    /// `e`'s arguments (exec), each without its NUL terminator.
    func forEachArgument(_ e: StoredEvent, _ body: (UnsafeRawBufferPointer) -> Void) {
        withBytes(e.argv) { all in
            var start = 0
            for i in 0..<all.count where all[i] == 0 {
                body(UnsafeRawBufferPointer(rebasing: all[start..<i]))
                start = i + 1
            }
        }
    }

    /// `e`'s arguments (exec) as Strings: for the few execs of a start whose command line
    /// the rules read.
    func arguments(_ e: StoredEvent) -> [String] {
        var out: [String] = []
        forEachArgument(e) { out.append(String(decoding: $0, as: UTF8.self)) }
        return out
    }

    /// Appends one namespace entry (the list of an event being stored is appended in one run).
    mutating func appendNamespace(_ type: NamespaceType, _ inode: UInt32) {
        append(uint32: UInt32(type.rawValue))
        append(uint32: inode)
    }
}
