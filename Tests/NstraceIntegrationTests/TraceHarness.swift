import Foundation
import XCTest

/// Runs the real `nstrace` binary against the real kernel while `nstrace-testdriver` makes
/// real syscalls, and hands the tests both sides: the events nstrace printed and the facts the
/// driver printed (pids, fds, namespace inodes read from /proc/PID/ns).
///
/// These tests never skip: without root or BPF they fail, with the reason.
struct TraceRun: Sendable {
    var events: [JSONEvent]
    var facts: [DriverFact]
    var textOutput: Data
    var jsonStderr: String

    func facts(_ scenario: String) -> [DriverFact] { facts.filter { $0.scenario == scenario } }

    func events(_ name: String, pid: Int) -> [JSONEvent] {
        events.filter { $0.event == name && $0.pid == pid }
    }
}

/// One line of the driver's output: `<scenario> key=value ...`.
struct DriverFact: Sendable {
    var scenario: String
    var values: [String: String]

    subscript(key: String) -> String { values[key] ?? "" }
    func int(_ key: String) -> Int { Int(values[key] ?? "") ?? -1 }
    func uint(_ key: String) -> UInt64 { UInt64(values[key] ?? "") ?? 0 }
}

enum Harness {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static var binDir: URL {
        if let dir = ProcessInfo.processInfo.environment["NSTRACE_BIN_DIR"] {
            return URL(fileURLWithPath: dir)
        }
        return packageRoot.appendingPathComponent(".build/debug")
    }

    static var nstrace: URL { binDir.appendingPathComponent("nstrace") }
    static var driver: URL { binDir.appendingPathComponent("nstrace-testdriver") }

    /// Fails the calling test unless we can load BPF programs: never a skip.
    static func requireRoot(file: StaticString = #filePath, line: UInt = #line) -> Bool {
        guard geteuid() == 0 else {
            XCTFail("integration tests load BPF programs and need root: run 'sudo make test'", file: file, line: line)
            return false
        }
        return true
    }

    /// One run for the whole suite: every scenario, traced by a JSON and a text tracer at once.
    static let shared: Result<TraceRun, HarnessError> = Result { try runScenarios(["all"]) }
        .mapError { $0 as? HarnessError ?? HarnessError($0.localizedDescription) }

    static func runScenarios(_ scenarios: [String]) throws -> TraceRun {
        guard geteuid() == 0 else { throw HarnessError("not root") }
        let json = try TracerProcess(arguments: ["-o", "json", "--comm", "nstdrv"])
        defer { json.kill() }
        let text = try TracerProcess(arguments: ["-o", "text", "--color", "never", "--comm", "nstdrv"])
        defer { text.kill() }
        try json.waitUntilTracing()
        try text.waitUntilTracing()

        let driverOutput = try run(driver, scenarios)
        let jsonOut = try json.stop()
        let textOut = try text.stop()

        var events: [JSONEvent] = []
        let decoder = JSONDecoder()
        for (index, line) in jsonOut.stdout.split(separator: UInt8(ascii: "\n")).enumerated() {
            do {
                events.append(try decoder.decode(JSONEvent.self, from: Data(line)))
            } catch {
                throw HarnessError("line \(index + 1) of nstrace -o json is not a valid event: \(error): \(String(decoding: line, as: UTF8.self))")
            }
        }
        let facts = String(decoding: driverOutput, as: UTF8.self).split(separator: "\n").map { line -> DriverFact in
            var parts = line.split(separator: " ")
            let scenario = String(parts.removeFirst())
            var values: [String: String] = [:]
            for part in parts {
                let kv = part.split(separator: "=", maxSplits: 1)
                if kv.count == 2 { values[String(kv[0])] = String(kv[1]) }
            }
            return DriverFact(scenario: scenario, values: values)
        }
        return TraceRun(events: events, facts: facts, textOutput: textOut.stdout, jsonStderr: jsonOut.stderr)
    }

    /// Runs a program to completion; its stdout, or an error with its stderr.
    static func run(_ executable: URL, _ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw HarnessError("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(String(decoding: errData, as: UTF8.self))")
        }
        return data
    }
}

