import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The real `nstrace` running in the background (live or record), its stdout and stderr
/// collected to files. It stays in our process group: a Ctrl-C of the test run stops it too.
public final class NstraceTracer {
    public let child: Child
    public let stdoutURL: URL
    public let stderrURL: URL
    private let ownsStdout: Bool

    /// `stdoutPath`: where its standard output goes (kept); else a temporary file, removed
    /// with the tracer.
    public init(_ arguments: [String], stdoutPath: String? = nil) throws {
        let dir = FileManager.default.temporaryDirectory
        let tag = UUID().uuidString
        stdoutURL = stdoutPath.map { URL(fileURLWithPath: $0) } ?? dir.appendingPathComponent("nstrace-test-\(tag).out")
        ownsStdout = stdoutPath == nil
        stderrURL = dir.appendingPathComponent("nstrace-test-\(tag).err")
        child = try Child(Binaries.nstrace, arguments, stdout: stdoutURL.path, stderr: stderrURL.path, newGroup: false)
    }

    deinit {
        kill()
        if ownsStdout { try? FileManager.default.removeItem(at: stdoutURL) }
        try? FileManager.default.removeItem(at: stderrURL)
    }

    public var pid: Int32 { child.pid }
    public var isRunning: Bool { child.isRunning }
    /// Its exit status once it has exited (128 + N for signal N).
    public var exitStatus: Int32? { child.exitStatus }

    public var stderrText: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }
    /// Everything it wrote to standard output so far.
    public var stdoutData: Data { (try? Data(contentsOf: stdoutURL)) ?? Data() }

    /// Waits for the readiness line, as a script would.
    public func waitUntilTracing(timeout: TimeInterval = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stderrText.contains("nstrace: tracing") { return }
            if !child.isRunning {
                throw HarnessError("`\(child.command)` exited (\(child.exitStatus ?? -1)) before tracing: \(stderrText)")
            }
            usleep(20_000)
        }
        throw HarnessError("`\(child.command)` did not print 'nstrace: tracing' within \(Int(timeout)) s: \(stderrText)")
    }

    /// SIGINT, as Ctrl-C (or `signal`): nstrace drains the ring buffer, prints its summary and
    /// exits 0. Returns its stderr; its output stays in `stdoutURL` until the tracer is released.
    @discardableResult
    public func stop(timeout: TimeInterval = 60, signal: Int32 = SIGINT) throws -> String {
        usleep(500_000) // the consumer polls: let the last events arrive
        child.signal(signal)
        guard child.wait(timeout: timeout) else {
            kill()
            throw HarnessError("`\(child.command)` did not exit within \(Int(timeout)) s of signal \(signal): \(stderrText)")
        }
        guard child.exitStatus == 0 else {
            throw HarnessError("`\(child.command)` exited \(child.exitStatus ?? -1): \(stderrText)")
        }
        return stderrText
    }

    /// Waits for it to exit by itself (or after a signal the test sent); whether it did.
    @discardableResult
    public func waitForExit(timeout: TimeInterval = 60) -> Bool { child.wait(timeout: timeout) }

    /// The first line of its output (the text header).
    public func firstLine() -> String {
        guard let handle = try? FileHandle(forReadingFrom: stdoutURL),
              let data = try? handle.read(upToCount: 4096) else { return "" }
        try? handle.close()
        return String(decoding: data.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
    }

    public func kill() { child.kill(group: false) }
}
