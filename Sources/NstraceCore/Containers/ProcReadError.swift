#if canImport(Glibc)
import Glibc
#endif

/// Reading something of a process under /proc failed; says which process and what it means.
///
/// Processes come and go while nstrace looks at them: a process that exited between
/// listing /proc and reading its files is an ordinary event, reported as `.processExited`
/// so callers can skip it quietly, and kept apart from real failures.
public struct ProcReadError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// The process is gone (or a zombie whose namespaces and mounts are released).
        case processExited
        /// The kernel refused (EACCES/EPERM), e.g. /proc/1/ns/* in a sandbox.
        case permissionDenied
        /// The file held something this code does not understand (the text is quoted).
        case malformed(String)
        /// Any other failure of the named system call.
        case systemCall(call: String, errno: Int32)
    }

    public let pid: Int32
    /// The file under /proc that was being read.
    public let path: String
    public let reason: Reason

    public init(pid: Int32, path: String, reason: Reason) {
        self.pid = pid
        self.path = path
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .processExited:
            return "process \(pid) exited"
        case .permissionDenied:
            return "cannot read \(path) of process \(pid): permission denied"
        case .malformed(let content):
            return "unexpected content in \(path) of process \(pid): \(content.debugDescription)"
        case .systemCall(let call, let code):
            return "cannot read \(path) of process \(pid): \(call) failed: \(HostFiles.describe(errno: code)) (errno \(code))"
        }
    }

    /// Turns a failed call on a file of process `pid` into what it means.
    ///
    /// ENOENT, ESRCH and even EACCES are what a process that exits mid-read produces
    /// (the kernel finds no task behind the /proc inode), so whether /proc/PID still
    /// exists decides between "exited" and a real failure.
    static func from(_ failure: HostFileError, pid: Int32, procRoot: String) -> ProcReadError {
        let processGone = !HostFiles.exists("\(procRoot)/\(pid)")
        let reason: Reason
        switch failure.errno {
        case ESRCH, ENOENT:
            // ENOENT with /proc/PID still there: a zombie, whose namespaces and mounts are
            // already released. (Callers that expect a file to be absent check before.)
            reason = .processExited
        case EACCES, EPERM:
            reason = processGone ? .processExited : .permissionDenied
        default:
            reason = processGone ? .processExited : .systemCall(call: failure.call, errno: failure.errno)
        }
        return ProcReadError(pid: pid, path: failure.path, reason: reason)
    }
}
