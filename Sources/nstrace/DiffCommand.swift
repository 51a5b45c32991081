import ArgumentParser
import NstraceCore

enum DiffFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare container starts in two traces (or two containers), phase by phase.",
        discussion: """
            One --container selects it in both traces; two select the first in A and the second in B \
            (A and B may be the same file). Shows each phase's change (absolute and ratio, with \
            percentiles when there are several starts) and the namespaces, mounts, volumes and \
            findings that appeared or disappeared.
            """
    )

    @Argument(help: ArgumentHelp("The baseline trace file.", valueName: "A"))
    var a: String

    @Argument(help: ArgumentHelp("The trace file to compare with it.", valueName: "B"))
    var b: String

    @Option(name: .long, help: ArgumentHelp("Only this container (once: in both; twice: one in A, one in B).", valueName: "ID|NAME"))
    var container: [String] = []

    @Option(name: [.short, .long], help: "Output format: text or json.")
    var output: DiffFormat = .text

    @Option(name: .customShort("w"), help: ArgumentHelp("Write to this file instead of stdout.", valueName: "OUT"))
    var outFile: String?

    @Flag(name: .long, help: "Replace OUT if it exists (never through a symbolic link; never an input).")
    var force = false

    func validate() throws {
        if a == "-" && b == "-" { throw ValidationError("standard input (-) can be only one of A and B") }
        if container.count > 2 { throw ValidationError("--container: at most two, one for A and one for B") }
    }

    func run() throws {
        var sa = try AnalysisInput.read([a], skipDamaged: false)
        // the same file twice (two containers of one trace) is read once: a pipe could not be read again
        var sb = a == b ? sa : try AnalysisInput.read([b], skipDamaged: false)
        let selA = container.isEmpty ? [] : [container[0]]
        let selB = container.isEmpty ? [] : [container[container.count - 1]]
        let unknownA = sa.select(selA), unknownB = sb.select(selB)
        for (file, unknown, analysis) in [(a, unknownA, sa), (b, unknownB, sb)] where !unknown.isEmpty {
            Stderr.line("\(file): unknown container \(unknown.joined(separator: ", ")); known: " + AnalysisInput.knownList(analysis))
            throw ExitCode.failure
        }
        if sa.startups.isEmpty || sb.startups.isEmpty {
            Stderr.line("nothing to compare: no container start in \(sa.startups.isEmpty ? a : b)")
            throw ExitCode.failure
        }
        let diff = StartupDiff(a: sa.startups, b: sb.startups)
        try AnalysisInput.write(output == .json ? diff.json() : diff.text(), to: outFile, force: force, inputs: [a, b])
    }
}
