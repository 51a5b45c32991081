import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import Synchronization

/// gRPC unary calls over HTTP/2 cleartext on a unix socket (what a CRI runtime serves), with
/// swift-nio-http2: already in the build graph through swift-otel, where grpc-swift would be a
/// large new dependency for two calls.
///
/// Blocking, for one worker thread (PodLookup's), never the event path. Every connection has
/// one deadline for all its calls: a runtime that accepts and never answers, or answers
/// slowly, costs at most that long. A response larger than `maxResponseBytes` is refused as
/// soon as it passes the limit.
final class GRPCUnixClient: Sendable {
    enum CallError: Error, Equatable, CustomStringConvertible {
        /// Nothing listens there (ENOENT, ECONNREFUSED, not a socket).
        case noSocket(String)
        case timeout
        /// The server's grpc-status (12: UNIMPLEMENTED) and grpc-message.
        case status(Int, String)
        case tooLarge
        case malformed(String)
        case transport(String)

        var description: String {
            switch self {
            case .noSocket(let why): return "cannot connect: \(why)"
            case .timeout: return "no answer in time"
            case .status(let code, let message): return "grpc-status \(code)\(message.isEmpty ? "" : ": " + message)"
            case .tooLarge: return "response larger than \(GRPCUnixClient.maxResponseBytes) bytes"
            case .malformed(let why): return "malformed response: \(why)"
            case .transport(let why): return why
            }
        }
    }

    static let maxResponseBytes = 16 << 20
    static let unimplemented = 12

    private let group: MultiThreadedEventLoopGroup

    /// One event-loop thread for every connection this client opens.
    init() {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    deinit {
        group.shutdownGracefully { _ in }
    }

    /// A connection whose calls all end by `timeout` from now. The caller closes it.
    func connect(socketPath: String, timeout: TimeAmount) throws(CallError) -> Connection {
        try Connection.open(socketPath: socketPath, group: group, deadline: .now() + timeout)
    }

    final class Connection: Sendable {
        private let channel: Channel
        private let multiplexer: NIOHTTP2Handler.StreamMultiplexer
        private let deadline: NIODeadline

        /// Why the connection failed (a protocol error), for the message of the call it ended.
        private let reason: FailureReason

        private init(channel: Channel, multiplexer: NIOHTTP2Handler.StreamMultiplexer, deadline: NIODeadline,
                     reason: FailureReason) {
            self.channel = channel
            self.multiplexer = multiplexer
            self.deadline = deadline
            self.reason = reason
        }

        static func open(socketPath: String, group: EventLoopGroup, deadline: NIODeadline) throws(CallError) -> Connection {
            let loop = group.next()
            let reason = FailureReason()
            let ready = loop.makePromise(of: NIOHTTP2Handler.StreamMultiplexer.self)
            // The HTTP/2 handler goes in before the connection is active: a server's SETTINGS
            // arriving first must not reach an unconfigured pipeline.
            let bootstrap = ClientBootstrap(group: loop)
                .connectTimeout(deadline - .now())
                .channelInitializer { channel in
                    loop.makeCompletedFuture {
                        let mux = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                            mode: .client, connectionConfiguration: .init(), streamConfiguration: .init(),
                            inboundStreamInitializer: { $0.close() })
                        try channel.pipeline.syncOperations.addHandler(CloseOnError(reason: reason))
                        ready.succeed(mux)
                    }
                }
            let channel: Channel
            do {
                channel = try bootstrap.connect(unixDomainSocketPath: socketPath).wait()
            } catch let error as IOError {
                ready.fail(error)
                throw .noSocket(error.description)
            } catch {
                ready.fail(error)
                throw .noSocket("\(error)")
            }
            do {
                return Connection(channel: channel, multiplexer: try ready.futureResult.wait(), deadline: deadline,
                                  reason: reason)
            } catch {
                channel.close(promise: nil)
                throw .transport("\(error)")
            }
        }

        func close() {
            channel.close(promise: nil)
        }

        /// One unary call: `path` is /package.Service/Method, `request` the encoded message.
        /// Returns the encoded response message.
        func call(path: String, request: [UInt8]) throws(CallError) -> [UInt8] {
            let loop = channel.eventLoop
            let response = loop.makePromise(of: [UInt8].self)
            // The deadline fails the call and closes the connection (and with it the stream).
            let timer = loop.scheduleTask(deadline: deadline) { [channel] in
                response.fail(CallError.timeout)
                channel.close(promise: nil)
            }
            // a connection already closed (garbage answered before this call) fails the stream
            let stream = loop.makePromise(of: Channel.self)
            stream.futureResult.whenFailure { [reason] error in
                response.fail(CallError.transport(reason.value.withLock { $0 } ?? "cannot open a stream: \(error)"))
            }
            multiplexer.createStreamChannel(promise: stream) { stream in
                stream.eventLoop.makeCompletedFuture {
                    try stream.pipeline.syncOperations.addHandler(
                        UnaryCallHandler(path: path, request: request, response: response))
                }
            }
            do {
                let bytes = try response.futureResult.wait()
                timer.cancel()
                return bytes
            } catch let error as CallError {
                timer.cancel()
                if case .transport = error, let why = reason.value.withLock({ $0 }) { throw .transport(why) }
                throw error
            } catch {
                timer.cancel()
                throw .transport("\(error)")
            }
        }
    }
}

