import CZlib

/// `make fuzz`: libFuzzer entry: reads the input as a trace file with both corruption policies, exporting
/// every event to Chrome JSON and analysing the container starts in it (`analyze`'s stored
/// events, then its text, JSON and HTML reports); then as `show`, `export` and `info` do: a
/// metadata pass, then the replay (container attribution from the file's metadata) and the
/// info summary. If the
/// first byte is odd, every block's checksums are recomputed first, so mutations reach the
/// structural checks behind them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTraceReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    var bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    if data[0] & 1 == 1 { reseal(&bytes) }
    replay(bytes)
    for policy in [TraceReadOptions.CorruptionPolicy.stop, .skip] {
        guard let r = try? TraceFileReader(bytes: bytes, options: TraceReadOptions(onCorruption: policy, decodeEvents: data[0] & 2 == 0)) else { continue }
        let exporter = ChromeTraceExporter(header: r.header)
        let replay = TraceReplay()
        let pipeline = EventPipeline(attribution: replay.attribution)
        let json = JSONFormatter(clock: r.header.clock, includesContainer: true)
        let analysis = StartupAnalysisStream(name: "fuzz.nst")
        var out = OutputBuffer(capacity: 1 << 16)
        exporter.begin(into: &out)
        try? r.forEach { item in
            switch item {
            case .event(let v):
                if case .passed(let a) = pipeline.process(v) {
                    exporter.append(a, into: &out)
                    json.append(a, into: &out)
                }
                analysis.feed(v)
            case .metadata(let m):
                replay.apply(m)
                analysis.apply(m)
                exporter.append(metadata: m, into: &out)
            }
            if out.count > 1 << 15 { out.removeAll() }
        }
        exporter.end(into: &out)
        let startups = analysis.finish(r)
        out.removeAll()
        StartupTextReport.render(startups, into: &out)
        StartupJSONReport.render(startups, into: &out)
        StartupHTMLReport.render(startups, into: &out)
    }
    return 0
}

/// TraceInput + InfoCommand: prime, replay, attribute every event, summarise.
func replay(_ bytes: [UInt8]) {
    let replay = TraceReplay()
    if let first = try? TraceFileReader(bytes: bytes, options: TraceReadOptions(onCorruption: .skip, decodeEvents: false)) {
        try? first.forEach { if case .metadata(let m) = $0 { replay.prime(m) } }
    }
    guard let reader = try? TraceFileReader(bytes: bytes, options: TraceReadOptions(onCorruption: .skip)) else { return }
    var summary = TraceSummary()
    let pipeline = EventPipeline(attribution: replay.attribution)
    try? reader.forEach { item in
        switch item {
        case .metadata(let m): replay.apply(m)
        case .event(let ev): summary.add(ev, pipeline.process(ev))
        }
    }
    let lost = TraceSummary.lost(trailer: reader.trailer, lastLost: replay.lastLost)
    #if FUZZ_OLD_INFO
    // the conversion `nstrace info` made before issue 10: the fuzzer must find its trap
    let counts = reader.trailer?.lost ?? replay.lastLost.map { TraceLostCounts(ringbuf: $0.ringbuf, pending: $0.pending) }
    _ = counts.map { Int($0.total) }
    #endif
    _ = (lost, summary.spanSeconds, replay.capWarnings, reader.eventsRead, reader.metadataRead)
}

func reseal(_ b: inout [UInt8]) {
    var o = 16
    b.withUnsafeMutableBytes { p in
        guard p.count >= 16 else { return }
        let base = p.baseAddress!
        put32(base, 12, UInt32(truncatingIfNeeded: crc32(0, base.assumingMemoryBound(to: UInt8.self), 12)))
        while o + 48 <= p.count {
            let blk = base + o
            let n = Int(le32(blk, 8))
            if o + 48 + n <= p.count {
                put32(blk, 40, UInt32(truncatingIfNeeded: crc32(0, (blk + 48).assumingMemoryBound(to: UInt8.self), UInt32(n))))
            }
            put32(blk, 44, UInt32(truncatingIfNeeded: crc32(0, blk.assumingMemoryBound(to: UInt8.self), 44)))
            guard n <= p.count else { return }
            o += 48 + n
        }
    }
}
