import ArgumentParser
import NstraceCore

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print a trace file's events as live does, containers included, from the file alone.",
        discussion: "Needs no root and no BPF: it reads the file only. A cut file shows every complete block, with a warning."
    )

    @OptionGroup var input: TraceInputOptions

    @OptionGroup(title: "Output")
    var printing: PrintOptions

    @OptionGroup(title: "Filters")
    var filters: FilterOptions

    func run() throws {
        let filter = try filters.makeFilter()
        let replay = TraceReplay()
        var printer: EventPrinter?
        try TraceInput(options: input).forEachEvent(replay, headerReady: { header in
            let pipeline = EventPipeline(attribution: replay.attribution, filter: filter, containerFilter: filters.containerFilter)
            let p = EventPrinter(format: printing.output, color: printing.color.enabled(forFD: 1), pipeline: pipeline,
                                 clock: header.clock, header: !printing.noHeader, why: printing.why)
            try p.start()
            printer = p
        }) { ev in
            guard let printer else { return false }
            printer.handle(ev)
            return !printer.outputClosed
        }
        try printer?.flush()
    }
}
