import Synchronization

/// Something that can name a container and its image.
public protocol ContainerMetadataLookup: Sendable {
    /// The container's name and image as its runtime keeps them, nil when no runtime knows
    /// the container (or answered in time). Either part may be nil on its own.
    func lookup(_ identity: ContainerIdentity) -> (name: String?, image: String?)?
}

/// Names and images from wherever each runtime keeps them, cached, safe to call from any
/// thread (the live stream calls it from a background thread):
/// - docker: the Engine API on /var/run/docker.sock (`Name`, `Config.Image`), with a hard
///   1 s deadline per call; after a call that timed out, docker is not asked again for
///   `dockerBackoff`, so a hung daemon costs one timeout, not one per container;
/// - podman: containers/storage's containers.json and images.json (`PodmanState`);
/// - containerd (ctr), runc, crun: the name is the id the user chose; no image;
/// - LXC, systemd-nspawn: the name already in the identity.
///
/// Answers are cached: found ones for good (names and images do not change while a
/// container lives, bar `docker rename`), misses for `negativeCacheTTL`, so a container
/// the runtime registers a moment after its first event is found on a later call.
public final class ContainerMetadataSource: ContainerMetadataLookup {
    public let docker: DockerEngineClient?
    public let podman: PodmanState?
    public let negativeCacheTTL: Duration
    public let dockerBackoff: Duration
    /// Bounds the cache; when full it is emptied (the entries are cheap to fetch again).
    public let maximumCachedEntries: Int

    private struct Key: Hashable {
        var runtime: ContainerRuntime
        var id: String
    }

    private enum Entry {
        case found(name: String?, image: String?)
        case missing(until: ContinuousClock.Instant)
    }

    private struct State {
        var cache: [Key: Entry] = [:]
        var dockerQuietUntil: ContinuousClock.Instant?
    }

    private let state = Mutex(State())

    public init(
        docker: DockerEngineClient? = DockerEngineClient(),
        podman: PodmanState? = PodmanState(),
        negativeCacheTTL: Duration = .seconds(1),
        dockerBackoff: Duration = .seconds(5),
        maximumCachedEntries: Int = 4096
    ) {
        self.docker = docker
        self.podman = podman
        self.negativeCacheTTL = negativeCacheTTL
        self.dockerBackoff = dockerBackoff
        self.maximumCachedEntries = maximumCachedEntries
    }

    public func lookup(_ identity: ContainerIdentity) -> (name: String?, image: String?)? {
        let key = Key(runtime: identity.runtime, id: identity.id)
        let now = ContinuousClock.now
        switch state.withLock({ $0.cache[key] }) {
        case .found(let name, let image)?:
            return (name, image)
        case .missing(let until)? where now < until:
            return nil
        default:
            break
        }
        let answer = fetch(identity)
        state.withLock { state in
            if state.cache.count >= maximumCachedEntries { state.cache.removeAll(keepingCapacity: true) }
            if let answer {
                state.cache[key] = .found(name: answer.name, image: answer.image)
            } else {
                state.cache[key] = .missing(until: ContinuousClock.now.advanced(by: negativeCacheTTL))
            }
        }
        return answer
    }

    /// Forgets what is cached about a container (e.g. after `docker rename`).
    public func invalidate(_ identity: ContainerIdentity) {
        _ = state.withLock { $0.cache.removeValue(forKey: Key(runtime: identity.runtime, id: identity.id)) }
    }

    // MARK: - private

    private func fetch(_ identity: ContainerIdentity) -> (name: String?, image: String?)? {
        switch identity.runtime {
        case .docker:
            return fetchFromDocker(identity.id)
        case .podman:
            guard let record = podman?.container(id: identity.id) else { return nil }
            return (record.names.first, record.imageName ?? record.imageID.map { String($0.prefix(12)) })
        case .containerd, .runc, .crun:
            return (identity.id, nil)
        case .lxc, .nspawn:
            return identity.name.map { ($0, nil) }
        case .crio, .kubernetes:
            // Their metadata lives behind the CRI's gRPC API: not read here.
            return identity.name.map { ($0, nil) }
        }
    }

    private func fetchFromDocker(_ id: String) -> (name: String?, image: String?)? {
        guard let docker else { return nil }
        let now = ContinuousClock.now
        if let quietUntil = state.withLock({ $0.dockerQuietUntil }), now < quietUntil { return nil }
        switch docker.inspect(id) {
        case .found(let info):
            return (info.name, info.image)
        case .notFound:
            return nil
        case .unavailable:
            // A call that used up much of its deadline means a slow or hung daemon: give
            // it a rest. One that failed at once (no socket, refused) costs nothing to repeat.
            if ContinuousClock.now - now >= docker.timeout / 2 {
                state.withLock { $0.dockerQuietUntil = ContinuousClock.now.advanced(by: dockerBackoff) }
            }
            return nil
        }
    }
}
