import ArgumentParser
import NstraceBPF
import NstraceCore
#if canImport(Glibc)
import Glibc
#endif

struct LiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live",
        abstract: "Stream namespace and mount events as they happen (the default command).",
        discussion: """
            Prints one line to stderr starting with "nstrace: tracing" once every program is \
            attached, and a summary (events seen, lost) when it stops: on Ctrl-C, SIGTERM or \
            after --duration.
            """
    )

    @OptionGroup(title: "Output")
    var printing: PrintOptions

    @OptionGroup(title: "Filters")
    var filters: FilterOptions

    @OptionGroup(title: "Tracing")
    var tracing: TracingOptions

    @OptionGroup(title: "Fleet")
    var fleet: TelemetryOptions

    func run() throws {
        let filter = try filters.makeFilter()
        try TracingLoop(options: tracing, telemetryOptions: fleet).run { attribution, _ in
            let pipeline = EventPipeline(attribution: attribution, filter: filter, containerFilter: filters.containerFilter)
            let session = EventPrinter(format: printing.output, color: printing.color.enabled(forFD: 1), pipeline: pipeline,
                                      clock: WallClock.current(), header: !printing.noHeader, why: printing.why)
            try session.start()
            return session
        }
    }
}

extension ColorMode {
    func enabled(forFD fd: Int32) -> Bool {
        switch self {
        case .always: return true
        case .never: return false
        case .auto:
            if getenv("NO_COLOR") != nil { return false }
            if let term = getenv("TERM"), String(cString: term) == "dumb" { return false }
            return isatty(fd) != 0
        }
    }
}
