/// `export -o chrome`: each container start's phases as slices on its track (a "startup
/// phases" thread), so that Perfetto shows the same breakdown as `analyze`.
public enum StartupChromeSlices {
    /// Above any pid: the phases' thread never collides with a traced thread.
    static let threadID: UInt32 = 0xFFFF_FFF0

    public static func append(_ a: StartupAnalysis, to exporter: ChromeTraceExporter, into out: inout OutputBuffer) {
        for s in a.startups {
            let suffix = s.complete ? "" : " (incomplete)"
            for p in s.phases {
                exporter.appendSlice(containerKey: s.container.id, label: s.label, threadID: threadID,
                                     threadName: "startup phases", name: p.phase.title + suffix,
                                     startNs: p.startNs, durationNs: p.durationNs, into: &out)
            }
        }
    }
}
