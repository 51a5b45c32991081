import CZlib

/// One reusable raw DEFLATE (RFC 1951) compressor. The z_stream lives at a fixed address: zlib
/// keeps a pointer back to it and refuses a moved stream.
final class Deflater {
    private let strm: UnsafeMutablePointer<z_stream>
    private var ready = false

    init(level: Int32) throws(TraceFileError) {
        strm = .allocate(capacity: 1)
        strm.initialize(to: z_stream())
        let rc = czlib_deflate_init_raw(strm, level)
        guard rc == Z_OK else {
            strm.deallocate()
            throw .compressionFailed(code: rc)
        }
        ready = true
    }

    deinit {
        if ready { deflateEnd(strm) }
        strm.deallocate()
    }

    /// Upper bound of the compressed size of `n` bytes.
    func bound(_ n: Int) -> Int { Int(deflateBound(strm, UInt(n))) }

    /// Compresses `count` bytes at `src` into `dst` (capacity ≥ `bound(count)`); returns the
    /// compressed length.
    func compress(_ src: UnsafeRawPointer, _ count: Int, into dst: UnsafeMutableRawPointer, capacity: Int) throws(TraceFileError) -> Int {
        deflateReset(strm)
        strm.pointee.next_in = UnsafeMutablePointer(mutating: src.assumingMemoryBound(to: Bytef.self))
        strm.pointee.avail_in = uInt(count)
        strm.pointee.next_out = dst.assumingMemoryBound(to: Bytef.self)
        strm.pointee.avail_out = uInt(capacity)
        let rc = deflate(strm, Z_FINISH)
        guard rc == Z_STREAM_END else { throw .compressionFailed(code: rc) }
        return Int(strm.pointee.total_out)
    }
}

/// One reusable raw DEFLATE decompressor, strict about lengths.
final class Inflater {
    private let strm: UnsafeMutablePointer<z_stream>
    private var ready = false

    init() throws(TraceFileError) {
        strm = .allocate(capacity: 1)
        strm.initialize(to: z_stream())
        let rc = czlib_inflate_init_raw(strm)
        guard rc == Z_OK else {
            strm.deallocate()
            throw .compressionFailed(code: rc)
        }
        ready = true
    }

    deinit {
        if ready { inflateEnd(strm) }
        strm.deallocate()
    }

    /// Decompresses exactly `count` bytes into exactly `expected` bytes at `dst`; nil with a
    /// reason otherwise (never writes past `expected`).
    func decompress(_ src: UnsafeRawPointer, _ count: Int, into dst: UnsafeMutableRawPointer, expected: Int) -> String? {
        inflateReset(strm)
        strm.pointee.next_in = UnsafeMutablePointer(mutating: src.assumingMemoryBound(to: Bytef.self))
        strm.pointee.avail_in = uInt(count)
        strm.pointee.next_out = dst.assumingMemoryBound(to: Bytef.self)
        strm.pointee.avail_out = uInt(expected)
        let rc = inflate(strm, Z_FINISH)
        let produced = Int(strm.pointee.total_out)
        switch rc {
        case Z_STREAM_END:
            if produced != expected { return "deflate data decompresses to \(produced) bytes, the header says \(expected)" }
            if strm.pointee.avail_in != 0 { return "\(strm.pointee.avail_in) bytes after the end of the deflate data" }
            return nil
        case Z_BUF_ERROR where strm.pointee.avail_out == 0:
            return "deflate data decompresses to more than the \(expected) bytes the header says"
        case Z_BUF_ERROR:
            return "deflate data ends early (\(produced) of \(expected) bytes)"
        case Z_DATA_ERROR:
            let msg = strm.pointee.msg.map { String(cString: $0) } ?? "invalid data"
            return "zlib: \(msg)"
        default:
            return "zlib error \(rc)"
        }
    }
}
