#if canImport(Glibc)
import Glibc
#endif

/// Checks made before touching libbpf, so that the usual set-up problems get one clear line
/// instead of libbpf's misleading "try raising ulimit -l".
public enum Preflight {
    public static let tracefsCandidates = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]

    /// Root, or CAP_BPF + CAP_PERFMON (+ CAP_SYS_ADMIN for tracepoints on most kernels).
    public static func checkPrivileges() throws(PreflightError) {
        if geteuid() == 0 { return }
        let caps = effectiveCapabilities()
        let capSysAdmin: UInt64 = 1 << 21, capPerfmon: UInt64 = 1 << 38, capBPF: UInt64 = 1 << 39
        if caps & capSysAdmin != 0 || (caps & capPerfmon != 0 && caps & capBPF != 0) { return }
        throw PreflightError("loading BPF programs needs root (or CAP_BPF and CAP_PERFMON): run nstrace with sudo")
    }

    /// CO-RE relocations need the kernel's own type information.
    public static func checkBTF() throws(PreflightError) {
        if access("/sys/kernel/btf/vmlinux", R_OK) != 0 {
            throw PreflightError("no kernel BTF at /sys/kernel/btf/vmlinux: nstrace needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (Linux 5.8 or later)")
        }
    }

    /// libbpf finds syscall tracepoints through tracefs. Mount it if it is not; say how if that fails.
    @discardableResult
    public static func ensureTracefs() throws(PreflightError) -> String {
        for dir in tracefsCandidates where readable(dir + "/events/syscalls") {
            return dir
        }
        let dir = tracefsCandidates[0]
        if mount("nodev", dir, "tracefs", 0, nil) == 0, readable(dir + "/events/syscalls") {
            return dir
        }
        let why = String(cString: strerror(errno))
        throw PreflightError("tracefs is not mounted and mounting it failed (\(why)): run 'mount -t tracefs nodev /sys/kernel/tracing'; the kernel needs CONFIG_FTRACE_SYSCALLS for syscall tracepoints")
    }

    /// Whether the tracepoint category/name exists on this kernel.
    public static func tracepointExists(_ categoryAndName: String, tracefs: String) -> Bool {
        faccessat(AT_FDCWD, tracefs + "/events/" + categoryAndName, F_OK, AT_EACCESS) == 0
    }

    /// access(2) checks the real uid: with capabilities and no root (setpriv, systemd's
    /// AmbientCapabilities) the effective credentials are what counts.
    static func readable(_ path: String) -> Bool {
        faccessat(AT_FDCWD, path, R_OK, AT_EACCESS) == 0
    }

    static func effectiveCapabilities() -> UInt64 {
        guard let file = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            if text.hasPrefix("CapEff:") {
                let hex = text.dropFirst("CapEff:".count).trimmingCharacters(in: " \t\n")
                return UInt64(hex, radix: 16) ?? 0
            }
        }
        return 0
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s = s.dropFirst() }
        while let c = s.last, set.contains(c) { s = s.dropLast() }
        return String(s)
    }
}
