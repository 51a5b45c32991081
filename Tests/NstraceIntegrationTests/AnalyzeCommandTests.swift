import Foundation
import XCTest
import NstraceTestSupport
import NstraceCore

/// `nstrace analyze`, `diff` and `export -o chrome` run as a user would, on the recorded
/// fixtures; the HTML report opened in headless Chromium (Debian's chromium, `make deps-test`).
final class AnalyzeCommandTests: XCTestCase {
    static let fixtures = Harness.packageRoot.appendingPathComponent("Tests/Fixtures/analysis")
    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name + ".nst").path }

    func nstrace(_ args: [String]) throws -> Harness.Captured {
        try Harness.runCapturing(URL(fileURLWithPath: "/usr/bin/timeout"), ["120", Harness.nstrace.path] + args)
    }

    func tempFile(_ suffix: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("nstrace-analyze-\(UUID().uuidString)\(suffix)")
    }

    func testTextReportPerRuntime() throws {
        let r = try nstrace(["analyze", Self.fixture("runc"), Self.fixture("docker")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = String(decoding: r.stdout, as: UTF8.self)
        XCTAssertTrue(out.contains("2 container starts"), out)
        XCTAssertTrue(out.contains("mount namespace set up"))
        XCTAssertTrue(out.contains("volume: /home → ? (/proc/self/fd/6) private rw"), out)
        XCTAssertTrue(out.contains("percentiles over complete starts"))
    }

    func testNoContainerStartIsNotAnError() throws {
        let r = try nstrace(["analyze", Self.fixture("none")])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(String(decoding: r.stdout, as: UTF8.self).contains("no container start in the trace"))
    }

    func testUnknownContainerListsTheKnownOnes() throws {
        let r = try nstrace(["analyze", Self.fixture("runc-multi"), "--container", "no-such-one"])
        XCTAssertNotEqual(r.status, 0)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("unknown container no-such-one"), r.stderr)
        XCTAssertTrue(r.stderr.contains("nste2e-runc-"), "lists the known: \(r.stderr)")
    }

    func testSelectedContainerOnly() throws {
        let r = try nstrace(["analyze", Self.fixture("runc-multi"), "-o", "json"])
        let all = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        let containers = try XCTUnwrap(all["containers"] as? [[String: Any]])
        XCTAssertEqual(containers.count, 3)
        let name = try XCTUnwrap((containers[2]["container"] as? [String: Any])?["name"] as? String)
        let one = try nstrace(["analyze", Self.fixture("runc-multi"), "-o", "json", "--container", name])
        XCTAssertEqual(one.status, 0, one.stderr)
        let sel = try XCTUnwrap(try JSONSerialization.jsonObject(with: one.stdout) as? [String: Any])
        XCTAssertEqual((sel["containers"] as? [Any])?.count, 1)
    }

    func testCorruptFileIsOneLineAndFails() throws {
        let bad = tempFile(".nst")
        defer { try? FileManager.default.removeItem(at: bad) }
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: bad)
        let r = try nstrace(["analyze", bad.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertFalse(r.stderr.contains("Fatal error"))
        let missing = try nstrace(["diff", bad.path + ".missing", Self.fixture("runc")])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
    }

    func testCutAndLossyAreMarkedIncomplete() throws {
        for name in ["docker-cut", "runc-lossy"] {
            let r = try nstrace(["analyze", Self.fixture(name)])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(String(decoding: r.stdout, as: UTF8.self).contains("INCOMPLETE"), name)
        }
    }

    func testDiffOfTwoFixtures() throws {
        let r = try nstrace(["diff", Self.fixture("runc"), Self.fixture("crun")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = String(decoding: r.stdout, as: UTF8.self)
        XCTAssertTrue(out.contains("finishing"), out)
        XCTAssertTrue(out.contains("absent"), out)
        XCTAssertTrue(out.contains("finding failed_call:umount EINVAL: appeared"), out)
        let multi = try nstrace(["diff", Self.fixture("runc-multi"), Self.fixture("runc"), "-o", "json"])
        XCTAssertEqual(multi.status, 0, multi.stderr)
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: multi.stdout) as? [String: Any])
        let total = try XCTUnwrap((obj["phases"] as? [[String: Any]])?.first)
        XCTAssertEqual((total["a"] as? [String: Any])?["count"] as? Int, 3)
    }

    func shell(_ command: String) throws -> Harness.Captured {
        try Harness.runCapturing(URL(fileURLWithPath: "/usr/bin/timeout"), ["120", "/bin/bash", "-c", command])
    }

    /// Each input is read once: standard input and a pipe (`<(cat F)`) give the file's report.
    func testStandardInputAndPipesAreReadInOnePass() throws {
        let file = try nstrace(["analyze", Self.fixture("runc-multi"), "-o", "json"])
        XCTAssertEqual(file.status, 0, file.stderr)
        let bin = Harness.nstrace.path, f = Self.fixture("runc-multi")
        let stdin = try shell("'\(bin)' analyze -o json - < '\(f)'")
        XCTAssertEqual(stdin.status, 0, stdin.stderr)
        let pipe = try shell("'\(bin)' analyze -o json <(cat '\(f)')")
        XCTAssertEqual(pipe.status, 0, pipe.stderr)
        // the same report, but for the file's name
        func body(_ out: Data) throws -> NSDictionary {
            let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: out) as? [String: Any])
            return obj.filter { $0.key != "files" } as NSDictionary
        }
        XCTAssertGreaterThan(((try body(file.stdout))["containers"] as? [Any])?.count ?? 0, 1)
        XCTAssertEqual(try body(stdin.stdout), try body(file.stdout))
        XCTAssertEqual(try body(pipe.stdout), try body(file.stdout))
        // diff with one side from standard input; export's phases from a pipe
        let diff = try shell("cat '\(f)' | '\(bin)' diff - '\(Self.fixture("runc"))'")
        XCTAssertEqual(diff.status, 0, diff.stderr)
        let chrome = try shell("'\(bin)' export -o chrome <(cat '\(Self.fixture("podman"))')")
        XCTAssertEqual(chrome.status, 0, chrome.stderr)
        let events = try XCTUnwrap((try JSONSerialization.jsonObject(with: chrome.stdout) as? [String: Any])?["traceEvents"] as? [[String: Any]])
        XCTAssertTrue(events.contains { $0["cat"] as? String == "phase" && $0["name"] as? String == "network" })
    }

    func testChromeExportHasThePhases() throws {
        let r = try nstrace(["export", Self.fixture("podman"), "-o", "chrome"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        let events = try XCTUnwrap(obj["traceEvents"] as? [[String: Any]])
        let phases = events.filter { $0["cat"] as? String == "phase" }.compactMap { $0["name"] as? String }
        XCTAssertTrue(phases.contains("network"), "\(phases)")
        XCTAssertTrue(phases.contains("create→start wait"), "\(phases)")
        XCTAssertTrue(phases.contains("mount namespace set up"), "\(phases)")
    }

    // MARK: HTML in Chromium

    func chromium(_ args: [String]) throws -> Harness.Captured {
        let bin = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let bin else { throw HarnessError("chromium is not installed: run 'make deps-test' (Debian package chromium)") }
        return try Harness.runCapturing(URL(fileURLWithPath: "/usr/bin/timeout"),
                                        ["90", bin, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"] + args)
    }

    func testHTMLReportInChromium() throws {
        let html = tempFile(".html")
        defer { try? FileManager.default.removeItem(at: html) }
        let names = ["runc", "docker", "podman"]
        let r = try nstrace(["analyze"] + names.map(Self.fixture) + ["-o", "html", "-w", html.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let page = try String(contentsOf: html, encoding: .utf8)
        XCTAssertFalse(page.contains(" src=\"") || page.contains("href=\"http") || page.contains("@import") || page.contains("url("),
                       "nothing fetched from anywhere: the page's script is inline")
        XCTAssertTrue(page.contains("content=\"default-src 'none'"), "and its policy forbids any fetch")
        XCTAssertFalse(page.contains("<svg"), "the timelines are data, drawn by the page")

        let dom = try chromium(["--dump-dom", html.absoluteString])
        XCTAssertEqual(dom.status, 0, dom.stderr)
        let text = String(decoding: dom.stdout, as: UTF8.self)
        XCTAssertEqual(text.components(separatedBy: "<svg class=\"timeline\"").count - 1, 3, "a timeline per container")
        XCTAssertGreaterThanOrEqual(text.components(separatedBy: "class=\"lane\"").count - 1, 15, "a lane per process")
        for label in ["engine preparation", "runtime bootstrap", "mount namespace set up", "pivot_root", "network", "entrypoint exec"] {
            XCTAssertTrue(text.contains(">\(label)</text>"), "phase label \(label)")
        }
        for name in ["nste2e-runc-435465d5", "nste2e-docker-5ad02c2e", "nste2e-podman-78e5741f"] {
            XCTAssertTrue(text.contains("<h2 class=\"name\">\(name)</h2>"), "container \(name)")
        }
        XCTAssertTrue(text.contains("id=\"summary\"") && text.contains("id=\"percentiles\""))
        XCTAssertTrue(text.contains("<title>"), "event details on hover")

        XCTAssertEqual(text.components(separatedBy: "<ol class=\"chain\">").count - 1, 3, "a critical chain per container")
        XCTAssertTrue(text.contains("<li>engine preparation @0ns"), "docker's and podman's chains start with their engine")

        // the first timeline as the page drew it, alone, screenshotted: its phases and events must really be drawn
        let svg = try XCTUnwrap(text.range(of: "<svg class=\"timeline\"").flatMap { start in
            text.range(of: "</svg>", range: start.lowerBound..<text.endIndex).map { text[start.lowerBound..<$0.upperBound] }
        })
        let alone = tempFile(".html"), png = tempFile(".png")
        defer { try? FileManager.default.removeItem(at: alone); try? FileManager.default.removeItem(at: png) }
        try ("<!DOCTYPE html><html><body style=\"margin:0;background:#fff\">" + svg + "</body></html>").write(to: alone, atomically: true, encoding: .utf8)
        let shot = try chromium(["--window-size=1100,400", "--screenshot=" + png.path, alone.absoluteString])
        XCTAssertEqual(shot.status, 0, shot.stderr)
        // coloured pixels right of the labels (the plot area), and none in an empty control strip
        let plot = try colouredPixels(png, x0: 190, x1: 1050, y0: 0, y1: 400)
        XCTAssertGreaterThan(plot, 1500, "the timeline is drawn")
        let margin = try colouredPixels(png, x0: 1070, x1: 1100, y0: 0, y1: 400)
        XCTAssertEqual(margin, 0, "nothing drawn beyond the plot")
    }

    func testThousandContainersOpenFast() throws {
        let trace = tempFile(".nst"), html = tempFile(".html")
        defer { try? FileManager.default.removeItem(at: trace); try? FileManager.default.removeItem(at: html) }
        _ = try SyntheticStartupTrace.write(path: trace.path, fixture: Self.fixture("runc"), fixtureID: "nste2e-runc-435465d5",
                                            starts: 1000, noise: 0)
        let r = try nstrace(["analyze", trace.path, "-o", "html", "-w", html.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        // the copies are whole starts, as the fixture's
        let text = try nstrace(["analyze", trace.path])
        let report = String(decoding: text.stdout, as: UTF8.self)
        XCTAssertTrue(report.contains("1000 container starts"), String(report.prefix(300)))
        XCTAssertEqual(report.components(separatedBy: "from the first event of the start to the entrypoint's exec").count - 1, 1000, "all complete")
        XCTAssertEqual(report.components(separatedBy: "mount namespace set up  |").count - 1, 1000, "the phase in each")
        let size = (try FileManager.default.attributesOfItem(atPath: html.path)[.size] as? Int) ?? 0
        // 16 MB when every event was markup (one <rect> and <title> each): now 6.2 MB
        XCTAssertLessThan(size, 8_000_000, "compact: the timelines are one data block")
        let start = Date()
        let dom = try chromium(["--dump-dom", html.absoluteString])
        let seconds = Date().timeIntervalSince(start)
        print("AnalyzeCommandTests: chromium loaded \(html.path) (\(size) bytes, 1,000 starts) in \(seconds) s")
        XCTAssertEqual(dom.status, 0, dom.stderr)
        let domText = String(decoding: dom.stdout, as: UTF8.self)
        XCTAssertEqual(domText.components(separatedBy: "<h2 class=\"name\">").count - 1, 1000, "a section per start")
        let drawn = domText.components(separatedBy: "<svg class=\"timeline\"").count - 1
        XCTAssertGreaterThanOrEqual(drawn, 20, "the first timelines at once")
        XCTAssertLessThan(drawn, 1000, "the others when they come into view")
        // generous on a shared, loaded 2-core machine
        XCTAssertLessThan(seconds, 60, "1,000 containers open in \(seconds) s")

        // the last container, opened by its link: its timeline is drawn when it comes into view
        let last = try chromium(["--virtual-time-budget=5000", "--dump-dom", html.absoluteString + "#c999"])
        XCTAssertEqual(last.status, 0, last.stderr)
        let lastText = String(decoding: last.stdout, as: UTF8.self)
        let section = try XCTUnwrap(lastText.range(of: "id=\"c999\"").flatMap { r in
            lastText.range(of: "</section>", range: r.upperBound..<lastText.endIndex).map { lastText[r.upperBound..<$0.lowerBound] }
        })
        XCTAssertTrue(section.contains("<svg class=\"timeline\""), "drawn on demand")
        XCTAssertGreaterThanOrEqual(section.components(separatedBy: "class=\"lane\"").count - 1, 3)
    }

    /// Pixels with a saturated colour in a rectangle of a PNG (decoded by python3's zlib).
    func colouredPixels(_ png: URL, x0: Int, x1: Int, y0: Int, y1: Int) throws -> Int {
        let r = try Harness.runCapturing(URL(fileURLWithPath: "/usr/bin/python3"),
                                         ["-c", Self.pngScript, png.path, "\(x0)", "\(x1)", "\(y0)", "\(y1)"])
        guard r.status == 0, let n = Int(String(decoding: r.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw HarnessError("cannot decode \(png.path): \(r.stderr)")
        }
        return n
    }

    static let pngScript = """
        import sys, zlib, struct
        d = open(sys.argv[1], 'rb').read()
        assert d[:8] == b'\\x89PNG\\r\\n\\x1a\\n', 'not a PNG'
        pos, idat = 8, b''
        while pos < len(d):
            n, = struct.unpack('>I', d[pos:pos+4]); t = d[pos+4:pos+8]; c = d[pos+8:pos+8+n]; pos += 12 + n
            if t == b'IHDR': w, h, depth, ctype = struct.unpack('>IIBB', c[:10])
            elif t == b'IDAT': idat += c
        assert depth == 8 and ctype in (2, 6), 'unexpected PNG type'
        raw = zlib.decompress(idat); bpp = 3 if ctype == 2 else 4; stride = w * bpp
        x0, x1, y0, y1 = map(int, sys.argv[2:6]); prev = bytearray(stride); i = 0; count = 0
        for y in range(h):
            f = raw[i]; line = bytearray(raw[i+1:i+1+stride]); i += 1 + stride
            for x in range(stride):
                a = line[x-bpp] if x >= bpp else 0; b = prev[x]; c = prev[x-bpp] if x >= bpp else 0
                if f == 1: line[x] = (line[x] + a) & 255
                elif f == 2: line[x] = (line[x] + b) & 255
                elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
                elif f == 4:
                    p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            if y0 <= y < y1:
                for x in range(max(0, x0), min(x1, w)):
                    R, G, B = line[x*bpp], line[x*bpp+1], line[x*bpp+2]
                    if max(R, G, B) - min(R, G, B) > 60: count += 1
            prev = line
        print(count)
        """
}
