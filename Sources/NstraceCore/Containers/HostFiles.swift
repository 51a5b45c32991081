#if canImport(Glibc)
import Glibc
#endif

/// A system call that failed: which call, on which path, and the errno it set.
///
/// Internal on purpose: the public APIs of this folder translate it into errors that say
/// what the failure means for their caller ("process 123 exited"), not which call failed.
struct HostFileError: Error, Sendable, Hashable {
    let call: String
    let path: String
    let errno: Int32

    /// The C library's text for the errno, e.g. "No such file or directory".
    var systemMessage: String { HostFiles.describe(errno: errno) }
}

/// The one layer through which the Containers code calls into the C library for files
/// under /proc and the cgroup filesystem. Everything above it works on Swift values.
///
/// Why not Foundation here: /proc files report a size of 0 and must be read until EOF,
/// readlink(2) is not exposed by FileManager without extra lstat calls, and the
/// cgroup walk needs each directory's inode, which `fstat` on the directory's own
/// descriptor gives without a second path lookup.
enum HostFiles {
    /// Reads a whole file until EOF (files under /proc have `st_size == 0`).
    /// `limit` bounds the memory a hostile or runaway file can take.
    static func readAll(_ path: String, limit: Int = 16 << 20) throws(HostFileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw HostFileError(call: "open", path: path, errno: currentErrno()) }
        defer { _ = close(fd) }

        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count < limit {
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 {
                let code = currentErrno()
                if code == EINTR { continue }
                throw HostFileError(call: "read", path: path, errno: code)
            }
            if got == 0 { break }
            bytes.append(contentsOf: chunk[0..<got])
        }
        return bytes
    }

    /// Reads a whole file as text. Invalid UTF-8 is replaced (U+FFFD), never fatal.
    static func readText(_ path: String) throws(HostFileError) -> String {
        String(decoding: try readAll(path), as: UTF8.self)
    }

    /// The target of a symbolic link (e.g. `net:[4026531840]` for /proc/PID/ns/net).
    static func readLink(_ path: String) throws(HostFileError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = buffer.withUnsafeMutableBufferPointer { storage -> Int in
            guard let base = storage.baseAddress else { return -1 }
            return readlink(path, base, storage.count - 1)
        }
        if length < 0 { throw HostFileError(call: "readlink", path: path, errno: currentErrno()) }
        let bytes = buffer[0..<length].map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `path` exists, without following a final symlink.
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// The inode number of `path` (following symlinks).
    static func inode(of path: String) throws(HostFileError) -> UInt64 {
        var info = stat()
        if stat(path, &info) != 0 { throw HostFileError(call: "stat", path: path, errno: currentErrno()) }
        return UInt64(info.st_ino)
    }

    /// An entry of a directory listing. `isDirectory` is nil when the filesystem did not
    /// say (DT_UNKNOWN); callers that care then stat the entry.
    struct DirectoryEntry: Sendable, Hashable {
        let name: String
        let isDirectory: Bool?
    }

    /// Lists a directory without "." and "..".
    static func list(_ path: String) throws(HostFileError) -> [DirectoryEntry] {
        guard let directory = opendir(path) else {
            throw HostFileError(call: "opendir", path: path, errno: currentErrno())
        }
        defer { _ = closedir(directory) }
        return readEntries(directory)
    }

    /// A directory opened once: its inode (from fstat on its own descriptor) and its entries.
    /// Used by the cgroup walk, where the directory's inode is the cgroup id.
    static func openDirectory(_ path: String) throws(HostFileError) -> (inode: UInt64, entries: [DirectoryEntry]) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw HostFileError(call: "open", path: path, errno: currentErrno()) }
        var info = stat()
        if fstat(fd, &info) != 0 {
            let code = currentErrno()
            _ = close(fd)
            throw HostFileError(call: "fstat", path: path, errno: code)
        }
        // fdopendir takes ownership of fd: closedir closes it.
        guard let directory = fdopendir(fd) else {
            let code = currentErrno()
            _ = close(fd)
            throw HostFileError(call: "fdopendir", path: path, errno: code)
        }
        defer { _ = closedir(directory) }
        return (UInt64(info.st_ino), readEntries(directory))
    }

    /// Whether `path` is a directory (following symlinks); false when it cannot be stat'ed.
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func describe(errno code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }

    // MARK: - private

    private static func readEntries(_ directory: OpaquePointer) -> [DirectoryEntry] {
        var entries: [DirectoryEntry] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String in
                // d_name is NUL-terminated inside its fixed-size array.
                let bytes = raw.prefix { $0 != 0 }
                return String(decoding: bytes, as: UTF8.self)
            }
            if name == "." || name == ".." || name.isEmpty { continue }
            let type = Int(entry.pointee.d_type)
            let isDirectory: Bool? = type == Int(DT_UNKNOWN) ? nil : type == Int(DT_DIR)
            entries.append(DirectoryEntry(name: name, isDirectory: isDirectory))
        }
        return entries
    }

    private static func currentErrno() -> Int32 { errno }
}
