#if canImport(Glibc)
import Glibc
#endif

/// A mutex with NSLock's lock()/unlock(), without linking Foundation (only FoundationEssentials
/// is linked: it keeps FoundationInternationalization and its ICU data out of nstrace's memory).
public final class PosixLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }
}
