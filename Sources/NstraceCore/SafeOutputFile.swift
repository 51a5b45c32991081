#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A file nstrace writes, possibly as root into a directory others can write (/tmp): it never
/// follows a planted symbolic link, never writes into a file someone else made, and is
/// private (0600) unless asked otherwise. Every writer of an output file (record -w, its
/// rotated parts, export -w) creates it here.
///
/// - `.atomic`: the data goes to `FILE.part-XXXXXX` in the same directory (created O_EXCL,
///   so never an existing file or link) and `commit()` renames it to FILE: FILE never shows
///   half-written. Without `replace`, the rename refuses an existing FILE (RENAME_NOREPLACE).
/// - `.inPlace`: FILE itself is created with O_EXCL|O_NOFOLLOW (the parts of a `--max-size`
///   rotation, which are meant to be read while the recording goes on).
/// - A FIFO or character device at FILE (`mkfifo`, /dev/null) is opened as it is, never
///   created or replaced; one owned by another user needs `replace`. A FIFO without a reader
///   is waited for until `deadline`, never blocked on.
public final class SafeOutputFile {
    public enum Placement: Sendable { case atomic, inPlace }

    /// The final name.
    public let path: String
    /// The open descriptor (to the temporary name until `commit`).
    public let fd: Int32
    /// Where the data is until `commit` (nil: already under `path`).
    public let temporaryPath: String?
    private let replace: Bool
    private var closed = false

    /// Creates (or, for a FIFO or device, opens) `path` for writing.
    /// - replace: an existing FILE may be replaced (`--force`); never followed if a link.
    /// - mode: permission bits of a created file (applied with fchmod: the umask cannot widen
    ///   or narrow it).
    /// - notSameAs: inputs of the command; FILE must not be one of them, even with `replace`.
    /// - deadline/shouldStop: how long to wait for a FIFO's reader (CLOCK_MONOTONIC seconds).
    public init(_ path: String, placement: Placement, replace: Bool = false, mode: mode_t = 0o600,
                notSameAs inputs: [FileIdentity] = [], deadline: Double? = nil,
                shouldStop: () -> Bool = { false }) throws(SafeOutputError) {
        self.path = path
        self.replace = replace
        guard !path.isEmpty else { throw SafeOutputError(path: path, problem: "empty file name") }
        if let existing = FileIdentity(path: path), inputs.contains(existing) {
            throw SafeOutputError(path: path, problem: "is the input file: writing it would destroy what is being read")
        }
        var info = stat()
        let exists = lstat(path, &info) == 0
        if exists {
            let type = info.st_mode & S_IFMT
            if type == S_IFIFO || type == S_IFCHR {
                if info.st_uid != geteuid() && !replace {
                    throw SafeOutputError(path: path, problem: "is a \(type == S_IFIFO ? "FIFO" : "device") owned by uid \(info.st_uid), not by us: not written (--force writes it)")
                }
                fd = try Self.openSpecial(path, deadline: deadline, shouldStop: shouldStop)
                temporaryPath = nil
                return
            }
            if !replace {
                throw SafeOutputError(path: path, problem: Self.describe(type) + " already exists: not replaced (--force replaces it)")
            }
            if type == S_IFDIR { throw SafeOutputError(path: path, problem: "is a directory") }
        }
        switch placement {
        case .inPlace:
            // --force: remove what is there (unlink never follows a link, and fails in a
            // sticky directory on another user's file), then create exclusively.
            if exists && unlink(path) != 0 && errno != ENOENT {
                throw SafeOutputError(path: path, problem: "cannot replace it", errno: errno)
            }
            let f = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            guard f >= 0 else { throw SafeOutputError.creating(path, errno) }
            fd = f
            temporaryPath = nil
        case .atomic:
            var template = Array((path + ".part-XXXXXX").utf8CString)
            // mkstemp: O_CREAT|O_EXCL (never an existing file or link), mode 0600
            let f = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard f >= 0 else { throw SafeOutputError(path: path + ".part-XXXXXX", problem: "cannot create", errno: errno) }
            _ = fcntl(f, F_SETFD, FD_CLOEXEC)
            fd = f
            temporaryPath = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        if fchmod(fd, mode) != 0 {
            let code = errno
            discard()
            throw SafeOutputError(path: path, problem: "cannot set its mode", errno: code)
        }
    }

    /// Whether creating `path` without `replace` fails at once (it exists and is not a FIFO
    /// or device we may write): lets a command refuse before doing any work.
    public static func wouldRefuse(_ path: String) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0 else { return false }
        let type = info.st_mode & S_IFMT
        return !((type == S_IFIFO || type == S_IFCHR) && info.st_uid == geteuid())
    }

