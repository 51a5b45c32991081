/// One event with what the pipeline found out about it: its container and, for a setns, the
/// container it joined. Valid as long as the event's bytes are (the callback's duration).
public struct AttributedEvent {
    public let event: EventView
    /// The container the event belongs to; nil: the host, or unknown.
    public let container: ContainerRecord?
    /// setns only: the container whose namespace the call entered; nil: the host's, or unknown.
    public let target: ContainerRecord?
    /// How the event was tied to its container, and who acted (nil without a container).
    public let reason: AttributionReason?
    public let actor: Actor?
    /// What the pipeline knows of paths (root filesystems, mount fds), for mount-family events.
    public let paths: PathKnowledge?

    public init(_ event: EventView, container: ContainerRecord? = nil, target: ContainerRecord? = nil,
                reason: AttributionReason? = nil, actor: Actor? = nil, paths: PathKnowledge? = nil) {
        self.event = event
        self.container = container
        self.target = target
        self.reason = reason
        self.actor = actor
        self.paths = paths
    }

    public init(_ event: EventView, _ attribution: Attribution, paths: PathKnowledge? = nil) {
        self.init(event, container: attribution.container, target: attribution.target,
                  reason: attribution.reason, actor: attribution.actor, paths: paths)
    }
}

/// What the event stream tells about paths: each container's root filesystem (to show a
/// resolved path as the container sees it) and the new mount API's fds (to say what a
/// move_mount moved). Learnt from every event, filtered or not.
public final class PathKnowledge {
    public let rootfs = ContainerRootfs()
    public let mountContexts = MountContexts()

    public init() {}

    func learn(_ ev: EventView, _ container: ContainerRecord?) {
        if ev.type.hasPaths { rootfs.learn(ev, container) }
        switch ev.type {
        case .fsopen, .fsconfig, .fsmount, .openTree:
            mountContexts.learn(ev)
        case .unshare, .clone, .clone3:
            // nsfs inodes are reused: a new mount namespace starts with no pivot
            let mnt = NamespaceSlot.mnt.index
            if !ev.failed, ev.hasNsBefore, ev.ns(mnt) != ev.nsBefore(mnt) { rootfs.created(mountNamespace: ev.ns(mnt)) }
        default:
            break
        }
    }
}

/// What the pipeline made of one record.
public enum PipelineOutcome {
    /// An event that passed every filter, attributed: show it, record it, export it.
    case passed(AttributedEvent)
    /// exec or cgroup_mkdir, not asked for by name: attribution learnt from it; a trace file
    /// keeps it (reading the file back needs it), no output shows it.
    case bookkeeping(EventView)
    /// An event a filter rejected (after attribution learnt from it).
    case filtered(EventView)
    /// A record that is not a valid event (counted; nothing learnt from it).
    case malformed(EventDecodeError)
}

/// The one per-event path of every command that reads events (`live`, `record`, `show`,
/// `export`, `info`): decode a record once, attribute it to its container (attribution learns
/// from every event, filtered or not, so what a filter hides cannot change what the others
/// are attributed to), then apply the event filters and the container filter.
///
/// Records come from the ring buffer (`process(record:)`) or from a trace file
/// (`process(_:)` with the reader's views; a `TraceReplay` applies the file's metadata to
/// the same attribution). Nothing here allocates per event. Not thread-safe: one consumer.
public final class EventPipeline {
    public let attribution: ContainerAttribution
    public let filter: EventFilter
    public let containerFilter: ContainerFilter
    /// Root filesystems and mount fds, for the `paths` and `mounted` output.
    public let paths = PathKnowledge()

    /// Valid events seen (bookkeeping included).
    public private(set) var seen: UInt64 = 0
    /// Events that passed the filters.
    public private(set) var passed: UInt64 = 0
    /// Records that were not valid events, and the first one's error.
    public private(set) var malformed: UInt64 = 0
    public private(set) var firstMalformed: EventDecodeError?
    /// Told of every valid event once attributed, filtered or not (`--metrics`' live startup
    /// analysis and `--otlp`'s pod names look at the runtimes' execs); nil: one check per event.
    public var observer: ((EventView, Attribution) -> Void)?

    public init(attribution: ContainerAttribution, filter: EventFilter = EventFilter(),
                containerFilter: ContainerFilter = ContainerFilter()) {
        self.attribution = attribution
        self.filter = filter
        self.containerFilter = containerFilter
    }

    /// One raw record (a ring-buffer sample), valid during the call.
    @inline(__always)
    public func process(record bytes: UnsafeRawBufferPointer) -> PipelineOutcome {
        let view: EventView
        do {
            view = try EventView(bytes: bytes)
        } catch {
            malformed &+= 1
            if firstMalformed == nil { firstMalformed = error }
            return .malformed(error)
        }
        return process(view)
    }

    /// One decoded event.
    public func process(_ ev: EventView) -> PipelineOutcome {
        seen &+= 1
        let attributed = attribution.attribute(ev)
        paths.learn(ev, attributed.container)
        observer?(ev, attributed)
        // exec and cgroup_mkdir feed attribution; they are shown only when asked for by name
        if ev.type.isInternal && !filter.events.contains(ev.type) { return .bookkeeping(ev) }
        guard filter.matches(ev) else { return .filtered(ev) }
        guard containerFilter.isEmpty || containerFilter.matches(container: attributed.container, target: attributed.target) else {
            return .filtered(ev)
        }
        passed &+= 1
        return .passed(AttributedEvent(ev, attributed, paths: paths))
    }
}
