#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Seconds on CLOCK_MONOTONIC, for deadlines and rate limits (a wall-clock step must not
/// stretch or cut them). The one reader of that clock for the CLI, the core and the fleet code.
public enum MonotonicClock {
    public static func seconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
