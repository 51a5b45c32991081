#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Turns event timestamps (CLOCK_BOOTTIME ns, bpf_ktime_get_boot_ns) into wall-clock text
/// with integer arithmetic only. The offsets are captured once, at start: a later clock
/// step or DST change does not move already-running output.
public struct WallClock: Sendable, Equatable {
    /// realtime_ns = boot_ns + bootToRealtimeNs.
    public let bootToRealtimeNs: Int64
    /// Local time = UTC + this (seconds east of Greenwich), for the text format.
    public let utcOffsetSeconds: Int32

    public init(bootToRealtimeNs: Int64, utcOffsetSeconds: Int32) {
        self.bootToRealtimeNs = bootToRealtimeNs
        self.utcOffsetSeconds = utcOffsetSeconds
    }

    /// Reads CLOCK_BOOTTIME, CLOCK_REALTIME and the local UTC offset (localtime_r) now.
    public static func current() -> WallClock {
        var b0 = timespec(), r = timespec(), b1 = timespec()
        clock_gettime(CLOCK_BOOTTIME, &b0)
        clock_gettime(CLOCK_REALTIME, &r)
        clock_gettime(CLOCK_BOOTTIME, &b1)
        let boot0 = Int64(b0.tv_sec) * 1_000_000_000 + Int64(b0.tv_nsec)
        let boot1 = Int64(b1.tv_sec) * 1_000_000_000 + Int64(b1.tv_nsec)
        let real = Int64(r.tv_sec) * 1_000_000_000 + Int64(r.tv_nsec)
        let boot = boot0 + (boot1 - boot0) / 2
        var t = time_t(r.tv_sec)
        var tmv = tm()
        var off: Int32 = 0
        if localtime_r(&t, &tmv) != nil { off = Int32(truncatingIfNeeded: tmv.tm_gmtoff) }
        return WallClock(bootToRealtimeNs: real - boot, utcOffsetSeconds: off)
    }

    /// Nanoseconds since the Unix epoch (UTC) of a boot-clock timestamp.
    @inline(__always)
    public func realtimeNs(bootNs: UInt64) -> Int64 {
        Int64(bitPattern: bootNs) &+ bootToRealtimeNs
    }

    /// `HH:MM:SS.ffffff`, local time (15 bytes).
    public func appendLocalTime(bootNs: UInt64, into out: inout OutputBuffer) {
        let ns = realtimeNs(bootNs: bootNs) &+ Int64(utcOffsetSeconds) &* 1_000_000_000
        let (secs, frac) = Self.floorDivMod(ns, 1_000_000_000)
        let (_, sod) = Self.floorDivMod(secs, 86_400)
        Self.appendHMS(sod, into: &out)
        out.append(byte: 0x2E)
        out.appendZeroPadded(UInt64(frac / 1000), digits: 6)
    }

    /// RFC 3339, UTC, nanoseconds: `2026-11-29T07:40:01.123456789Z` (30 bytes).
    public func appendRFC3339(bootNs: UInt64, into out: inout OutputBuffer) {
        let (secs, frac) = Self.floorDivMod(realtimeNs(bootNs: bootNs), 1_000_000_000)
        let (days, sod) = Self.floorDivMod(secs, 86_400)
        let (y, m, d) = Self.civil(fromDays: days)
        if y < 0 || y > 9999 {
            out.append("0000")
        } else {
            out.appendZeroPadded(UInt64(y), digits: 4)
        }
        out.append(byte: 0x2D)
        out.appendZeroPadded(UInt64(m), digits: 2)
        out.append(byte: 0x2D)
        out.appendZeroPadded(UInt64(d), digits: 2)
        out.append(byte: 0x54)
        Self.appendHMS(sod, into: &out)
        out.append(byte: 0x2E)
        out.appendZeroPadded(UInt64(frac), digits: 9)
        out.append(byte: 0x5A)
    }

    /// The String forms, for tests and the CLI (allocate).
    public func localTime(bootNs: UInt64) -> String {
        var o = OutputBuffer(capacity: 64)
        appendLocalTime(bootNs: bootNs, into: &o)
        return o.string
    }

    public func rfc3339(bootNs: UInt64) -> String {
        var o = OutputBuffer(capacity: 64)
        appendRFC3339(bootNs: bootNs, into: &o)
        return o.string
    }

    // MARK: arithmetic

    @inline(__always)
    static func floorDivMod(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        var q = a / b
        var r = a % b
        if r < 0 { q -= 1; r += b }
        return (q, r)
    }

    static func appendHMS(_ sod: Int64, into out: inout OutputBuffer) {
        out.appendZeroPadded(UInt64(sod / 3600), digits: 2)
        out.append(byte: 0x3A)
        out.appendZeroPadded(UInt64(sod / 60 % 60), digits: 2)
        out.append(byte: 0x3A)
        out.appendZeroPadded(UInt64(sod % 60), digits: 2)
    }

    /// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant, civil_from_days).
    public static func civil(fromDays z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097                                   // [0, 146096]
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365  // [0, 399]
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)             // [0, 365]
        let mp = (5 * doy + 2) / 153                                  // [0, 11]
        let d = doy - (153 * mp + 2) / 5 + 1                          // [1, 31]
        let m = mp < 10 ? mp + 3 : mp - 9                             // [1, 12]
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (days_from_civil).
    public static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

extension WallClock {
    /// CLOCK_BOOTTIME now, in nanoseconds: the clock of `ts_ns`.
    public static func bootNow() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_BOOTTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
