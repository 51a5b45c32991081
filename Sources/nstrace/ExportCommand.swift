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

    @Flag(name: .long, help: "Replace OUT if it exists (never through a symbolic link; never the input).")
    var force = false

    func run() throws {
        StopSignal.install()
        var output: SafeOutputFile?
        if let outFile, outFile != "-" {
            let inputs = [input.file == "-" ? FileIdentity(fileDescriptor: 0) : FileIdentity(path: input.file)].compactMap { $0 }
            do {
                output = try SafeOutputFile(outFile, placement: .atomic, replace: force, notSameAs: inputs)
            } catch {
                Stderr.line(error.description)
                throw ExitCode.failure
            }
        }
        do {
            try export(fd: output?.fd ?? 1)
            try output?.commit()
        } catch let error as SafeOutputError {
            output?.discard()
            Stderr.line(error.description)
            throw ExitCode.failure
        } catch {
            output?.discard()
            throw error
        }
    }

    private func export(fd: Int32) throws {
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
        // the startup phases, analysed in the same pass (a pipe cannot be read twice)
        let phases = StartupAnalysisStream(name: input.file)
        do {
            let reader = try TraceInput(options: input).forEachEvent(replay, headerReady: { header in
                exporter = ChromeTraceExporter(header: header)
                exporter?.begin(into: &out)
            }, metadata: phases.apply) { ev in
                phases.feed(ev)
                guard case .passed(let attributed) = pipeline.process(ev) else { return true }
                exporter?.append(attributed, into: &out)
                if out.count >= 1 << 16 { try out.flush(fd: fd) }
                return true
            }
            if let exporter { StartupChromeSlices.append(phases.finish(reader), to: exporter, into: &out) }
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
