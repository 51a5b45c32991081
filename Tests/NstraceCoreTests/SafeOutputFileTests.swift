import Foundation
import NstraceCore
import XCTest

/// SafeOutputFile from bytes on disk: what every output file of nstrace is created with.
final class SafeOutputFileTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "nstrace-safe-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func mode(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : 0o7777
    }

    func testAtomicFileAppearsOnlyWhenCommittedAndIsPrivateWhateverTheUmask() throws {
        let path = dir + "/t.nst"
        let old = umask(0)
        defer { umask(old) }
        let file = try SafeOutputFile(path, placement: .atomic)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "half-written under its final name")
        let temp = try XCTUnwrap(file.temporaryPath)
        XCTAssertTrue(temp.hasPrefix(path + ".part-"))
        XCTAssertEqual(write(file.fd, "x", 1), 1)
        try file.commit()
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "x")
        XCTAssertFalse(FileManager.default.fileExists(atPath: temp))
        XCTAssertEqual(mode(path), 0o600)
    }

    func testExistingFilesAndLinksAreRefusedAndReplacedOnlyByRename() throws {
        let victim = dir + "/victim"
        try Data("precious".utf8).write(to: URL(fileURLWithPath: victim))
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: victim)
        for placement in [SafeOutputFile.Placement.atomic, .inPlace] {
            for name in ["link", "victim"] {
                XCTAssertThrowsError(try SafeOutputFile(dir + "/" + name, placement: placement)) { error in
                    XCTAssertTrue("\(error)".hasPrefix(self.dir + "/" + name + ": "), "\(error)")
                    XCTAssertTrue("\(error)".contains("--force"), "\(error)")
                }
            }
        }
        // the writer's own sink
        XCTAssertThrowsError(try TraceFileWriter(path: dir + "/link", header: TraceFileHeader.current(nstraceVersion: "t")))
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "precious")
        // replace: the name gets a new file; the link is not followed
        let replaced = try SafeOutputFile(dir + "/link", placement: .atomic, replace: true)
        XCTAssertEqual(write(replaced.fd, "new", 3), 3)
        try replaced.commit()
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "precious")
        XCTAssertEqual(try String(contentsOfFile: dir + "/link", encoding: .utf8), "new")
        XCTAssertNil(try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/link"))
    }

    func testAnInputIsNeverTheOutput() throws {
        let input = dir + "/in.nst"
        try Data("trace".utf8).write(to: URL(fileURLWithPath: input))
        XCTAssertEqual(link(input, dir + "/other-name"), 0)
        let identity = try XCTUnwrap(FileIdentity(path: input))
        for name in ["in.nst", "other-name"] {
            XCTAssertThrowsError(try SafeOutputFile(dir + "/" + name, placement: .atomic, replace: true, notSameAs: [identity])) { error in
                XCTAssertTrue("\(error)".contains("is the input file"), "\(error)")
            }
        }
        XCTAssertEqual(try String(contentsOfFile: input, encoding: .utf8), "trace")
    }

    func testAFIFOWithoutAReaderIsWaitedForUntilTheDeadline() throws {
        let fifo = dir + "/fifo"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let start = Date()
        var info = timespec()
        clock_gettime(CLOCK_MONOTONIC, &info)
        let now = Double(info.tv_sec) + Double(info.tv_nsec) / 1e9
        XCTAssertThrowsError(try SafeOutputFile(fifo, placement: .atomic, deadline: now + 0.3)) { error in
            XCTAssertTrue("\(error)".contains("no process opened this FIFO for reading"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }
}
