/// A response of an HTTP/1.x server, as far as nstrace needs one: status, headers, body.
public struct HTTPResponse: Sendable, Hashable {
    public var status: Int
    public var reason: String
    /// Header names lower-cased, in arrival order (a name may repeat).
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, reason: String, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name == wanted }?.value
    }

    public static func == (lhs: HTTPResponse, rhs: HTTPResponse) -> Bool {
        lhs.status == rhs.status && lhs.reason == rhs.reason && lhs.body == rhs.body
            && lhs.headers.map(\.name) == rhs.headers.map(\.name)
            && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(status)
        hasher.combine(body)
    }
}

public struct HTTPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "malformed HTTP response: \(reason)" }
}

/// Parses one HTTP/1.0 or 1.1 response from bytes as they arrive.
///
/// Handles `Content-Length`, `Transfer-Encoding: chunked` (chunk extensions and trailers
/// ignored) and bodies delimited by the connection's close; skips interim `1xx` responses.
/// Everything is bounded: headers by `maximumHeaderBytes`, the body by `maximumBodyBytes`,
/// so a hostile or broken server cannot make nstrace allocate without limit.
/// Pure: no I/O, deterministic, tested from bytes.
public struct HTTPResponseParser: Sendable {
    public enum State: Sendable, Hashable {
        /// More bytes are needed (or, for a close-delimited body, the end of the stream).
        case incomplete
        case complete(HTTPResponse)
    }

    public var maximumHeaderBytes: Int
    public var maximumBodyBytes: Int
    /// Set for responses to HEAD requests: no body follows whatever the headers say.
    public var isResponseToHead: Bool

    private var buffer: [UInt8] = []

    public init(maximumHeaderBytes: Int = 64 << 10, maximumBodyBytes: Int = 8 << 20, isResponseToHead: Bool = false) {
        self.maximumHeaderBytes = maximumHeaderBytes
        self.maximumBodyBytes = maximumBodyBytes
        self.isResponseToHead = isResponseToHead
    }

