/// Reads trace files into a `StartupAnalysis`, each file once, front to back (standard input,
/// pipes and FIFOs work), with the attribution rebuilt from the file alone (as `show` does).
/// Several files (per node, or rotated parts) are merged by time: each is read and attributed
/// on its own thread, and their events reach the one analyzer in timestamp order
/// (`MergedTraceAnalysis`).
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
        try analyze(files: files, options: options, observe: nil)
    }

    /// `observe`: told the file index and key of every item the merge of several files passes on (tests).
    static func analyze(files: [String], options: Options, observe: ((Int, UInt64) -> Void)?) throws(FileError) -> (StartupAnalysis, [String]) {
        var opened: [(String, TraceFileReader)] = []
        for f in files {
            do {
                opened.append((f, try TraceFileReader(path: f, options: TraceReadOptions(onCorruption: options.onCorruption))))
            } catch {
                throw FileError(file: f, message: error.description)
            }
        }
        // in the order they were recorded (their headers' start times)
        opened.sort { $0.1.header.startBootNs < $1.1.header.startBootNs }
        let analyzer = StartupAnalyzer()
        var warnings: [String] = []
        for (f, _) in opened { analyzer.beginFile(f) }
        if opened.count == 1 {
            let source = TraceFileAnalysisSource(name: opened[0].0)
            try source.read(opened[0].1, into: analyzer)
            warnings += source.end(opened[0].1, into: analyzer)
        } else {
            warnings += try MergedTraceAnalysis.run(opened, into: analyzer, observe: observe)
        }
        return (analyzer.finish(), warnings)
    }
}

/// One file's events attributed (from the file alone) and made analysis events, in one pass.
final class TraceFileAnalysisSource {
    let name: String
    let replay = TraceReplay()
    let adapter = AnalysisEventAdapter()

    init(name: String) { self.name = name }

    /// A metadata record: applied to the attribution; a `lost` record returns the file's lost total.
    func apply(_ m: TraceMetadata) -> UInt64? {
        replay.apply(m)
        return m.kind == TraceMetadata.Lost.kind ? replay.lastLost?.total : nil
    }

    /// Reads the whole file straight into the analyzer (one file: no merging).
    func read(_ reader: TraceFileReader, into analyzer: StartupAnalyzer) throws(TraceAnalysis.FileError) {
        // read once: a property read in the loop retained and released its object per event
        let adapter = adapter, attribution = replay.attribution
        do {
            try reader.forEach { item in
                switch item {
                case .metadata(let m):
                    if let lost = apply(m) { analyzer.noteLost(total: lost) }
                case .event(let ev):
                    adapter.feed(ev, attribution: attribution, into: analyzer)
                }
            }
        } catch {
            throw fileError(error)
        }
    }

    func fileError(_ error: any Error) -> TraceAnalysis.FileError {
        if let e = error as? TraceFileError { return .init(file: name, message: e.description) }
        return .init(file: name, message: String(describing: error))
    }

    /// The containers this file's attribution knows (their final names and images).
    var knownContainers: [AnalysisEvent.Container] { replay.attribution.containers.map(AnalysisEventAdapter.container) }

    /// After the last event (the analyzer switched to this file): the containers known, the
    /// trailer's lost total or the cut. Returns the reader's warnings, named by file.
    func end(_ reader: TraceFileReader, into analyzer: StartupAnalyzer) -> [String] {
        for c in knownContainers { analyzer.noteKnown(c) }
        analyzer.endFile(trailerLost: reader.trailer?.lost.total, cut: reader.wasCut)
        return Self.warnings(of: reader, name: name)
    }

    static func warnings(of reader: TraceFileReader, name: String) -> [String] {
        var warnings = reader.warnings.map { name + ": " + $0.description }
        if reader.wasCut {
            warnings.append(name + " was cut at byte \(reader.cutOffset ?? reader.bytesRead) (no trailer): analysed its \(reader.blocksRead) complete blocks")
        }
        return warnings
    }
}

/// The analysis of one file for a command that reads the file itself (`export -o chrome`
/// gets the phases in the same pass): it is given every metadata record and every event, in
/// file order, then the reader at the end. Has its own attribution, rebuilt from the file.
public final class StartupAnalysisStream {
    private let source: TraceFileAnalysisSource
    private let analyzer = StartupAnalyzer()

    public init(name: String) {
        source = TraceFileAnalysisSource(name: name)
        analyzer.beginFile(name)
    }

    public func apply(_ m: TraceMetadata) {
        if let lost = source.apply(m) { analyzer.noteLost(total: lost) }
    }

    public func feed(_ ev: EventView) {
        source.adapter.feed(ev, attribution: source.replay.attribution, into: analyzer)
    }

    /// The file's end; returns the analysis.
    public func finish(_ reader: TraceFileReader) -> StartupAnalysis {
        _ = source.end(reader, into: analyzer)
        return analyzer.finish()
    }
}