extension Harness {
    struct Captured {
        var status: Int32
        var stdout: Data
        var stderr: String
    }

    /// Runs a program to completion and returns its exit status and output, whatever it is.
    static func runCapturing(_ executable: URL, _ arguments: [String]) throws -> Captured {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        // stderr to a file: reading two pipes in turn could deadlock on a full one
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("nstrace-err-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: errURL.path, contents: nil) else {
            throw HarnessError("cannot create \(errURL.path)")
        }
        defer { try? FileManager.default.removeItem(at: errURL) }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errText = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        return Captured(status: process.terminationStatus, stdout: data, stderr: errText)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `nstrace` running in the background, its stdout and stderr collected to files.
final class TracerProcess: @unchecked Sendable {
    let process = Process()
    let stdoutURL: URL
    let stderrURL: URL
    private let ownsStdout: Bool

    init(arguments: [String], stdoutPath: String? = nil) throws {
        let dir = FileManager.default.temporaryDirectory
        let id = UUID().uuidString
        stdoutURL = stdoutPath.map { URL(fileURLWithPath: $0) } ?? dir.appendingPathComponent("nstrace-test-\(id).out")
        ownsStdout = stdoutPath == nil
        stderrURL = dir.appendingPathComponent("nstrace-test-\(id).err")
        guard FileManager.default.createFile(atPath: stdoutURL.path, contents: nil),
              FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        else { throw HarnessError("cannot create output files in \(dir.path)") }
        process.executableURL = Harness.nstrace
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
    }

    var stderrText: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Waits for the readiness line, as a script would.
    func waitUntilTracing(timeout: TimeInterval = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stderrText.contains("nstrace: tracing") { return }
            if !process.isRunning {
                throw HarnessError("nstrace exited (\(process.terminationStatus)) before tracing: \(stderrText)")
            }
            usleep(20_000)
        }
        throw HarnessError("nstrace did not print 'nstrace: tracing' within \(timeout) s: \(stderrText)")
    }

    /// SIGINT, as Ctrl-C: nstrace drains the ring buffer, prints its summary and exits 0.
    func stop(timeout: TimeInterval = 20, signal: Int32 = SIGINT) throws -> (stdout: Data, stderr: String) {
        usleep(300_000) // the consumer polls every 100 ms: let the last events arrive
        Glibc.kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill()
            throw HarnessError("nstrace did not exit within \(timeout) s of SIGINT")
        }
        guard process.terminationStatus == 0 else {
            throw HarnessError("nstrace exited \(process.terminationStatus): \(stderrText)")
        }
        let out = (try? Data(contentsOf: stdoutURL)) ?? Data()
        let err = stderrText
        if ownsStdout { try? FileManager.default.removeItem(at: stdoutURL) }
        try? FileManager.default.removeItem(at: stderrURL)
        return (out, err)
    }

    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
    }
}

/// The documented JSON event (docs/events.md), as the tests read it.
struct JSONEvent: Decodable, Sendable {
    var time: String
    var ts_ns: UInt64
    var event: String
    var pid: Int
    var tid: Int
    var ppid: Int
    var ns_pid: Int
    var comm: String
    var uid: UInt32
    var cgroup_id: UInt64
    var ns: [String: UInt64]
    var ns_before: [String: UInt64]
    var flags: [String]
    var args: [String: JSONValue]
    var ret: Int64
    var errno: String?
    var latency_ns: UInt64
    var truncated: [String]
    /// Paths resolved in the kernel (issue 8): argument name -> {resolved, in_container, …}.
    var paths: [String: [String: JSONValue]]?
    /// move_mount: what the mount fd it moved holds (fsopen/fsmount context).
    var mounted: [String: JSONValue]?

    func string(_ key: String) -> String? {
        if case .string(let s)? = args[key] { return s }
        return nil
    }

    func int(_ key: String) -> Int64? {
        if case .number(let n)? = args[key] { return Int64(exactly: n) }
        return nil
    }
}

enum JSONValue: Decodable, Sendable, Equatable {
    case string(String), number(Double), bool(Bool), null, array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    var strings: [String] {
        if case .array(let a) = self { return a.compactMap { if case .string(let s) = $0 { return s } else { return nil } } }
        return []
    }
}
