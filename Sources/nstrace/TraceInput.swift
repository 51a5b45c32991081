import ArgumentParser
import NstraceCore
#if canImport(Glibc)
import Glibc
#endif

/// A trace file to read: the positional FILE argument (`-` for stdin) and how to treat damage.
struct TraceInputOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The trace file (from nstrace record); - for stdin.", valueName: "FILE"))
    var file: String

    @Flag(name: .long, help: "Skip damaged blocks with a warning instead of stopping at the first.")
    var skipDamaged = false
}

/// Reads a trace file once through, with container attribution rebuilt from the file alone.
/// A regular file is read twice: first its container metadata (names found late apply to the
/// container's first events too), then everything; anything else once.
struct TraceInput {
    let options: TraceInputOptions

    /// Calls `body` for every event, with its container (and for setns the one it entered);
    /// metadata is applied on the way. Ends early when `body` returns false.
    /// Returns the reader, for its header, counters, trailer and warnings.
    @discardableResult
    func forEachEvent(_ replay: TraceReplay, headerReady: (TraceFileHeader) throws -> Void = { _ in },
                      metadata: (TraceMetadata) -> Void = { _ in }, _ body: (EventView) throws -> Bool) throws -> TraceFileReader {
        let readOptions = TraceReadOptions(onCorruption: options.skipDamaged ? .skip : .stop)
        do {
            // Opened once. A pipe, FIFO or <(…) is read in one pass: a second would find it
            // drained (or block on a FIFO); only a regular file is read twice, by seeking back.
            var fd: Int32 = 0
            if options.file != "-" {
                fd = open(options.file, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw TraceFileError.openFailed(path: options.file, errno: errno) }
            }
            defer { if fd != 0 { close(fd) } }
            var info = stat()
            if fd != 0, fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG {
                // The first pass also attributes every event, so that the second can look back:
                // what the file shows later ties events made before their container was known.
                let first = try TraceFileReader(fileDescriptor: fd, options: TraceReadOptions(
                    onCorruption: readOptions.onCorruption, maxWarnings: 0))
                let lookBack = TraceReplay()
                try? first.forEach { item in
                    switch item {
                    case .metadata(let m):
                        replay.prime(m)
                        lookBack.apply(m)
                    case .event(let ev):
                        _ = lookBack.attribution.attribute(ev)
                    }
                }
                replay.attribution.hindsight = lookBack.attribution.hindsightSnapshot()
                lseek(fd, 0, SEEK_SET)
            }
            let reader = try TraceFileReader(fileDescriptor: fd, options: readOptions)
            try headerReady(reader.header)
            do {
                try reader.forEach { item in
                    switch item {
                    case .metadata(let m): replay.apply(m); metadata(m)
                    case .event(let ev): if try !body(ev) { throw StopReading() }
                    }
                }
            } catch is StopReading {}
            report(reader)
            for warning in replay.capWarnings { Stderr.warning(Self.name(options.file) + ": " + warning) }
            return reader
        } catch let error as TraceFileError {
            Stderr.line(Self.name(options.file) + ": " + error.description)
            throw ExitCode.failure
        } catch let error as OutputError {
            Stderr.line("output: " + error.description)
            throw ExitCode.failure
        }
    }

    /// Warnings, and a cut file, on stderr: the good part was read.
    func report(_ reader: TraceFileReader) {
        for warning in reader.warnings { Stderr.warning(Self.name(options.file) + ": " + warning.description) }
        if reader.suppressedWarnings > 0 { Stderr.warning("\(reader.suppressedWarnings) more warnings") }
        if reader.wasCut {
            Stderr.warning(Self.name(options.file) + " was cut at byte \(reader.cutOffset ?? reader.bytesRead) (no trailer): read its \(reader.blocksRead) complete blocks")
        }
    }

    static func name(_ file: String) -> String { file == "-" ? "stdin" : file }

    private struct StopReading: Error {}
}
