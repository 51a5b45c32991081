import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A container in podman's (containers/storage's) state: names and image.
public struct PodmanContainerRecord: Sendable, Hashable {
    public var id: String
    public var names: [String]
    /// The image's id (64 hex).
    public var imageID: String?
    /// The image's name as podman recorded it at creation (`localhost/busybox:latest`), else
    /// the first name of that image in images.json.
    public var imageName: String?

    public init(id: String, names: [String], imageID: String?, imageName: String?) {
        self.id = id
        self.names = names
        self.imageID = imageID
        self.imageName = imageName
    }
}

/// Names and images of podman containers, read from containers/storage's JSON files:
/// `<graphroot>/<driver>-containers/containers.json` (id, names, image id, and a
/// `metadata` string holding `image-name`) and `<graphroot>/<driver>-images/images.json`
/// (image id → names). No podman process, API service or BoltDB reader is needed.
///
/// The files are re-read only when their size or modification time changed; thread-safe.
public final class PodmanState: Sendable {
    public let graphRoot: String
    private let cache = Mutex<(signature: [FileSignature], records: [String: PodmanContainerRecord])?>(nil)

    /// `graphroot` from /etc/containers/storage.conf when set there, else the default
    /// /var/lib/containers/storage.
    public static func defaultGraphRoot(storageConf: String = "/etc/containers/storage.conf") -> String {
        if let text = try? HostFiles.readText(storageConf), let root = parseGraphRoot(storageConf: text) { return root }
        return "/var/lib/containers/storage"
    }

    public init(graphRoot: String = PodmanState.defaultGraphRoot()) {
        self.graphRoot = graphRoot
    }

    /// The container with this full id, or nil.
    public func container(id: String) -> PodmanContainerRecord? {
        records()[id]
    }

    /// Every container in podman's storage (running or not), by id.
    public func records() -> [String: PodmanContainerRecord] {
        let files = stateFiles()
        let signature = files.flatMap { [FileSignature(path: $0.containers), FileSignature(path: $0.images)] }
        if let cached = cache.withLock({ $0 }), cached.signature == signature { return cached.records }
        var records: [String: PodmanContainerRecord] = [:]
        for file in files {
            guard let containersJSON = try? HostFiles.readAll(file.containers) else { continue }
            let imagesJSON = (try? HostFiles.readAll(file.images)) ?? []
            for record in Self.parse(containersJSON: containersJSON, imagesJSON: imagesJSON) {
                records[record.id] = record
            }
        }
        cache.withLock { $0 = (signature, records) }
        return records
    }

    // MARK: - parsing (pure)

    /// The containers of a containers.json, their image names taken from the record's
    /// metadata or from images.json.
    public static func parse(containersJSON: [UInt8], imagesJSON: [UInt8]) -> [PodmanContainerRecord] {
        guard let containers = try? JSONDecoder().decode([StorageContainer].self, from: Data(containersJSON)) else { return [] }
        var imageNames: [String: String] = [:]
        if let images = try? JSONDecoder().decode([StorageImage].self, from: Data(imagesJSON)) {
            for image in images {
                if let id = image.id, let name = image.names?.first(where: { !$0.isEmpty }) { imageNames[id] = name }
            }
        }
        return containers.compactMap { container in
            guard let id = container.id, !id.isEmpty else { return nil }
            let metadata = container.metadata.flatMap { text -> StorageContainerMetadata? in
                try? JSONDecoder().decode(StorageContainerMetadata.self, from: Data(text.utf8))
            }
            var names = container.names?.filter { !$0.isEmpty } ?? []
            if names.isEmpty, let name = metadata?.name, !name.isEmpty { names = [name] }
            let imageID = container.image.flatMap { $0.isEmpty ? nil : $0 } ?? metadata?.imageID
            var imageName = metadata?.imageName.flatMap { $0.isEmpty ? nil : $0 }
            if imageName == nil, let imageID { imageName = imageNames[imageID] }
            return PodmanContainerRecord(id: id, names: names, imageID: imageID, imageName: imageName)
        }
    }

    /// `graphroot = "/path"` from the `[storage]` table of storage.conf (TOML subset).
    static func parseGraphRoot(storageConf text: String) -> String? {
        var inStorageTable = false
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingSpaces()
            if line.hasPrefix("#") || line.isEmpty { continue }
            if line.hasPrefix("[") {
                inStorageTable = line == "[storage]"
                continue
            }
            guard inStorageTable, let equals = line.firstIndex(of: "=") else { continue }
            guard line[..<equals].trimmingSpaces() == "graphroot" else { continue }
            var value = line[line.index(after: equals)...].trimmingSpaces()
            if let hash = value.firstIndex(of: "#"), !value.hasPrefix("\"") || value[..<hash].filter({ $0 == "\"" }).count >= 2 {
                value = value[..<hash].trimmingSpaces()
            }
            if value.count >= 2, (value.hasPrefix("\"") && value.hasSuffix("\"")) || (value.hasPrefix("'") && value.hasSuffix("'")) {
                value = String(value.dropFirst().dropLast())
            }
            return value.hasPrefix("/") ? value : nil
        }
        return nil
    }

    // MARK: - private

    private struct StorageContainer: Decodable {
        var id: String?
        var names: [String]?
        var image: String?
        var metadata: String?
    }

    private struct StorageContainerMetadata: Decodable {
        var imageName: String?
        var imageID: String?
        var name: String?
        enum CodingKeys: String, CodingKey {
            case imageName = "image-name", imageID = "image-id", name
        }
    }

    private struct StorageImage: Decodable {
        var id: String?
        var names: [String]?
    }

    /// containers.json and images.json of each storage driver present (`overlay-containers`,
    /// `vfs-containers`, `btrfs-containers`, ...), overlay first.
    private func stateFiles() -> [(containers: String, images: String)] {
        guard let entries = try? HostFiles.list(graphRoot) else { return [] }
        let drivers = entries.map(\.name).filter { $0.hasSuffix("-containers") }
            .map { String($0.dropLast("-containers".count)) }
            .sorted { first, second in
                let firstRank = first == "overlay" ? 0 : 1
                let secondRank = second == "overlay" ? 0 : 1
                return firstRank != secondRank ? firstRank < secondRank : first < second
            }
        return drivers.map { driver in
            ("\(graphRoot)/\(driver)-containers/containers.json", "\(graphRoot)/\(driver)-images/images.json")
        }
    }

    private struct FileSignature: Hashable, Sendable {
        var size: Int64
        var modified: Int64
        var inode: UInt64

        init(path: String) {
            var info = stat()
            if stat(path, &info) == 0 {
                size = Int64(info.st_size)
                modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
                inode = UInt64(info.st_ino)
            } else {
                size = -1
                modified = -1
                inode = 0
            }
        }
    }
}
