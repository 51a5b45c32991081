/// Reads trace files into a `StartupAnalysis`: each file with the attribution rebuilt from the
/// file alone (as `show` does), the files in the order they were recorded (their headers'
/// start times: rotated parts and per-node files line up), in one streaming pass each.
public enum TraceAnalysis {
    public struct Options: Sendable {
        public var onCorruption: TraceReadOptions.CorruptionPolicy
        public init(onCorruption: TraceReadOptions.CorruptionPolicy = .stop) { self.onCorruption = onCorruption }
    }

    /// A file that could not be read at all, or failed part-way (with `.stop`).
    public struct FileError: Error, CustomStringConvertible {
        public var file: String
        public var message: String
        public var description: String { file + ": " + message }
    }

    /// Also returns every reader's warnings (a cut file, skipped blocks), named by file.
    public static func analyze(files: [String], options: Options = Options()) throws(FileError) -> (StartupAnalysis, [String]) {
        var opened: [(String, TraceFileHeader)] = []
        for f in files {
            do {
                let r = try TraceFileReader(path: f, options: TraceReadOptions(onCorruption: options.onCorruption, decodeEvents: false, maxWarnings: 0))
                opened.append((f, r.header))
            } catch {
                throw FileError(file: f, message: error.description)
            }
        }
        opened.sort { $0.1.startBootNs < $1.1.startBootNs }
        let analyzer = StartupAnalyzer()
        var warnings: [String] = []
        for (f, _) in opened {
            analyzer.beginFile(f)
            try read(f, options: options, into: analyzer, warnings: &warnings)
        }
        return (analyzer.finish(), warnings)
    }

    static func read(_ path: String, options: Options, into analyzer: StartupAnalyzer, warnings: inout [String]) throws(FileError) {
        let replay = TraceReplay()
        let adapter = AnalysisEventAdapter()
        do {
            if path != "-" {
                let first = try TraceFileReader(path: path, options: TraceReadOptions(onCorruption: options.onCorruption,
                                                                                      decodeEvents: false, maxWarnings: 0))
                try? first.forEach { item in
                    if case .metadata(let m) = item { replay.prime(m) }
                }
            }
            let reader = try TraceFileReader(path: path, options: TraceReadOptions(onCorruption: options.onCorruption))
            try reader.forEach { item in
                switch item {
                case .metadata(let m):
                    replay.apply(m)
                    if m.kind == TraceMetadata.Lost.kind, let lost = replay.lastLost { analyzer.noteLost(total: lost.total) }
                case .event(let ev):
                    adapter.feed(ev, attribution: replay.attribution, into: analyzer)
                }
            }
            for r in replay.attribution.containers { analyzer.noteKnown(AnalysisEventAdapter.container(r)) }
            analyzer.endFile(trailerLost: reader.trailer?.lost.total, cut: reader.wasCut)
            for w in reader.warnings { warnings.append(path + ": " + w.description) }
            if reader.wasCut {
                warnings.append(path + " was cut at byte \(reader.cutOffset ?? reader.bytesRead) (no trailer): analysed its \(reader.blocksRead) complete blocks")
            }
        } catch let error as TraceFileError {
            throw FileError(file: path, message: error.description)
        } catch {
            throw FileError(file: path, message: String(describing: error))
        }
    }
}
