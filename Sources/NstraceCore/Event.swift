/// An owned copy of one record, for tests, queues across threads, and record/replay.
public struct Event: Sendable, Equatable {
    /// The record's bytes (exactly `size` of them), already validated.
    public let bytes: [UInt8]
    public let type: EventType

    /// Copies the record a view points into.
    public init(_ view: EventView) {
        self.bytes = Array(view.bytes)
        self.type = view.type
    }

    /// Validates `bytes` like `EventView.init(bytes:)`; keeps only the first `size` bytes.
    public init(bytes: [UInt8]) throws(EventDecodeError) {
        let result: Result<(Int, EventType), EventDecodeError> = bytes.withUnsafeBytes { raw in
            do throws(EventDecodeError) {
                let v = try EventView(bytes: raw)
                return .success((v.size, v.type))
            } catch {
                return .failure(error)
            }
        }
        let (size, type) = try result.get()
        self.bytes = size == bytes.count ? bytes : Array(bytes[0..<size])
        self.type = type
    }

    /// Calls `body` with a view of the record; the view must not escape `body`.
    public func withView<R>(_ body: (EventView) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { raw in try body(EventView(validated: raw)) }
    }
}
