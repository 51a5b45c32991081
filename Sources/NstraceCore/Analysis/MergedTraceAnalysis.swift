
/// Several trace files analysed as one timeline: a k-way merge by timestamp. Each file is read,
/// attributed (from that file alone) and its kept events stored (`StoredEvent`, as one file's
/// are) on its own thread, which hands them over in batches (the events and the one arena
/// their bytes are in) through a bounded channel; the calling thread takes, from the files
/// whose next item is the earliest, one item at a time into the analyzer. Memory: a few
/// batches per file, whatever the files' sizes.
///
/// The key is the event's timestamp as recorded (a file's own order); a `lost` record keeps
/// its place after the file's events before it; host processes' joins are decided by the
/// analyzer when they come out of the merge (it knows then which netns the starts own).
enum MergedTraceAnalysis {
    static let batchSize = 512
    static let batchesInFlight = 4

    /// (Each item's key is beside it, in its batch's `keys`.)
    enum Item: Sendable {
        /// An event whose bytes are in its batch's arena.
        case event(StoredEvent, container: SharedContainer?, joined: SharedContainer?)
        case hostJoin(StoredEvent, netns: UInt32)
        case lost(total: UInt64)
        /// The file's end (key `.max`): skipped events, known containers, trailer or cut, warnings.
        case end(skipped: UInt64, known: [AnalysisEvent.Container], trailerLost: UInt64?, cut: Bool, warnings: [String])
        case failed(TraceAnalysis.FileError)
    }

    /// What one file's reader hands over at a time: items, their keys, and the bytes of their
    /// events. The keys apart: choosing the file whose next item is the earliest reads one
    /// word per file, not a copy of each file's next item (issue 9: copying and destroying
    /// items, each copy retaining every String of its containers, was about a tenth of the
    /// instructions of a two-file analysis).
    struct Batch: Sendable {
        var items: [Item] = []
        var keys: [UInt64] = []
        var arena = EventArena()

        init() {}

        init(reserving: Int) {
            items.reserveCapacity(reserving)
            keys.reserveCapacity(reserving)
            arena = EventArena(capacity: reserving * 512)
        }

        mutating func append(_ item: Item, key: UInt64) {
            keys.append(key)
            items.append(item)
        }
    }

    /// `files` in the analyzer's file order (`beginFile` called for each). Returns the warnings.
    static func run(_ files: [(String, TraceFileReader)], into analyzer: StartupAnalyzer,
                    observe: ((Int, UInt64) -> Void)? = nil) throws(TraceAnalysis.FileError) -> [String] {
        let channels = files.map { _ in BatchChannel<Batch>(capacity: batchesInFlight) }
        for (i, (name, reader)) in files.enumerated() {
            let channel = channels[i], box = UncheckedBox(reader)
            guard startDetachedThread(stackSize: 1 << 20, { produce(name: name, reader: box.value, into: channel) }) else {
                // stop the readers already started before giving up
                for c in channels[..<i] { c.cancel() }
                for c in channels[..<i] { c.waitProducerExit() }
                throw TraceAnalysis.FileError(file: name, message: "cannot start a reader thread (too many files?)")
            }
        }
        defer {
            // on an error, stop the others' readers and wait for their threads to leave
            for c in channels { c.cancel() }
            for c in channels { c.waitProducerExit() }
        }
        // each file's current batch, and the index of its next item there
        var batches = Array(repeating: Batch(), count: files.count)
        var next = Array(repeating: 0, count: files.count)
        var done = Array(repeating: false, count: files.count)
        var warnings: [[String]] = Array(repeating: [], count: files.count)
        while true {
            var best = -1, bestKey = UInt64.max
            for i in batches.indices where !done[i] {
                if next[i] == batches[i].items.count, let batch = channels[i].take() {
                    batches[i] = batch
                    next[i] = 0
                }
                guard next[i] < batches[i].keys.count else { done[i] = true; continue } // its reader was stopped
                let k = batches[i].keys[next[i]]
                if best < 0 || k < bestKey { best = i; bestKey = k }
            }
            guard best >= 0 else { break }
            let index = next[best]
            next[best] += 1
            observe?(best, bestKey)
            analyzer.switchTo(file: best)
            switch batches[best].items[index] {
            case .event(let e, let container, let joined):
                analyzer.consume(e, batches[best].arena, container: container?.value, joined: joined?.value)
            case .hostJoin(let e, let netns):
                if analyzer.ownsNetns(netns) {
                    analyzer.consume(e, batches[best].arena, container: nil, joined: nil)
                } else {
                    analyzer.skip(count: 1)
                }
            case .lost(let total):
                analyzer.noteLost(total: total)
            case .end(let skipped, let known, let trailerLost, let cut, let w):
                analyzer.skip(count: skipped)
                for c in known { analyzer.noteKnown(c) }
                analyzer.endFile(trailerLost: trailerLost, cut: cut)
                warnings[best] = w
                done[best] = true
            case .failed(let error):
                throw error
            }
        }
        return warnings.flatMap { $0 }
    }

