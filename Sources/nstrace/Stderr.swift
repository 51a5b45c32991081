import NstraceCore
#if canImport(Glibc)
import Glibc
#endif

/// Messages to stderr, one line each, prefixed "nstrace: " (Swift 6 forbids the global `stderr`).
/// A message may quote names and paths from anywhere (containers, trace files, the command
/// line): the whole line is escaped for the terminal here, so callers pass raw text.
enum Stderr {
    static func line(_ text: String) {
        var out = OutputBuffer(capacity: 256)
        out.append(Array(("nstrace: " + Escape.text(text) + "\n").utf8))
        try? out.flush(fd: 2)   // nowhere left to report a failed write to stderr
    }

    static func warning(_ text: String) { line("warning: " + text) }
}

