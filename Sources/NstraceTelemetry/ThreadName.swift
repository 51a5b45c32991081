import Glibc

/// Names the calling thread (≤ 15 bytes) for ps and /proc/PID/task/*/comm: Foundation's
/// Thread.name does not, and pthread_setname_np is not visible to Swift without _GNU_SOURCE.
func nameCurrentThread(_ name: String) {
    let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return }
    _ = name.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, min($0.count - 1, 15)) }
    close(fd)
}
