import NstraceCore
#if canImport(Glibc)
import Glibc
#endif

/// Messages to stderr, one line each, prefixed "nstrace: " (Swift 6 forbids the global `stderr`).
/// A message may quote names and paths from anywhere (containers, trace files, the command
/// line): the whole line is escaped for the terminal here, so callers pass raw text.
enum Stderr {
    static func line(_ text: String) {
        var bytes = Array(("nstrace: " + Escape.text(text) + "\n").utf8)
        bytes.withUnsafeMutableBytes { buf in
            var off = 0
            while off < buf.count {
                let n = write(2, buf.baseAddress! + off, buf.count - off)
                if n < 0 { if errno == EINTR { continue }; return }
                off += n
            }
        }
    }

    static func warning(_ text: String) { line("warning: " + text) }
}

