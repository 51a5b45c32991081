import ArgumentParser

@main
struct Nstrace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nstrace",
        abstract: "Trace Linux namespace and mount activity with eBPF.",
        discussion: """
            Without a subcommand, nstrace streams live events (see `nstrace live --help`).
            Needs root (or CAP_BPF and CAP_PERFMON) and a kernel with BTF.
            """,
        version: NstraceVersion.string,
        subcommands: [LiveCommand.self, RecordCommand.self, ShowCommand.self, ExportCommand.self, InfoCommand.self, ContainersCommand.self, AnalyzeCommand.self, DiffCommand.self, NsCommand.self, NetnsCommand.self, MountsCommand.self],
        defaultSubcommand: LiveCommand.self
    )
}

enum NstraceVersion {
    static let string = "0.1.0"
}
