import XCTest
@testable import NstraceCore

/// The analysis groups and orders by Strings while comparing bytes (issue 9's speed work):
/// the results must be those of String's own `==` and `<`, for any names.
final class StartupGroupingTests: XCTestCase {
    /// ASCII strings (compared by bytes), prefixes, equal ones, and non-ASCII ones, among them
    /// two canonically equivalent spellings of "é" (equal Strings of different bytes).
    static let samples = ["", "a", "ab", "abc", "abd", "b", "B", "a b", "s0000000000000000001", "s0000000000000000010",
                          "s000000000000000001", "ab", "é", "e\u{301}", "ée", "e", "f", "\u{FFFD}", "z\u{0}", "~"]

    func testSortKeysCompareAsStrings() {
        let s = Self.samples
        StringSortKeys(s).withComparison { compare in
            for i in s.indices {
                for j in s.indices {
                    let want = s[i] == s[j] ? 0 : s[i] < s[j] ? -1 : 1
                    XCTAssertEqual(compare(i, j).signum(), want, "\(s[i].debugDescription) vs \(s[j].debugDescription)")
                }
            }
        }
    }

    /// (Without "e\u{301}": String's `<` is no total order with it, neither less than "ée" nor
    /// greater nor equal, and a sort's result then depends on the order it compares in.)
    func testKnownContainersSortedByNameThenID() {
        let names = Self.samples.filter { $0 != "e\u{301}" }
        let known = names.enumerated().map { i, name in
            AnalysisEvent.Container(id: "id-" + String(10 + (7 * i) % names.count), name: i % 3 == 0 ? nil : name,
                                    runtime: "runc")
        }
        let want = known.sorted { a, b in
            let ka = a.name ?? a.id, kb = b.name ?? b.id
            return ka != kb ? ka < kb : a.id < b.id
        }
        XCTAssertEqual(StartupAnalyzer.sortedKnown(known).map(\.id), want.map(\.id))
        XCTAssertEqual(StartupAnalyzer.sortedKnown(known.reversed()).map(\.id), want.map(\.id))
    }

    /// Failed calls grouped by "name errno" as a dictionary of those Strings grouped them: in
    /// order of first sight, equal Strings of different bytes in one group, an errno without a
    /// name by its number.
    func testFailedCallsGroupedByNameAndErrno() throws {
        let c = AnalysisEvent.Container(id: "grouping", runtime: "runc")
        let analyzer = StartupAnalyzer()
        analyzer.beginFile("synthetic")
        var create = AnalysisEvent(kind: .exec, name: "exec", tsNs: 1_000, pid: 20, comm: "runc", container: c)
        create.argv = ["runc", "create", "--bundle", "/b", c.id]
        create.isRuntime = true
        analyzer.consume(create)
        let calls: [(String, Int32)] = [("mount", 2), ("umount", 22), ("mount", 20), ("é", 2), ("e\u{301}", 2), ("mount", 2),
                                        ("mount", 9999), ("mount x", 2), ("mount", -3), ("umount", 22), ("e\u{301}", 20)]
        for (k, (name, errno)) in calls.enumerated() {
            let e = AnalysisEvent(kind: .mount, name: name, tsNs: 2_000 + UInt64(k), pid: 21, comm: "runc:[2:INIT]",
                                  errno: errno, container: c)
            analyzer.consume(e)
        }
        let s = try XCTUnwrap(analyzer.finish().startups.first)
        XCTAssertEqual(s.failedCalls.count, calls.count)
        // what the findings said when grouped through a [String: [Int]]
        var groups: [String: [Int]] = [:]
        var order: [String] = []
        for i in s.failedCalls {
            let key = s.events[i].name + " " + (Errno.name(s.events[i].errno) ?? String(s.events[i].errno))
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(i)
        }
        let failed = s.findings.filter { $0.kind == "failed_call" }
        XCTAssertEqual(failed.map(\.subject), order)
        XCTAssertEqual(failed.map(\.events), order.map { groups[$0]! })
        XCTAssertEqual(failed.map(\.message), order.map { "\(groups[$0]!.count) failed \($0)" })
        XCTAssertTrue(order.contains("mount ERRNO_9999") == false && order.contains("mount 9999") && order.contains("mount -3"), "\(order)")
        XCTAssertEqual(groups["é ENOENT"]?.count, 2, "equal Strings of different bytes: one group")
    }
}