/// Set once, by the event loop; read by the caller's thread.
private final class FailureReason: Sendable {
    let value = Mutex<String?>(nil)
}

/// The connection's last handler: an error there (garbage where HTTP/2 frames should be) ends
/// the connection, and with it every call on it, instead of leaving them to the deadline.
private final class CloseOnError: ChannelInboundHandler {
    typealias InboundIn = Any
    private let reason: FailureReason

    init(reason: FailureReason) { self.reason = reason }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        reason.value.withLock { $0 = $0 ?? "HTTP/2: \(error)" }
        context.close(promise: nil)
    }
}

/// One request on one HTTP/2 stream and its response: HEADERS, the length-prefixed message,
/// then the trailers with grpc-status (or a trailers-only answer, as for UNIMPLEMENTED).
private final class UnaryCallHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private let path: String
    private let request: [UInt8]
    private let response: EventLoopPromise<[UInt8]>
    private var sent = false
    private var done = false
    private var body: [UInt8] = []
    private var status: Int?
    private var message = ""

    init(path: String, request: [UInt8], response: EventLoopPromise<[UInt8]>) {
        self.path = path
        self.request = request
        self.response = response
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { send(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context)
        context.fireChannelActive()
    }

    private func send(_ context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        let headers = HPACKHeaders([(":method", "POST"), (":scheme", "http"), (":path", path),
                                    (":authority", "localhost"), ("content-type", "application/grpc"),
                                    ("te", "trailers")])
        context.write(wrapOutboundOut(.headers(.init(headers: headers))), promise: nil)
        var frame = context.channel.allocator.buffer(capacity: 5 + request.count)
        frame.writeInteger(UInt8(0))                   // not compressed
        frame.writeInteger(UInt32(request.count))      // big-endian length
        frame.writeBytes(request)
        context.writeAndFlush(wrapOutboundOut(.data(.init(data: .byteBuffer(frame), endStream: true))), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        switch unwrapInboundIn(data) {
        case .headers(let h):
            for (name, value, _) in h.headers {
                if name == "grpc-status" { status = Int(value) ?? -1 }
                if name == "grpc-message" { message = String(value.prefix(200)) }
            }
            if h.endStream { finish(context) }
        case .data(let d):
            guard case .byteBuffer(let buffer) = d.data else { return fail(context, .malformed("file region")) }
            guard body.count + buffer.readableBytes <= GRPCUnixClient.maxResponseBytes + 5 else {
                return fail(context, .tooLarge)
            }
            body.append(contentsOf: buffer.readableBytesView)
            if d.endStream { finish(context) }
        case .rstStream(let code):
            fail(context, .transport("stream reset: \(code)"))
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(context, .transport("connection closed before the response ended"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(context, .transport("\(error)"))
    }

    private func finish(_ context: ChannelHandlerContext) {
        guard let status else { return fail(context, .malformed("no grpc-status")) }
        guard status == 0 else { return fail(context, .status(status, message)) }
        // exactly one message: flag 0 (uncompressed: nstrace asks for no compression), length, bytes
        guard body.count >= 5, body[0] == 0 else { return fail(context, .malformed("no uncompressed message")) }
        let length = Int(body[1]) << 24 | Int(body[2]) << 16 | Int(body[3]) << 8 | Int(body[4])
        guard length == body.count - 5 else { return fail(context, .malformed("message length \(length) of \(body.count - 5) bytes")) }
        done = true
        response.succeed(Array(body[5...]))
    }

    private func fail(_ context: ChannelHandlerContext, _ error: GRPCUnixClient.CallError) {
        guard !done else { return }
        done = true
        response.fail(error)
        context.close(promise: nil)
    }
}
