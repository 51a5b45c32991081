import ArgumentParser
import NstraceBPF
import NstraceCore
#if canImport(Glibc)
import Glibc
#endif

struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record events to a trace file, to read later, elsewhere (show, export, info).",
        discussion: """
            The file carries what reading it needs once the containers are gone: the host's \
            namespaces, the running containers and their mount tables, every cgroup's path, \
            containers as they are found and named, lost counts, and totals at the end. \
            Ctrl-C or SIGTERM writes what is still in the ring buffer and the trailer, and exits 0; \
            a file cut by a crash reads back up to its last complete block. Format: docs/format.md.
            """
    )

    @Option(name: .customShort("w"), help: ArgumentHelp("The trace file to write; - for stdout.", valueName: "FILE"))
    var file: String

    @OptionGroup(title: "Filters")
    var filters: FilterOptions

    @OptionGroup(title: "Tracing")
    var tracing: TracingOptions

    @Option(name: .long, help: ArgumentHelp("Start a new file (FILE.1, FILE.2, …) once one reaches this size, e.g. 100M; each is complete.", valueName: "SIZE"))
    var maxSize: ByteSize?

    @Flag(name: [.customShort("z"), .long], help: "Compress blocks (zlib).")
    var compress = false

    func validate() throws {
        if file.isEmpty { throw ValidationError("-w needs a file name, or - for stdout") }
        if file == "-" && maxSize != nil { throw ValidationError("--max-size needs a file, not stdout") }
        if let maxSize, maxSize.bytes < 64 << 10 { throw ValidationError("--max-size must be at least 64K") }
    }

    func run() throws {
        let filter = try filters.makeFilter()
        let destination = file
        let options = TraceWriteOptions(compress: compress, maxFileBytes: maxSize.map { Int($0.bytes) })
        try TracingLoop(options: tracing).run { attribution, inventory in
            let header = TraceFileHeader.current(nstraceVersion: NstraceVersion.string,
                                                 fields: ["command": CommandLine.arguments.joined(separator: " ")])
            let sink: TraceFileSink = destination == "-" ? .fileDescriptor(1, closeWhenDone: false) : .path(destination)
            let writer: TraceFileWriter
            do {
                writer = try TraceFileWriter(sink: sink, header: header, options: options)
            } catch {
                throw PreflightError((destination == "-" ? "stdout" : destination) + ": \(error)")
            }
            writer.rotationHandler = { index in .path(destination + "." + String(index)) }
            let pipeline = EventPipeline(attribution: attribution, filter: filter, containerFilter: filters.containerFilter)
            let session = RecordSession(writer: writer, destination: destination == "-" ? "stdout" : destination,
                                        pipeline: pipeline)
            try session.writeSnapshot(inventory: inventory)
            return session
        }
    }
}
