import ArgumentParser
import NstraceCore
#if canImport(Glibc)
import Glibc
#endif

enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
    case jsonl, chrome
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Convert a trace file: JSON Lines (the live schema) or Chrome Trace Event JSON (Perfetto UI, chrome://tracing).",
        discussion: "chrome: one track per container (and one for the host), a thread per process; namespace creations, joins and mounts as slices with their arguments."
    )

    @OptionGroup var input: TraceInputOptions

    @Option(name: [.short, .long], help: "Output format: jsonl or chrome.")
    var output: ExportFormat

    @Option(name: .customShort("w"), help: ArgumentHelp("Write to this file instead of stdout.", valueName: "OUT"))
    var outFile: String?

    @OptionGroup(title: "Filters")
    var filters: FilterOptions

    func run() throws {
        StopSignal.install()
        let fd: Int32
        if let outFile, outFile != "-" {
            fd = open(outFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                Stderr.line("cannot write \(outFile): " + String(cString: strerror(errno)))
                throw ExitCode.failure
            }
        } else {
            fd = 1
        }
        defer { if fd != 1 { close(fd) } }
        let filter = try filters.makeFilter()
        let replay = TraceReplay()
        let pipeline = EventPipeline(attribution: replay.attribution, filter: filter, containerFilter: filters.containerFilter)
        switch output {
        case .jsonl:
            var printer: EventPrinter?
            try TraceInput(options: input).forEachEvent(replay, headerReady: { header in
                printer = EventPrinter(format: .json, color: false, pipeline: pipeline, clock: header.clock, header: false, fd: fd)
            }) { ev in
                guard let printer else { return false }
                printer.handle(ev)
                return !printer.outputClosed
            }
            try printer?.flush()
        case .chrome:
            try exportChrome(replay: replay, pipeline: pipeline, fd: fd)
        }
    }

    private func exportChrome(replay: TraceReplay, pipeline: EventPipeline, fd: Int32) throws {
        var out = OutputBuffer(capacity: 1 << 17)
        var exporter: ChromeTraceExporter?
        do {
            try TraceInput(options: input).forEachEvent(replay, headerReady: { header in
                exporter = ChromeTraceExporter(header: header)
                exporter?.begin(into: &out)
            }) { ev in
                guard case .passed(let attributed) = pipeline.process(ev) else { return true }
                exporter?.append(attributed, into: &out)
                if out.count >= 1 << 16 { try out.flush(fd: fd) }
                return true
            }
            // the startup phases, from a second read of the file (stdin cannot be read twice)
            if let exporter, input.file != "-", let analysis = try? TraceAnalysis.analyze(files: [input.file]).0 {
                StartupChromeSlices.append(analysis, to: exporter, into: &out)
            }
            exporter?.end(into: &out)
            try out.flush(fd: fd)
        } catch let error as OutputError {
            if error != .brokenPipe {
                Stderr.line("output: " + error.description)
                throw ExitCode.failure
            }
        }
    }
}
