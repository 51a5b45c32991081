import Foundation
import XCTest
import NstraceTestSupport

/// Issue 8: paths a mount-family call names through a descriptor are resolved in the kernel at
/// syscall entry. The driver prints what each resolves to (its own mkdir/open), the tracer
/// must show the same, keep the raw argument, and flag a walk it had to cut or could not do.
final class ResolvedPathTests: XCTestCase {
    static let run: Result<TraceRun, HarnessError> = Result { try Harness.runScenarios(["fdpaths"]) }
        .mapError { $0 as? HarnessError ?? HarnessError($0.localizedDescription) }

    func get() throws -> TraceRun {
        XCTAssertTrue(Harness.requireRoot())
        switch Self.run {
        case .success(let r): return r
        case .failure(let e): XCTFail("\(e)"); throw e
        }
    }

    func path(_ e: JSONEvent, _ arg: String) -> [String: ParsedJSON]? { e.paths?[arg] }

    func testProcSelfFdTargetIsResolved() throws {
        let run = try get()
        let fact = try XCTUnwrap(run.facts("fdpaths-procfd").first)
        let mount = try XCTUnwrap(run.events("mount", pid: fact.int("pid")).first { $0.string("target") == fact["target"] })
        XCTAssertEqual(mount.string("target"), fact["target"], "the raw argument stays")
        XCTAssertEqual(path(mount, "target")?["resolved"], .string(fact["resolved"]))
        XCTAssertEqual(path(mount, "target")?["truncated"], .bool(false))
        let text = String(decoding: run.textOutput, as: UTF8.self)
        XCTAssertTrue(text.contains("nstrace-fd on \(fact["resolved"]) type tmpfs"), "text shows the resolved target:\n\(text)")
    }

    func testRelativePathIsJoinedToTheCwd() throws {
        let run = try get()
        let fact = try XCTUnwrap(run.facts("fdpaths-relative").first)
        let umount = try XCTUnwrap(run.events("umount", pid: fact.int("pid")).first { $0.string("target") == "a" })
        XCTAssertEqual(path(umount, "target")?["resolved"], .string(fact["resolved"]))
    }

    func testMoveMountFromADetachedMountToADirfd() throws {
        let run = try get()
        let fact = try XCTUnwrap(run.facts("fdpaths-move").first)
        let move = try XCTUnwrap(run.events("move_mount", pid: fact.int("pid")).first)
        XCTAssertEqual(path(move, "to_path")?["resolved"], .string(fact["to"]))
        XCTAssertEqual(path(move, "from_path")?["detached"], .bool(true), "fsmount's mount is detached: \(move)")
        XCTAssertEqual(move.mounted?["fstype"], .string("tmpfs"), "move_mount says what fsopen/fsmount made")
    }

    func testTooDeepIsFlaggedAndBadFdFails() throws {
        let run = try get()
        let deep = try XCTUnwrap(run.facts("fdpaths-deep").first)
        let mount = try XCTUnwrap(run.events("mount", pid: deep.int("pid")).first { $0.string("target") == deep["target"] })
        XCTAssertEqual(path(mount, "target")?["truncated"], .bool(true))
        if case .string(let cut)? = path(mount, "target")?["resolved"] {
            XCTAssertTrue(deep["resolved"].hasSuffix(cut), "a cut path keeps its last components: \(cut)")
            XCTAssertLessThan(cut.count, deep["resolved"].count)
        } else {
            XCTFail("no resolved part of the deep path: \(String(describing: mount.paths))")
        }
        let bad = try XCTUnwrap(run.facts("fdpaths-badfd").first)
        let failed = try XCTUnwrap(run.events("mount", pid: bad.int("pid")).first { $0.string("target") == bad["target"] })
        XCTAssertEqual(failed.string("target"), "/proc/self/fd/987", "the raw argument stays")
        XCTAssertEqual(path(failed, "target")?["failed"], .bool(true))
        XCTAssertEqual(path(failed, "target")?["resolved"], .null)
        XCTAssertEqual(failed.errno, "ENOENT")
    }
}
