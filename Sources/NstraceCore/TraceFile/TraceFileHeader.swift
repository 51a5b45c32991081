#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import NstraceABI

/// What a trace file says about where and how it was recorded: the payload of its HEADER
/// block (docs/format.md, "HEADER"). Everything `show` needs to print times and decode
/// records on another machine.
public struct TraceFileHeader: Sendable, Equatable {
    /// NST_ABI_VERSION of the recorder: the layout of the event records.
    public var abiVersion: UInt16
    /// sizeof(struct nst_event), sizeof one string slot, number of string slots.
    public var eventHeaderSize: UInt16
    public var stringSlotSize: UInt16
    public var stringSlots: UInt16
    /// Boot clock → wall clock offset and the recorder's UTC offset, taken once at start.
    public var clock: WallClock
    /// CLOCK_BOOTTIME and CLOCK_REALTIME (ns) when this file was started.
    public var startBootNs: UInt64
    public var startRealtimeNs: Int64
    /// 0 for the first file of a recording, 1, 2, ... for the files `--max-size` rotation
    /// started after it.
    public var fileIndex: UInt32
    public var hostname: String
    public var kernelRelease: String
    public var nstraceVersion: String
    /// More string fields (`machine`, `command_line`, `session_id`, ...); readers keep the
    /// ones they do not know. Keys: 1...255 bytes.
    public var fields: [String: String]

    /// Format version of the file it was read from (the writer writes the current one).
    public internal(set) var formatMajor: UInt16 = TraceFormat.majorVersion
    public internal(set) var formatMinor: UInt16 = TraceFormat.minorVersion

    public init(hostname: String, kernelRelease: String, nstraceVersion: String, clock: WallClock,
                startBootNs: UInt64, startRealtimeNs: Int64, fileIndex: UInt32 = 0,
                fields: [String: String] = [:]) {
        self.abiVersion = UInt16(NST_ABI_VERSION)
        self.eventHeaderSize = UInt16(EventLayout.headerSize)
        self.stringSlotSize = UInt16(EventLayout.stringSlotSize)
        self.stringSlots = UInt16(EventLayout.stringSlots)
        self.clock = clock
        self.startBootNs = startBootNs
        self.startRealtimeNs = startRealtimeNs
        self.fileIndex = fileIndex
        self.hostname = hostname
        self.kernelRelease = kernelRelease
        self.nstraceVersion = nstraceVersion
        self.fields = fields
    }

    /// This host now: gethostname, uname, the clocks (`WallClock.current()`), and
    /// `machine` (uname -m) in `fields`.
    public static func current(nstraceVersion: String, fields: [String: String] = [:]) -> TraceFileHeader {
        var u = utsname()
        uname(&u)
        func field<T>(_ v: inout T) -> String {
            withUnsafeBytes(of: &v) { raw in
                let b = raw.bindMemory(to: UInt8.self)
                let n = b.firstIndex(of: 0) ?? b.count
                return String(decoding: b[0..<n], as: UTF8.self)
            }
        }
        var f = fields
        if f["machine"] == nil { f["machine"] = field(&u.machine) }
        let (boot, real) = currentClocks()
        return TraceFileHeader(hostname: field(&u.nodename), kernelRelease: field(&u.release),
                               nstraceVersion: nstraceVersion, clock: WallClock.current(),
                               startBootNs: boot, startRealtimeNs: real, fields: f)
    }

    static func currentClocks() -> (boot: UInt64, real: Int64) {
        var b = timespec(), r = timespec()
        clock_gettime(CLOCK_BOOTTIME, &b)
        clock_gettime(CLOCK_REALTIME, &r)
        return (UInt64(b.tv_sec) * 1_000_000_000 + UInt64(b.tv_nsec),
                Int64(r.tv_sec) * 1_000_000_000 + Int64(r.tv_nsec))
    }

    // MARK: encoding (docs/format.md, "HEADER")

    static let fixedSize = 48
    static let maxFields = 1024
    static let maxValueBytes = 1 << 20

