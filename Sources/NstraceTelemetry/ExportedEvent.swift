import NstraceCore

/// One event as it leaves the ring-buffer thread for an exporter: the record's bytes copied
/// (the ring buffer reuses its memory) and what attribution knew at that moment. Made only
/// when an exporter is on; everything costly (decoding arguments, building attributes)
/// happens later, on the exporter's thread.
public struct ExportedEvent: Sendable {
    public let record: [UInt8]
    public let container: ContainerSnapshot?
    /// setns: the container whose namespace was entered.
    public let target: ContainerSnapshot?

    public init(record: [UInt8], container: ContainerSnapshot?, target: ContainerSnapshot?) {
        self.record = record
        self.container = container
        self.target = target
    }
}

/// A container's identity as attribution knew it when an event was seen.
public struct ContainerSnapshot: Sendable {
    public let identity: ContainerIdentity
    public let image: String?

    public init(_ record: ContainerRecord) {
        identity = record.identity
        image = record.image
    }
}
