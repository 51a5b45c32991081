import Synchronization

/// The hand-off between the ring-buffer loop and an exporter's thread. `push` never waits
/// for the consumer: when the queue is full the event is dropped and counted, so a slow or
/// absent receiver can never hold the tracer back.
final class BoundedEventQueue: Sendable {
    private struct State {
        var items: [ExportedEvent] = []
        var dropped: UInt64 = 0
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// False (and counted) when full.
    @discardableResult
    func push(_ event: ExportedEvent) -> Bool {
        state.withLock { s in
            if s.items.count >= capacity {
                s.dropped &+= 1
                return false
            }
            s.items.append(event)
            return true
        }
    }

    /// Up to `max` events, oldest first.
    func take(max: Int) -> [ExportedEvent] {
        state.withLock { s in
            guard max > 0, !s.items.isEmpty else { return [] }
            let n = min(max, s.items.count)
            let batch = Array(s.items.prefix(n))
            s.items.removeFirst(n)
            return batch
        }
    }

    var count: Int { state.withLock { $0.items.count } }
    var dropped: UInt64 { state.withLock { $0.dropped } }

    /// Counts what is still queued as dropped and empties the queue (the end of a run).
    func dropRemaining() -> Int {
        state.withLock { s in
            let n = s.items.count
            s.dropped &+= UInt64(n)
            s.items.removeAll()
            return n
        }
    }
}
