import Foundation

/// Helpers shared by the Containers tests (namespaced so they cannot clash with other tests).
enum ContainersTestSupport {
    /// A PID no process has: above the kernel's pid_max.
    static func unusedPID() -> Int32 {
        let text = (try? String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8)) ?? ""
        let pidMax = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 4_194_304
        return pidMax + 1
    }

}