    /// The producer: one file, on its own thread.
    private static func produce(name: String, reader: TraceFileReader, into channel: BatchChannel<Batch>) {
        defer { channel.producerExited() }
        let source = TraceFileAnalysisSource(name: name)
        var batch = Batch(reserving: batchSize)
        var key: UInt64 = 0, skipped: UInt64 = 0
        func put(_ item: Item, _ key: UInt64) throws {
            batch.append(item, key: key)
            if batch.items.count >= batchSize {
                // handed over whole (its arena with it): the next batch is a new one
                guard channel.put(batch) else { throw Cancelled() }
                batch = Batch(reserving: batchSize)
            }
        }
        do {
            try reader.forEach { item in
                switch item {
                case .metadata(let m):
                    if let total = source.apply(m) { try put(.lost(total: total), key) }
                case .event(let ev):
                    if ev.tsNs > key { key = ev.tsNs }
                    switch source.adapter.take(ev, attribution: source.replay.attribution, into: &batch.arena) {
                    case .skipped: skipped &+= 1
                    case .event(let e, let container, let joined): try put(.event(e, container: container, joined: joined), key)
                    case .hostJoin(let e, let netns): try put(.hostJoin(e, netns: netns), key)
                    }
                }
            }
        } catch is Cancelled {
            return
        } catch {
            batch.append(.failed(source.fileError(error)), key: key)
            _ = channel.put(batch)
            return
        }
        batch.append(.end(skipped: skipped, known: source.knownContainers, trailerLost: reader.trailer?.lost.total,
                    cut: reader.wasCut, warnings: TraceFileAnalysisSource.warnings(of: reader, name: name)), key: .max)
        _ = channel.put(batch)
    }

    private struct Cancelled: Error {}
}

/// A value handed to one other thread, which alone uses it from then on.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// A bounded queue of batches between one producer thread and one consumer thread.
final class BatchChannel<T: Sendable>: @unchecked Sendable {
    private let condition = PosixCondition()
    private var queue: [T] = []
    private let capacity: Int
    private var cancelled = false
    private var exited = false

    init(capacity: Int) { self.capacity = capacity }

    /// Blocks while the queue is full; false when the consumer gave up.
    func put(_ batch: T) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= capacity && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        queue.append(batch)
        condition.broadcast()
        return true
    }

    /// Blocks until a batch comes; nil once the producer has exited and everything was taken.
    func take() -> T? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !exited { condition.wait() }
        guard !queue.isEmpty else { return nil }
        condition.broadcast()
        return queue.removeFirst()
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    func producerExited() {
        condition.lock()
        exited = true
        condition.broadcast()
        condition.unlock()
    }

    func waitProducerExit() {
        condition.lock()
        while !exited { condition.wait() }
        condition.unlock()
    }
}
