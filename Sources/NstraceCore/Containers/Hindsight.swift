import NstraceABI

/// A recording's look-back: what a first pass over the whole file learned, so that the second
/// pass can tie events that happened before their container was known. Never used live.
///
/// The namespace rule: a namespace inode that the file later shows to be a container's ties
/// the events that created it, entered it or ran inside it, if they came at most `window`
/// before it was first tied. nsfs inodes are reused once a namespace is gone: an inode keeps
/// its owners in turn, and an event goes to the first owner tied after it.
public struct Hindsight: Sendable {
    public var namespaces: [UInt32: [(ContainerIdentity, UInt64)]]
    public var evidence: EngineEvidence.Learned
    public static let window: UInt64 = 120_000_000_000

    public init(namespaces: [UInt32: [(ContainerIdentity, UInt64)]], evidence: EngineEvidence.Learned) {
        self.namespaces = namespaces
        self.evidence = evidence
    }

    func owner(of ev: EventView, hostNamespaces: NamespaceSet) -> ContainerIdentity? {
        func isContainer(_ slot: Int, _ inode: UInt32) -> Bool {
            inode != 0 && slot < NamespaceSlot.count && hostNamespaces[slot] != inode
        }
        func known(_ inode: UInt32) -> ContainerIdentity? {
            guard let (identity, firstSeen) = namespaces[inode]?.first(where: { ev.tsNs <= $0.1 }),
                  firstSeen - ev.tsNs <= Self.window else { return nil }
            return identity
        }
        if ev.type == .setns, !ev.setns.viaPidfd, let slot = NamespaceType(cloneFlag: ev.setns.targetType)?.slots.first,
           isContainer(slot, ev.setns.targetInode), let id = known(ev.setns.targetInode) {
            return id
        }
        for slot in 0..<NamespaceSlot.count {
            if isContainer(slot, ev.ns(slot)), let id = known(ev.ns(slot)) { return id }
            if ev.hasNsBefore, isContainer(slot, ev.nsBefore(slot)), let id = known(ev.nsBefore(slot)) { return id }
        }
        return nil
    }
}
