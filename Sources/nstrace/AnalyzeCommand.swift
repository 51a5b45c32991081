import ArgumentParser
import NstraceCore
#if canImport(Glibc)
import Glibc
#endif

enum AnalyzeFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, html
}

struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Break every container start in trace files into phases, with an inventory and findings.",
        discussion: """
            Several files (one per node, or rotated parts) are merged by time. Each is read once, so \
            - (standard input), pipes and FIFOs work. Phases, the JSON schema and the findings: docs/analysis.md. A start the trace cut, or with \
            events lost meanwhile, is marked incomplete.
            """
    )

    @Argument(help: ArgumentHelp("Trace files (from nstrace record); - for stdin.", valueName: "FILE"))
    var files: [String]

    @Option(name: .long, help: ArgumentHelp("Only this container: full id, id prefix or name (repeatable).", valueName: "ID|NAME"))
    var container: [String] = []

    @Option(name: [.short, .long], help: "Output format: text, json or html.")
    var output: AnalyzeFormat = .text

    @Option(name: .customShort("w"), help: ArgumentHelp("Write the report to this file instead of stdout.", valueName: "OUT"))
    var outFile: String?

    @Flag(name: .long, help: "Replace OUT if it exists (never through a symbolic link; never an input).")
    var force = false

    @Flag(name: .long, help: "Skip damaged blocks with a warning instead of stopping at the first.")
    var skipDamaged = false

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one trace file") }
        if files.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-) can be given once") }
    }

    func run() throws {
        var analysis = try AnalysisInput.read(files, skipDamaged: skipDamaged)
        let unknown = analysis.select(container)
        if !unknown.isEmpty {
            Stderr.line("unknown container \(unknown.joined(separator: ", ")); known: " + AnalysisInput.knownList(analysis))
            throw ExitCode.failure
        }
        // the report is written into the buffer that goes out (no String of it)
        var report = OutputBuffer(capacity: 1 << 16)
        switch output {
        case .text: StartupTextReport.render(analysis, into: &report)
        case .json: StartupJSONReport.render(analysis, into: &report)
        case .html: StartupHTMLReport.render(analysis, into: &report)
        }
        try AnalysisInput.write(report, to: outFile, force: force, inputs: files)
    }
}

/// What analyze and diff share: reading the files (errors as one line), writing the report.
enum AnalysisInput {
    static func read(_ files: [String], skipDamaged: Bool) throws -> StartupAnalysis {
        do {
            let (analysis, warnings) = try TraceAnalysis.analyze(
                files: files, options: .init(onCorruption: skipDamaged ? .skip : .stop))
            for w in warnings { Stderr.warning(w) }
            return analysis
        } catch {
            Stderr.line(error.description)
            throw ExitCode.failure
        }
    }

    static func knownList(_ a: StartupAnalysis) -> String {
        let names = a.knownContainers.map { c in c.name.map { "\($0) (\(c.id))" } ?? c.id }
        return names.isEmpty ? "none" : names.joined(separator: ", ")
    }

    /// The report to stdout, or to OUT as every output file is written (SafeOutputFile:
    /// 0600, never an existing file without --force, never through a link, never an input).
    static func write(_ report: String, to outFile: String?, force: Bool, inputs: [String]) throws {
        var out = OutputBuffer(capacity: report.utf8.count + 16)
        out.append(Array(report.utf8))
        try write(out, to: outFile, force: force, inputs: inputs)
    }

    static func write(_ report: consuming OutputBuffer, to outFile: String?, force: Bool, inputs: [String]) throws {
        var out = report
        var file: SafeOutputFile?
        if let outFile, outFile != "-" {
            do {
                file = try SafeOutputFile(outFile, placement: .atomic, replace: force, notSameAs: inputs.compactMap(FileIdentity.init(path:)))
            } catch {
                Stderr.line(error.description)
                throw ExitCode.failure
            }
        }
        do {
            try out.flush(fd: file?.fd ?? 1)
            try file?.commit()
        } catch let error as OutputError {
            file?.discard()
            if error != .brokenPipe {
                Stderr.line("output: " + error.description)
                throw ExitCode.failure
            }
        } catch {
            file?.discard()
            Stderr.line("\(error)")
            throw ExitCode.failure
        }
    }
}
