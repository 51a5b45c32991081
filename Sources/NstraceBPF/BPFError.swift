#if canImport(Glibc)
import Glibc
#endif

/// A failed libbpf or kernel operation: what was being done, and the errno it failed with.
public struct BPFError: Error, CustomStringConvertible, Equatable {
    /// What nstrace was doing, e.g. "load BPF programs" or "attach tracepoint syscalls/sys_enter_mount".
    public let operation: String
    /// A positive errno value.
    public let errno: Int32
    /// What libbpf last said about it, if anything (a verifier message, say).
    public let detail: String

    public init(_ operation: String, errno: Int32, detail: String = "") {
        self.operation = operation
        self.errno = errno < 0 ? -errno : errno
        self.detail = detail
    }

    public var description: String {
        var text = operation + ": " + String(cString: strerror(errno))
        if !detail.isEmpty { text += " (libbpf: " + detail + ")" }
        return text
    }
}

/// A condition that keeps nstrace from tracing at all, with what to do about it.
public struct PreflightError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
