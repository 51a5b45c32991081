import Foundation
import XCTest
@testable import NstraceCore

/// Names and paths come from traced processes and runtimes' APIs: no report may carry markup,
/// terminal control sequences or broken JSON from them.
final class StartupEscapingTests: XCTestCase {
    static let hostileName = "<script>alert(1)</script>\"'&"
    static let hostilePath = "/home/<img src=x onerror=alert(1)>/\u{1B}[31mred"

    /// A synthetic start (runc create → unshare → mounts with a hostile volume → pivot → exec).
    func hostileAnalysis() -> StartupAnalysis {
        let c = AnalysisEvent.Container(id: "evil", name: Self.hostileName, image: "img\"><b>", runtime: "runc")
        let a = StartupAnalyzer()
        a.beginFile("synthetic")
        var t: UInt64 = 1_000_000_000
        func ev(_ kind: AnalysisEvent.Kind, _ name: String, pid: UInt32, comm: String, _ f: (inout AnalysisEvent) -> Void = { _ in }) {
            t += 1_000_000
            var e = AnalysisEvent(kind: kind, name: name, tsNs: t, latencyNs: 50_000, pid: pid, comm: comm, container: c,
                                  detail: "detail " + Self.hostilePath)
            f(&e)
            a.consume(e)
        }
        ev(.exec, "exec", pid: 10, comm: "runc") { $0.isRuntime = true; $0.filename = "/usr/sbin/runc"; $0.argv = ["runc", "create", "evil"] }
        ev(.unshare, "unshare", pid: 11, comm: "runc:[1:CHILD]") { $0.namespaceFlags = 0x20000; $0.namespaces = [("mnt", 4026532000)] }
        ev(.mount, "mount", pid: 12, comm: "runc:[2:INIT]") { $0.source = "/r"; $0.target = "/r"; $0.mountFlags = MountBits.bind }
        ev(.mount, "mount", pid: 12, comm: "runc:[2:INIT]") { $0.source = Self.hostilePath; $0.target = "/proc/self/fd/6"; $0.mountFlags = MountBits.bind }
        ev(.mount, "mount", pid: 12, comm: "runc:[2:INIT]") { $0.target = "/proc/self/fd/6"; $0.mountFlags = MountBits.shared }
        ev(.pivotRoot, "pivot_root", pid: 12, comm: "runc:[2:INIT]") { $0.target = "."; $0.source = "." }
        ev(.exec, "exec", pid: 12, comm: Self.hostileName) { $0.filename = "/bin/sh"; $0.argv = ["sh"] }
        return a.finish()
    }

    func testHTMLHasNoMarkupFromData() throws {
        let html = StartupHTMLReport.render(hostileAnalysis())
        // the page's own two script elements (its data block and its code), nothing else
        XCTAssertEqual(html.components(separatedBy: "<script").count - 1, 2)
        XCTAssertEqual(html.components(separatedBy: "</script").count - 1, 2, "no string closes the data block")
        XCTAssertFalse(html.contains("<!--"))
        XCTAssertFalse(html.contains("<script src") || html.contains(" src=\""), "nothing loaded from elsewhere")
        XCTAssertTrue(html.contains("Content-Security-Policy\" content=\"default-src 'none'"))
        XCTAssertFalse(html.contains("<img"))
        XCTAssertFalse(html.contains("img\"><b>"))
        XCTAssertTrue(html.contains("img&quot;&gt;&lt;b&gt;"))
        if let r = html.range(of: "\u{1B}") { XCTFail(String(html[html.index(r.lowerBound, offsetBy: -80)..<r.upperBound])) }
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"))
        XCTAssertTrue(html.contains("&lt;img src=x onerror=alert(1)&gt;"))
        XCTAssertFalse(html.contains("http://") && html.contains("<link"), "self-contained")
        // the data block is JSON that gives the hostile strings back, byte for byte
        let open = "<script type=\"application/json\" id=\"nstrace-data\">"
        let start = try XCTUnwrap(html.range(of: open)).upperBound
        let end = try XCTUnwrap(html.range(of: "</script>", range: start..<html.endIndex)).lowerBound
        let block = String(html[start..<end])
        XCTAssertFalse(block.contains("<") || block.contains(">") || block.contains("&"), "as \\u escapes")
        let data = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(block.utf8)) as? [String: Any])
        let strings = try XCTUnwrap(data["s"] as? [String])
        XCTAssertTrue(strings.contains(Self.hostileName + " 12"), "the lane of the hostile comm: \(strings)")
        XCTAssertTrue(strings.contains("detail " + Self.hostilePath), "the escape byte as \\u001b, read back")
        let starts = try XCTUnwrap(data["c"] as? [[String: Any]])
        XCTAssertEqual((starts.first?["e"] as? [Int])?.count, 7 * 7, "seven numbers per event")
    }

    func testJSONForHTMLScriptEscaper() throws {
        var out = OutputBuffer(capacity: 64)
        out.appendJSONStringForHTMLScript("</script><!--&\"\u{2028}")
        XCTAssertEqual(out.string, "\"\\u003c/script\\u003e\\u003c!--\\u0026\\\"\\u2028\"")
        let back = try JSONSerialization.jsonObject(with: Data(("[" + out.string + "]").utf8)) as? [String]
        XCTAssertEqual(back, ["</script><!--&\"\u{2028}"])
    }

    func testJSONCarriesTheBytesAndParses() throws {
        let a = hostileAnalysis()
        let s = try XCTUnwrap(a.startups.first)
        XCTAssertTrue(s.complete, "\(s.incompleteReasons)")
        XCTAssertEqual(s.volumes.first?.source, Self.hostilePath)
        XCTAssertTrue(s.findings.contains { $0.kind == "shared_propagation" })
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(StartupJSONReport.render(a).utf8)) as? [String: Any])
        let c = try XCTUnwrap((obj["containers"] as? [[String: Any]])?.first)
        XCTAssertEqual((c["container"] as? [String: Any])?["name"] as? String, Self.hostileName)
    }

    func testAdapterEscapesForTheTerminal() {
        let bytes: [UInt8] = Array("/a\u{1B}[31m\\b".utf8) + [0xFF]
        let text = bytes.withUnsafeBytes { AnalysisEventAdapter.text($0) }
        XCTAssertEqual(text, "/a\\x1B[31m\\\\b\\xFF")
        XCTAssertEqual(Array("plain/path".utf8).withUnsafeBytes { AnalysisEventAdapter.text($0) }, "plain/path")
    }

    func testHTMLEscaper() {
        var out = OutputBuffer(capacity: 64)
        out.appendHTMLEscaped("a<b>&\"'\u{07}é")
        XCTAssertEqual(out.string, "a&lt;b&gt;&amp;&quot;&#39;\u{FFFD}é")
    }
}