    /// Adds bytes read from the connection and tells whether the response is complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(HTTPParseError) -> State {
        buffer.append(contentsOf: bytes)
        return try parse(atEndOfStream: false)
    }

    /// The connection was closed by the server: completes a close-delimited body, or fails.
    public mutating func finish() throws(HTTPParseError) -> HTTPResponse {
        switch try parse(atEndOfStream: true) {
        case .complete(let response): return response
        case .incomplete: throw HTTPParseError("connection closed before the response was complete")
        }
    }

    /// Parses a whole response held in memory (the stream ended after it).
    public static func parse(_ bytes: [UInt8]) throws(HTTPParseError) -> HTTPResponse {
        var parser = HTTPResponseParser()
        if case .complete(let response) = try parser.feed(bytes) { return response }
        return try parser.finish()
    }

    // MARK: - private

    private func parse(atEndOfStream: Bool) throws(HTTPParseError) -> State {
        var start = 0
        while true {
            guard let headerEnd = Self.find(Self.crlfcrlf, in: buffer, from: start) else {
                if buffer.count - start > maximumHeaderBytes { throw HTTPParseError("header longer than \(maximumHeaderBytes) bytes") }
                return .incomplete
            }
            if headerEnd - start > maximumHeaderBytes { throw HTTPParseError("header longer than \(maximumHeaderBytes) bytes") }
            let head = try Self.parseHead(buffer[start..<headerEnd])
            let bodyStart = headerEnd + 4
            // Interim responses (100 Continue, 103 Early Hints) carry no body; the real one follows.
            if (100..<200).contains(head.status) && head.status != 101 {
                start = bodyStart
                continue
            }
            if isResponseToHead || head.status == 204 || head.status == 304 {
                return .complete(HTTPResponse(status: head.status, reason: head.reason, headers: head.headers, body: []))
            }
            let transferEncoding = head.headers.last { $0.name == "transfer-encoding" }?.value.lowercased()
            if let transferEncoding, transferEncoding.split(separator: ",").last?.trimmingSpaces() == "chunked" {
                guard let body = try decodeChunked(from: bodyStart) else {
                    if atEndOfStream { throw HTTPParseError("connection closed inside a chunked body") }
                    return .incomplete
                }
                return .complete(HTTPResponse(status: head.status, reason: head.reason, headers: head.headers, body: body))
            }
            let lengths = head.headers.filter { $0.name == "content-length" }.map(\.value)
            if let first = lengths.first {
                guard lengths.allSatisfy({ $0 == first }), let length = Self.decimal(first) else {
                    throw HTTPParseError("bad Content-Length \(first.debugDescription)")
                }
                guard length <= maximumBodyBytes else { throw HTTPParseError("body of \(length) bytes exceeds the limit") }
                guard buffer.count - bodyStart >= length else {
                    if atEndOfStream { throw HTTPParseError("connection closed after \(buffer.count - bodyStart) of \(length) body bytes") }
                    return .incomplete
                }
                let body = Array(buffer[bodyStart..<(bodyStart + length)])
                return .complete(HTTPResponse(status: head.status, reason: head.reason, headers: head.headers, body: body))
            }
            // No length: the body runs until the server closes the connection.
            if buffer.count - bodyStart > maximumBodyBytes { throw HTTPParseError("body exceeds \(maximumBodyBytes) bytes") }
            guard atEndOfStream else { return .incomplete }
            return .complete(HTTPResponse(status: head.status, reason: head.reason, headers: head.headers,
                                          body: Array(buffer[bodyStart...])))
        }
    }

    private struct Head {
        var status: Int
        var reason: String
        var headers: [(name: String, value: String)]
    }

    private static func parseHead(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError) -> Head {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        guard let statusLine = lines.popFirst() else { throw HTTPParseError("empty response") }
        // HTTP/1.1 200 OK  (the reason phrase may be empty or contain spaces)
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].utf8.count == 3,
              let status = decimal(parts[1]), status >= 100
        else { throw HTTPParseError("bad status line \(String(statusLine.prefix(80)).debugDescription)") }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw HTTPParseError("bad header line \(String(line.prefix(80)).debugDescription)")
            }
            let name = line[..<colon]
            guard !name.contains(" "), !name.contains("\t") else {
                throw HTTPParseError("bad header name \(String(name.prefix(80)).debugDescription)")
            }
            headers.append((name.lowercased(), line[line.index(after: colon)...].trimmingSpaces()))
        }
        return Head(status: status, reason: parts.count > 2 ? String(parts[2]) : "", headers: headers)
    }

    /// The decoded body when all chunks and the trailer are in the buffer, nil when more is needed.
    private func decodeChunked(from offset: Int) throws(HTTPParseError) -> [UInt8]? {
        var body: [UInt8] = []
        var position = offset
        while true {
            guard let lineEnd = Self.find(Self.crlf, in: buffer, from: position) else {
                if buffer.count - position > 1024 { throw HTTPParseError("chunk size line too long") }
                return nil
            }
            // chunk-size [; extensions]
            let sizeLine = buffer[position..<lineEnd]
            let sizeDigits = sizeLine.prefix { $0 != UInt8(ascii: ";") }.filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
            guard !sizeDigits.isEmpty, sizeDigits.count <= 15,
                  let size = Int(String(decoding: sizeDigits, as: UTF8.self), radix: 16), size >= 0
            else { throw HTTPParseError("bad chunk size \(String(decoding: sizeLine.prefix(40), as: UTF8.self).debugDescription)") }
            position = lineEnd + 2
            if size == 0 {
                // Trailer fields, then an empty line.
                while true {
                    guard let trailerEnd = Self.find(Self.crlf, in: buffer, from: position) else {
                        if buffer.count - position > maximumHeaderBytes { throw HTTPParseError("trailer too long") }
                        return nil
                    }
                    if trailerEnd == position { return body }
                    position = trailerEnd + 2
                }
            }
            guard body.count + size <= maximumBodyBytes else { throw HTTPParseError("body exceeds \(maximumBodyBytes) bytes") }
            guard buffer.count >= position + size + 2 else { return nil }
            body.append(contentsOf: buffer[position..<(position + size)])
            guard buffer[position + size] == UInt8(ascii: "\r"), buffer[position + size + 1] == UInt8(ascii: "\n") else {
                throw HTTPParseError("chunk not followed by CRLF")
            }
            position += size + 2
        }
    }

    private static let crlf: [UInt8] = [13, 10]
    private static let crlfcrlf: [UInt8] = [13, 10, 13, 10]

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == needle[0] {
                var matched = true
                for offset in 1..<needle.count where haystack[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }

    private static func decimal(_ text: some StringProtocol) -> Int? {
        let trimmed = text.trimmingSpaces()
        guard !trimmed.isEmpty, trimmed.utf8.count <= 15,
              trimmed.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return Int(trimmed)
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
    func trimmingSpaces() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }),
              let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" })
        else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
