import Foundation
import XCTest
import NstraceTestSupport

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
    static var packageRoot: URL { Binaries.packageRoot }
    static var nstrace: URL { URL(fileURLWithPath: Binaries.nstrace) }
    static var driver: URL { URL(fileURLWithPath: Binaries.testDriver) }

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
        let json = try NstraceTracer(["-o", "json", "--comm", "nstdrv"])
        defer { json.kill() }
        let text = try NstraceTracer(["-o", "text", "--color", "never", "--comm", "nstdrv"])
        defer { text.kill() }
        try json.waitUntilTracing()
        try text.waitUntilTracing()

        let driverOutput = try run(driver, scenarios)
        let jsonOut = try json.stopCollecting()
        let textOut = try text.stopCollecting()

        var events: [JSONEvent] = []
        for (index, line) in jsonOut.stdout.split(separator: UInt8(ascii: "\n")).enumerated() {
            do {
                events.append(try JSONEvent.decode(Data(line)))
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
        let r = try Command.run(executable.path, arguments, timeout: timeout)
        guard r.succeeded else {
            throw HarnessError("\(executable.lastPathComponent) \(arguments.joined(separator: " ")) failed (\(r.status)): \(r.stderr)")
        }
        return r.stdoutData
    }

    /// No run of the suite takes this long: a hang is a failure, not a stuck CI job.
    static let timeout: TimeInterval = 600
}

extension Harness {
    struct Captured {
        var status: Int32
        var stdout: Data
        var stderr: String
    }

    /// Runs a program to completion and returns its exit status and output, whatever it is.
    static func runCapturing(_ executable: URL, _ arguments: [String]) throws -> Captured {
        let r = try Command.run(executable.path, arguments, timeout: timeout)
        return Captured(status: r.status, stdout: r.stdoutData, stderr: r.stderr)
    }
}

extension NstraceTracer {
    /// Stops it (SIGINT, or `signal`) and returns what it wrote: the integration runs' outputs are small.
    func stopCollecting(signal: Int32 = SIGINT) throws -> (stdout: Data, stderr: String) {
        let stderr = try stop(signal: signal)
        return (stdoutData, stderr)
    }
}
