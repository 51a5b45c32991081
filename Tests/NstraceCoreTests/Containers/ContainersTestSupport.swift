import Foundation

/// Helpers shared by the Containers tests (namespaced so they cannot clash with other tests).
enum ContainersTestSupport {
    /// A PID no process has: above the kernel's pid_max.
    static func unusedPID() -> Int32 {
        let text = (try? String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8)) ?? ""
        let pidMax = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 4_194_304
        return pidMax + 1
    }

    /// SplitMix64: a tiny deterministic generator so the hostile-input tests are reproducible.
    struct SeededRandom: RandomNumberGenerator {
        private var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
