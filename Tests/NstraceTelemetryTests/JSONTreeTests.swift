import Logging
import XCTest
@testable import NstraceTelemetry

/// The JSON formatter's output read back into OTLP attribute values (LogRecordAttributes).
final class JSONTreeTests: XCTestCase {
    func testValuesEscapesAndNesting() throws {
        let text = #"{"event":"mount","pid":12,"latency_ns":1.5e3,"ok":true,"errno":null,"comm":"a\"b\\c\u00e9\ud83d\ude00\n","#
            + #""ns":{"net":4026531840},"flags":["MS_BIND","MS_REC"],"empty":{},"none":[]}"#
        guard case .object(let o)? = JSONTree.parse(Array(text.utf8)) else { return XCTFail("not parsed") }
        XCTAssertEqual(o["event"]?.metadataValue, .string("mount"))
        XCTAssertEqual(o["pid"]?.metadataValue, .string("12"))
        XCTAssertEqual(o["latency_ns"]?.metadataValue, .string("1.5e3"))
        XCTAssertEqual(o["ok"]?.metadataValue, .string("true"))
        XCTAssertNil(o["errno"]?.metadataValue, "null is absent")
        XCTAssertEqual(o["comm"]?.metadataValue, .string("a\"b\\c\u{e9}\u{1F600}\n"))
        XCTAssertEqual(o["ns"]?.metadataValue, .dictionary(["net": .string("4026531840")]))
        XCTAssertEqual(o["flags"]?.metadataValue, .array([.string("MS_BIND"), .string("MS_REC")]))
        XCTAssertEqual(o["empty"]?.metadataValue, .dictionary([:]))
        XCTAssertEqual(o["none"]?.metadataValue, .array([]))
    }

    func testMalformedGivesNil() {
        for bad in [#"{"a":}"#, #"{"a":1"#, #"{"a" 1}"#, #"["x",]"#, #""\q""#, #"tru"#, "", #"{"a":"\ud800"#,
                    String(repeating: "[", count: 100) + String(repeating: "]", count: 100)] {
            XCTAssertNil(JSONTree.parse(Array(bad.utf8)), bad)
        }
        if case .string(let s)? = JSONTree.parse(Array(#""\ud800x""#.utf8)) { XCTAssertEqual(s, "\u{FFFD}x") } else { XCTFail("lone surrogate") }
    }
}
