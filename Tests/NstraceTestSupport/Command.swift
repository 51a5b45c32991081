import Foundation
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Running programs

public struct CommandOutput: Sendable {
    public var command: String
    public var status: Int32
    /// Standard output and error as bytes (hostile names are not UTF-8), and as text
    /// (invalid UTF-8 as U+FFFD).
    public var stdoutData: Data
    public var stderrData: Data
    public var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
    public var stderr: String { String(decoding: stderrData, as: UTF8.self) }
    public var seconds: Double
    public var pid: Int32

    public var succeeded: Bool { status == 0 }
    public var summary: String {
        "`\(command)` exited \(status) after \(String(format: "%.1f", seconds)) s; stdout: \(stdout.suffix(600)) stderr: \(stderr.suffix(1200))"
    }
}

/// A child process started with posix_spawn and reaped with waitpid by us.
///
/// Not Foundation's `Process`: on Linux it learns of a child's exit from a socket the child
/// inherits, so a daemon or container that a child leaves behind (conmon, a shim) keeps it
/// "running" forever. Here the exit is the exit. stdin is /dev/null, stdout and stderr go to
/// files, every other descriptor is closed, and signal dispositions are reset.
public final class Child {
    public let pid: pid_t
    public let command: String
    public private(set) var exitStatus: Int32?

    /// `newGroup`: the child leads its own process group, so a timeout can kill what it started.
    public init(_ executable: String, _ arguments: [String], stdout: String, stderr: String, newGroup: Bool) throws {
        command = ([executable] + arguments).joined(separator: " ")
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw HarnessError("cannot run `\(command)`: \(executable) is not an executable file")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        if let closeFrom = Child.addCloseFrom { _ = closeFrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if newGroup { flags |= Int32(POSIX_SPAWN_SETPGROUP) }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        posix_spawnattr_setpgroup(&attributes, 0)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw HarnessError("cannot run `\(command)`: posix_spawn: \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    /// glibc 2.34's posix_spawn_file_actions_addclosefrom_np, which Swift's Glibc does not import.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// Whether it has exited (reaped now if it just did).
    @discardableResult
    public func poll() -> Bool {
        if exitStatus != nil { return true }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid {
            exitStatus = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            return true
        }
        if result < 0 && errno != EINTR { exitStatus = -1; return true }
        return false
    }

    public var isRunning: Bool { !poll() }

    /// Waits up to `timeout` seconds; whether it exited.
    public func wait(timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !poll() {
            if Date() >= deadline { return false }
            usleep(5_000)
        }
        return true
    }

    public func signal(_ signal: Int32) { if exitStatus == nil { Glibc.kill(pid, signal) } }

    /// SIGKILL to it (and to its process group if it leads one), then reap it.
    public func kill(group: Bool) {
        guard exitStatus == nil else { return }
        if group { Glibc.kill(-pid, SIGKILL) }
        Glibc.kill(pid, SIGKILL)
        _ = wait(timeout: 10)
    }
}

public enum Command {
    /// Runs a program to completion with a deadline; on timeout its process group is killed.
    public static func run(_ executable: String, _ arguments: [String], timeout: TimeInterval) throws -> CommandOutput {
        let tmp = FileManager.default.temporaryDirectory
        let tag = UUID().uuidString
        let outPath = tmp.appendingPathComponent("nstrace-test-\(tag).out").path
        let errPath = tmp.appendingPathComponent("nstrace-test-\(tag).err").path
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let start = Date()
        let child = try Child(executable, arguments, stdout: outPath, stderr: errPath, newGroup: true)
        let finished = child.wait(timeout: timeout)
        if !finished { child.kill(group: true) }
        let result = CommandOutput(
            command: child.command, status: child.exitStatus ?? -1,
            stdoutData: FileManager.default.contents(atPath: outPath) ?? Data(),
            stderrData: FileManager.default.contents(atPath: errPath) ?? Data(),
            seconds: Date().timeIntervalSince(start), pid: child.pid)
        if !finished { throw HarnessError("timed out after \(Int(timeout)) s: \(result.summary)") }
        return result
    }

    /// Runs and requires exit status 0.
    @discardableResult
    public static func check(_ executable: String, _ arguments: [String], timeout: TimeInterval) throws -> CommandOutput {
        let result = try run(executable, arguments, timeout: timeout)
        guard result.succeeded else { throw HarnessError(result.summary) }
        return result
    }
}