    deinit {
        if !closed { close(fd) }
    }

    /// Closes the file and moves it to its final name. Without `replace`, a FILE that
    /// appeared meanwhile is not replaced (the data stays at `temporaryPath`, named in the error).
    public func commit() throws(SafeOutputError) {
        if !closed {
            closed = true
            if close(fd) != 0 && errno != EINTR {
                throw SafeOutputError(path: path, problem: "close failed", errno: errno)
            }
        }
        guard let temporaryPath else { return }
        var r: Int32
        if replace {
            r = rename(temporaryPath, path)
        } else {
            // link(2) fails with EEXIST on anything at FILE, a link included: a rename that
            // cannot replace (renameat2's RENAME_NOREPLACE without a C shim)
            r = link(temporaryPath, path)
            if r == 0 {
                unlink(temporaryPath)
            } else if errno == EPERM || errno == EOPNOTSUPP, !Self.exists(path) {
                r = rename(temporaryPath, path)   // a filesystem without hard links
            }
        }
        if r != 0 {
            throw SafeOutputError(path: path, problem: "cannot rename \(temporaryPath) to it (the data is left there)", errno: errno)
        }
    }

    /// Hands the descriptor of an in-place file to its new owner, who closes it.
    public func takeDescriptor() -> Int32 {
        closed = true
        return fd
    }

    private static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Closes and removes the temporary file (the command failed: nothing to keep).
    public func discard() {
        if !closed { close(fd); closed = true }
        if let temporaryPath { unlink(temporaryPath) }
    }

    private static func describe(_ type: mode_t) -> String {
        switch type {
        case S_IFLNK: return "a symbolic link"
        case S_IFDIR: return "a directory"
        case S_IFREG: return "a file"
        default: return "something"
        }
    }

    private static func openSpecial(_ path: String, deadline: Double?, shouldStop: () -> Bool) throws(SafeOutputError) -> Int32 {
        while true {
            let f = open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            if f >= 0 {
                // blocking writes from here on: the reader sets the pace
                let flags = fcntl(f, F_GETFL)
                _ = fcntl(f, F_SETFL, flags & ~O_NONBLOCK)
                return f
            }
            let code = errno
            if code == EINTR { continue }
            guard code == ENXIO else { throw SafeOutputError.creating(path, code) }
            // a FIFO without a reader: open(O_WRONLY) would block, whatever --duration says
            if shouldStop() || deadline.map({ MonotonicClock.seconds() >= $0 }) == true {
                throw SafeOutputError(path: path, problem: "no process opened this FIFO for reading: nothing written")
            }
            usleep(20_000)
        }
    }
}

/// A file's identity (device and inode): the same file whatever the path or link to it.
public struct FileIdentity: Sendable, Hashable {
    public let device: UInt64
    public let inode: UInt64

    /// The file at `path`, following links (the file a reader would read); nil if none.
    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    public init?(fileDescriptor: Int32) {
        var info = stat()
        guard fstat(fileDescriptor, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}

/// Why an output file was not created or written: one line naming the file.
public struct SafeOutputError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let problem: String
    public let errno: Int32?

    public init(path: String, problem: String, errno: Int32? = nil) {
        self.path = path
        self.problem = problem
        self.errno = errno
    }

    static func creating(_ path: String, _ code: Int32) -> SafeOutputError {
        switch code {
        case EEXIST: return SafeOutputError(path: path, problem: "already exists: not replaced (--force replaces it)")
        case ELOOP: return SafeOutputError(path: path, problem: "is a symbolic link: not followed")
        default: return SafeOutputError(path: path, problem: "cannot create", errno: code)
        }
    }

    public var description: String {
        path + ": " + problem + (errno.map { ": " + (Errno.name($0) ?? "errno \($0)") } ?? "")
    }
}
