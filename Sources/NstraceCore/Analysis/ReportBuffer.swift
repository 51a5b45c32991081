/// What the analysis reports (text, JSON, HTML) write with: bytes appended to one
/// `OutputBuffer`, not Strings concatenated and interpolated (issue 9: building the reports as
/// Strings cost about 100 µs per container start, as much as analysing it). Escaping stays in
/// Escaping.swift; these only copy bytes the analysis has already escaped, or the reports' own
/// words, and pad them into columns.
extension OutputBuffer {
    /// Appends `s`'s UTF-8 bytes as they are (no escaping: for strings already escaped as
    /// terminal text, which is how the analysis keeps them, and the reports' own words).
    /// Not `append(_:)`: a literal would pick a String overload over the StaticString one.
    mutating func append(utf8 s: String) {
        var s = s
        s.withUTF8 { append(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// The columns of what was appended since byte offset `start`: one per UTF-8 character,
    /// which for the padded texts (durations, phase titles, counts: no combining marks) is
    /// one per `Character`, as `String.count` counted them.
    func columns(since start: Int) -> Int {
        withUnsafeBytes { b in
            var n = 0
            for i in start ..< b.count where b[i] & 0xC0 != 0x80 { n += 1 }
            return n
        }
    }

    /// Pads what was appended since `start` to `width` columns, and always with at least one
    /// space: a text that fills or overflows its column is still followed by a separator.
    mutating func padColumn(since start: Int, _ width: Int) {
        let cols = columns(since: start)
        appendSpaces(cols >= width ? 1 : width - cols)
    }

    /// Removes the spaces at the end of the content, down to byte offset `start` at most.
    mutating func trimTrailingSpaces(downTo start: Int) {
        var n = count
        while n > start && self[n - 1] == 0x20 { n -= 1 }
        truncate(to: n)
    }

    /// Each of `items` written by `body`, with `separator` between them.
    mutating func appendJoined<C: Collection>(_ items: C, _ separator: StaticString,
                                              _ body: (inout OutputBuffer, C.Element) -> Void) {
        var first = true
        for item in items {
            if !first { append(separator) }
            first = false
            body(&self, item)
        }
    }

    /// `items` as they are, with `separator` between them.
    mutating func appendJoined(_ items: [String], _ separator: StaticString) {
        appendJoined(items, separator) { $0.append(utf8: $1) }
    }

    /// Room for about `bytesPerStart` per container start and `bytesPerEvent` per kept event
    /// of `a` beyond what is already written (the reports run to megabytes: growing the buffer
    /// by doubling copies it each time, into memory the kernel must map afresh).
    mutating func reserve(for a: StartupAnalysis, bytesPerStart: Int, bytesPerEvent: Int = 0) {
        var events = 0
        for s in a.startups { events += s.events.count }
        reserveCapacity(count + a.startups.count * bytesPerStart + events * bytesPerEvent)
    }

    /// A duration for people, as `DurationText.format` writes it.
    mutating func appendDuration(_ ns: UInt64) {
        DurationText.append(ns, into: &self)
    }
}
