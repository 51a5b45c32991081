import XCTest
@testable import NstraceCore

final class HTTPResponseParserTests: XCTestCase {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    func testContentLength() throws {
        let response = try HTTPResponseParser.parse(bytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}"))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.reason, "OK")
        XCTAssertEqual(response.header("content-type"), "application/json")
        XCTAssertEqual(response.header("Content-Length"), "7")
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "{\"a\":1}")
    }

    func testCompleteBeforeTheConnectionCloses() throws {
        // With a Content-Length the response is complete as soon as the body is in: no
        // need to wait for the server to close (a keep-alive server never would).
        var parser = HTTPResponseParser()
        XCTAssertEqual(try parser.feed(bytes("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab")), .incomplete)
        guard case .complete(let response) = try parser.feed(bytes("cdEXTRA")) else { return XCTFail("incomplete") }
        XCTAssertEqual(response.body, bytes("abcd"))
    }

    /// What docker 20.10 answers to GET /containers/<id>/json (headers as captured here).
    func testDockerChunkedResponse() throws {
        let json = #"{"Id":"fdf4aabe52c7","Name":"/web"}"#
        let body = String(json.utf8.count, radix: 16) + "\r\n" + json + "\r\n0\r\n\r\n"
        let text = "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\nDocker-Experimental: false\r\n"
            + "Ostype: linux\r\nServer: Docker/20.10.24+dfsg1 (linux)\r\nDate: Sun, 29 Nov 2026 08:11:46 GMT\r\n"
            + "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n" + body
        let response = try HTTPResponseParser.parse(bytes(text))
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), json)
    }

    func testChunkedFedOneByteAtATime() throws {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n"
        var parser = HTTPResponseParser()
        var result: HTTPResponse?
        for (index, byte) in bytes(text).enumerated() {
            switch try parser.feed([byte]) {
            case .incomplete:
                XCTAssertNil(result)
            case .complete(let response):
                XCTAssertEqual(index, text.utf8.count - 1, "complete only with the last byte")
                result = response
            }
        }
        XCTAssertEqual(result.map { String(decoding: $0.body, as: UTF8.self) }, "hello 0123456789")
    }

    func testChunkSizesInUpperAndLowerCase() throws {
        let payload = String(repeating: "x", count: 0x1A)
        let response = try HTTPResponseParser.parse(bytes(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1a\r\n\(payload)\r\n0\r\n\r\n"))
        XCTAssertEqual(response.body.count, 26)
        let upper = try HTTPResponseParser.parse(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n1A\r\n\(payload)\r\n0\r\n\r\n"))
        XCTAssertEqual(upper.body.count, 26)
    }

    func testCloseDelimitedBody() throws {
        var parser = HTTPResponseParser()
        XCTAssertEqual(try parser.feed(bytes("HTTP/1.0 200 OK\r\nServer: old\r\n\r\nsome body")), .incomplete)
        let response = try parser.finish()
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "some body")
    }

    func testInterimResponsesAreSkipped() throws {
        let response = try HTTPResponseParser.parse(bytes(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}"))
        XCTAssertEqual(response.status, 404)
        XCTAssertEqual(response.reason, "Not Found")
        XCTAssertEqual(response.body, bytes("{}"))
    }

    func testNoBodyStatuses() throws {
        var parser = HTTPResponseParser()
        guard case .complete(let response) = try parser.feed(bytes("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n")) else {
            return XCTFail("204 has no body")
        }
        XCTAssertEqual(response.body, [])
    }

    func testEmptyReasonPhrase() throws {
        let response = try HTTPResponseParser.parse(bytes("HTTP/1.1 500 \r\nContent-Length: 0\r\n\r\n"))
        XCTAssertEqual(response.status, 500)
        XCTAssertEqual(response.reason, "")
    }

    func testMalformedResponses() {
        let bad: [String] = [
            "SSH-2.0-OpenSSH_9.2\r\n\r\n",
            "HTTP/1.1 2000 OK\r\n\r\n",
            "HTTP/1.1 abc OK\r\n\r\n",
            "HTTP/2 200\r\n\r\n",
            "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
            "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n0\r\n\r\n",
        ]
        for text in bad {
            XCTAssertThrowsError(try HTTPResponseParser.parse(bytes(text)), text.debugDescription)
        }
    }

    func testTruncatedResponsesFailAtEndOfStream() {
        for text in [
            "", "HTTP/1.1 200 OK\r\nContent-Le",
            "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
        ] {
            var parser = HTTPResponseParser()
            XCTAssertEqual(try parser.feed(bytes(text)), .incomplete, text.debugDescription)
            XCTAssertThrowsError(try parser.finish(), text.debugDescription)
        }
    }

    func testLimits() {
        var small = HTTPResponseParser(maximumHeaderBytes: 64, maximumBodyBytes: 8)
        XCTAssertThrowsError(try small.feed(bytes("HTTP/1.1 200 OK\r\nX: " + String(repeating: "y", count: 100))))
        var body = HTTPResponseParser(maximumHeaderBytes: 1024, maximumBodyBytes: 8)
        XCTAssertThrowsError(try body.feed(bytes("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n")))
        var chunked = HTTPResponseParser(maximumHeaderBytes: 1024, maximumBodyBytes: 8)
        XCTAssertThrowsError(try chunked.feed(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n")))
        var huge = HTTPResponseParser()
        XCTAssertThrowsError(try huge.feed(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n")))
    }

    func testRandomBytesNeverCrash() {
        var random = SplitMix(seed: 7)
        let alphabet = bytes("HTTP/1.1 200 OK\r\n:;0123456789abcdefChunkedContent-LengthTransfer-Encoding \t")
        for _ in 0..<2000 {
            let count = Int.random(in: 0..<200, using: &random)
            let input = (0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &random)] }
            var parser = HTTPResponseParser(maximumHeaderBytes: 256, maximumBodyBytes: 256)
            _ = try? parser.feed(input)
            _ = try? parser.finish()
        }
    }
}
