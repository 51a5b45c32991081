import CPrivileges
import NstraceBPF
#if canImport(Glibc)
import Glibc
#endif

/// live and record need privileges only to load and attach the programs and to take the
/// first look at the host (/proc of every process, runtime state directories, the record's
/// snapshot). Then they drop every capability, and with `--user` switch to that user: a
/// bug in the per-event path (which handles data from untrusted processes) runs with none.
/// The minimal set to start is in docs/cli.md ("Privileges").
enum Privileges {
    struct User {
        let name: String
        let uid: uid_t
        let gid: gid_t
    }

    /// A user name or numeric uid from /etc/passwd (its primary group).
    static func lookup(_ name: String) -> User? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 << 10)
        if getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil {
            return User(name: name, uid: entry.pw_uid, gid: entry.pw_gid)
        }
        if let uid = UInt32(name), getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil {
            return User(name: name, uid: entry.pw_uid, gid: entry.pw_gid)
        }
        return nil
    }

    /// Called once nothing more needs privileges; before any other thread exists (capabilities
    /// are per thread: threads started later inherit the dropped set).
    static func drop(switchingTo user: User?) throws(PreflightError) {
        let r = nst_drop_privileges(user == nil ? 0 : 1, user?.uid ?? 0, user?.gid ?? 0)
        if r != 0 {
            let what = user.map { "switch to user \($0.name)" } ?? "drop capabilities"
            throw PreflightError("cannot \(what) after attaching: " + String(cString: strerror(-r)))
        }
    }
}
