import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Set from the SIGINT/SIGTERM handler (an atomic store is async-signal-safe); the poll loop
/// sees it on its next turn: the signal also interrupts the epoll wait with EINTR.
let stopRequested = Atomic<Bool>(false)

enum StopSignal {
    static func install() {
        // A reader that goes away (`nstrace | head`) must give EPIPE, not kill us mid-summary.
        signal(SIGPIPE, SIG_IGN)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in stopRequested.store(true, ordering: .relaxed) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0   // no SA_RESTART: let the signal end epoll_wait at once
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
    }

    static var requested: Bool { stopRequested.load(ordering: .relaxed) }
}
