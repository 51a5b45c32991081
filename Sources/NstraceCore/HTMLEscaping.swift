extension OutputBuffer {
    /// Appends `bytes` for HTML text or a quoted attribute value: `& < > " '` become
    /// character references, other control bytes become U+FFFD, so that no byte from a traced
    /// process (a container name, a mount path) can open markup or end an attribute.
    public mutating func appendHTMLEscaped(_ bytes: UnsafeRawBufferPointer) {
        // most strings need nothing: copy them in one go
        if !bytes.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) {
            append(bytes: bytes)
            return
        }
        for b in bytes {
            switch b {
            case 0x26: append("&amp;")
            case 0x3C: append("&lt;")
            case 0x3E: append("&gt;")
            case 0x22: append("&quot;")
            case 0x27: append("&#39;")
            case 0x09, 0x0A: append(byte: b)
            case 0..<0x20, 0x7F: append("\u{FFFD}")
            default: append(byte: b)
            }
        }
    }

    public mutating func appendHTMLEscaped(_ s: String) {
        var s = s
        s.withUTF8 { appendHTMLEscaped(UnsafeRawBufferPointer($0)) }
    }
}