    func encode() -> [UInt8] {
        var w = ByteWriter()
        w.u16(UInt16(Self.fixedSize))
        w.u16(abiVersion)
        w.u16(eventHeaderSize)
        w.u16(stringSlots)
        w.u16(stringSlotSize)
        w.u16(0)
        w.i32(clock.utcOffsetSeconds)
        w.i64(clock.bootToRealtimeNs)
        w.u64(startBootNs)
        w.i64(startRealtimeNs)
        w.u32(fileIndex)
        w.u32(0)
        var pairs: [(String, String)] = [("hostname", hostname), ("kernel_release", kernelRelease),
                                         ("nstrace_version", nstraceVersion)]
        for k in fields.keys.sorted() where !["hostname", "kernel_release", "nstrace_version"].contains(k) {
            pairs.append((k, fields[k]!))
        }
        pairs = pairs.filter { !$0.0.utf8.isEmpty && $0.0.utf8.count <= 255 }.prefix(Self.maxFields).map { $0 }
        w.u16(UInt16(pairs.count))
        for (k, v) in pairs {
            let kb = Array(k.utf8)
            let vb = Array(v.utf8.prefix(Self.maxValueBytes))
            w.u16(UInt16(kb.count))
            w.raw(kb)
            w.u32(UInt32(vb.count))
            w.raw(vb)
        }
        return w.bytes
    }

    /// Decodes a HEADER payload; the error says what is wrong (the caller adds the offset).
    static func decode(_ p: UnsafeRawPointer, count: Int) -> Result<TraceFileHeader, DecodeFailure> {
        var r = ByteReader(p, count: count)
        guard let fixedLen = r.u16(), Int(fixedLen) >= fixedSize, Int(fixedLen) <= count else {
            return .failure(.malformed("fixed part length out of range"))
        }
        let abi = r.u16()!, evSize = r.u16()!, slots = r.u16()!, slotSize = r.u16()!
        _ = r.u16()
        let utcOff = Int32(bitPattern: r.u32()!)
        let b2r = Int64(bitPattern: r.u64()!)
        let startBoot = r.u64()!
        let startReal = Int64(bitPattern: r.u64()!)
        let index = r.u32()!
        _ = r.u32()
        r.position = Int(fixedLen)   // skip fixed fields of later minor versions
        guard let n = r.u16(), Int(n) <= maxFields else { return .failure(.malformed("field count missing or above \(maxFields)")) }
        var fields: [String: String] = [:]
        for i in 0..<Int(n) {
            guard let kl = r.u16(), kl > 0, let k = r.bytes(Int(kl)) else {
                return .failure(.malformed("field \(i): key length out of range"))
            }
            guard let vl = r.u32(), Int(vl) <= maxValueBytes, let v = r.bytes(Int(vl)) else {
                return .failure(.malformed("field \(i): value length out of range"))
            }
            fields[String(decoding: k, as: UTF8.self)] = String(decoding: v, as: UTF8.self)
        }
        guard r.remaining == 0 else { return .failure(.malformed("\(r.remaining) bytes after the last field")) }
        var h = TraceFileHeader(hostname: fields.removeValue(forKey: "hostname") ?? "",
                                kernelRelease: fields.removeValue(forKey: "kernel_release") ?? "",
                                nstraceVersion: fields.removeValue(forKey: "nstrace_version") ?? "",
                                clock: WallClock(bootToRealtimeNs: b2r, utcOffsetSeconds: utcOff),
                                startBootNs: startBoot, startRealtimeNs: startReal, fileIndex: index,
                                fields: fields)
        h.abiVersion = abi
        h.eventHeaderSize = evSize
        h.stringSlots = slots
        h.stringSlotSize = slotSize
        // ABI 3 appended struct nst_paths to mount-family records (ABI 2 files have none: read as
        // before); ABI 4 changed only how records travel in the ring (packed): files hold 3's records
        guard (2...UInt16(NST_ABI_VERSION)).contains(abi), Int(evSize) == EventLayout.headerSize,
              Int(slots) == EventLayout.stringSlots, Int(slotSize) == EventLayout.stringSlotSize else {
            return .failure(.abi("records are ABI version \(abi) (nst_event \(evSize) bytes, \(slots) string slots of \(slotSize)); this nstrace decodes ABI \(NST_ABI_VERSION) (\(EventLayout.headerSize) bytes, \(EventLayout.stringSlots) × \(EventLayout.stringSlotSize))"))
        }
        return .success(h)
    }

    enum DecodeFailure: Error {
        case malformed(String)
        case abi(String)
    }
}
