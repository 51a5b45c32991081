import Dispatch
import NstraceCore
import Synchronization

/// Looks container names and images up off the event path: a runtime socket that is absent,
/// slow or broken must never stop or delay the stream. Results are picked up by the live loop
/// between batches (`drain`), so attribution itself needs no lock.
final class MetadataWorker: Sendable {
    struct Found: Sendable {
        let id: String
        let name: String?
        let image: String?
    }

    private let source: any ContainerMetadataLookup
    private let queue = DispatchQueue(label: "nstrace.metadata")
    private let found = Mutex<[Found]>([])
    /// A container the runtime has not published yet (docker registers it before runc runs,
    /// podman may lag): asked again after these delays.
    private let retryDelays: [Double] = [0.2, 1, 3]

    init(source: any ContainerMetadataLookup) {
        self.source = source
    }

    func request(_ identity: ContainerIdentity, attempt: Int = 0) {
        let delay = attempt == 0 ? 0 : retryDelays[min(attempt - 1, retryDelays.count - 1)]
        queue.asyncAfter(deadline: .now() + delay) { [self] in
            if let result = source.lookup(identity), result.name != nil || result.image != nil {
                found.withLock { $0.append(Found(id: identity.id, name: result.name, image: result.image)) }
            } else if attempt < retryDelays.count {
                request(identity, attempt: attempt + 1)
            }
        }
    }

    func drain() -> [Found] {
        found.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
    }
}
