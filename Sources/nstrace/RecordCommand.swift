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

    @OptionGroup(title: "Fleet")
    var fleet: TelemetryOptions

    @Option(name: .long, help: ArgumentHelp("Start a new file (FILE.1, FILE.2, …) once one reaches this size, e.g. 100M; each is complete.", valueName: "SIZE"))
    var maxSize: ByteSize?

    @Flag(name: [.customShort("z"), .long], help: "Compress blocks (zlib).")
    var compress = false

    @Flag(name: .long, help: "Replace FILE (and FILE.1, … with --max-size) if it exists; a link there is replaced, never followed.")
    var force = false

    func validate() throws {
        if file.isEmpty { throw ValidationError("-w needs a file name, or - for stdout") }
        if file == "-" && maxSize != nil { throw ValidationError("--max-size needs a file, not stdout") }
        if let maxSize, maxSize.bytes < 64 << 10 { throw ValidationError("--max-size must be at least 64K") }
    }

    func run() throws {
        let filter = try filters.makeFilter()
        let destination = file
        let options = TraceWriteOptions(compress: compress, maxFileBytes: maxSize.map { Int($0.bytes) })
        let force = self.force
        // Refuse an existing FILE before loading anything; it is created after attaching.
        if destination != "-" && !force, SafeOutputFile.wouldRefuse(destination) {
            do { _ = try SafeOutputFile(destination, placement: .inPlace) } catch {
                Stderr.line(error.description)
                throw ExitCode.failure
            }
        }
        let deadline = tracing.duration.map { MonotonicClock.seconds() + $0 }
        var output: SafeOutputFile?
        do {
            try TracingLoop(options: tracing, telemetryOptions: fleet).run { attribution, inventory in
                let header = TraceFileHeader.current(nstraceVersion: NstraceVersion.string,
                                                     fields: ["command": CommandLine.arguments.joined(separator: " ")])
                var fd: Int32 = 1
                if destination != "-" {
                    // rotated parts appear as they are written; a single file only when done
                    do {
                        output = try SafeOutputFile(destination, placement: maxSize == nil ? .atomic : .inPlace, replace: force,
                                                    deadline: deadline, shouldStop: { StopSignal.requested })
                    } catch {
                        throw PreflightError("\(error)")
                    }
                    fd = output!.fd
                }
                let writer: TraceFileWriter
                do {
                    writer = try TraceFileWriter(sink: .fileDescriptor(fd, closeWhenDone: false), header: header, options: options)
                } catch {
                    throw PreflightError((destination == "-" ? "stdout" : destination) + ": \(error)")
                }
                writer.rotationHandler = { index in
                    let part = destination + "." + String(index)
                    if force { unlink(part) }   // never follows a link; then created exclusively
                    return .path(part)
                }
                let pipeline = EventPipeline(attribution: attribution, filter: filter, containerFilter: filters.containerFilter)
                let session = RecordSession(writer: writer, destination: destination == "-" ? "stdout" : destination,
                                            pipeline: pipeline)
                try session.writeSnapshot(inventory: inventory)
                return session
            }
        } catch {
            // a failed recording (full disk) is readable up to its last block: keep it
            try? output?.commit()
            throw error
        }
        do {
            try output?.commit()
        } catch {
            Stderr.line(error.description)
            throw ExitCode.failure
        }
    }
}
