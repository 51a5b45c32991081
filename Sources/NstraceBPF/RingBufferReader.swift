import CLibbpf
import NstraceCore
#if canImport(Glibc)
import Glibc
#endif

/// Reads a BPF ring buffer, handing each record to `handler` as raw bytes that are valid
/// only during the call (no allocation per record; a packed string event is unpacked into
/// a reused buffer first, see RecordUnpacker).
///
/// The BPF side wakes the reader only every `wakeupBytes`, so `poll` waits at most
/// `timeoutMilliseconds` and then drains whatever is pending regardless.
public final class RingBufferReader {
    public typealias Handler = (UnsafeRawBufferPointer) -> Void

    private final class Sink {
        let handler: Handler
        let unpacker = RecordUnpacker()
        init(_ handler: @escaping Handler) { self.handler = handler }
    }

    private var ring: OpaquePointer?
    private let sink: Sink

    public init(mapFD: Int32, handler: @escaping Handler) throws(BPFError) {
        sink = Sink(handler)
        let callback: ring_buffer_sample_fn = { ctx, data, size in
            guard let ctx, let data else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(ctx).takeUnretainedValue()
            sink.handler(sink.unpacker.unpack(UnsafeRawBufferPointer(start: data, count: Int(size))))
            return 0
        }
        guard let rb = ring_buffer__new(mapFD, callback, Unmanaged.passUnretained(sink).toOpaque(), nil) else {
            throw BPFError("create ring buffer reader", errno: errno, detail: lastLibbpfMessage())
        }
        ring = rb
    }

    deinit { if let ring { ring_buffer__free(ring) } }

    /// Waits up to `timeoutMilliseconds` for a wakeup, then consumes everything pending.
    /// Returns the number of records handled. EINTR (a signal) is not an error.
    @discardableResult
    public func poll(timeoutMilliseconds: Int32) throws(BPFError) -> Int {
        let polled = ring_buffer__poll(ring, timeoutMilliseconds)
        if polled < 0 && polled != -EINTR { throw BPFError("poll ring buffer", errno: -polled) }
        return max(Int(polled), 0) + (try drain())
    }

    /// Consumes everything pending without waiting.
    @discardableResult
    public func drain() throws(BPFError) -> Int {
        let consumed = ring_buffer__consume(ring)
        if consumed < 0 && consumed != -EINTR { throw BPFError("consume ring buffer", errno: -consumed) }
        return max(Int(consumed), 0)
    }
}
