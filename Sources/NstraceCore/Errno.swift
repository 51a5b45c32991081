/// errno numbers → names, Linux x86-64. 1...133 from <asm-generic/errno-base.h> and
/// <asm-generic/errno.h> (EAGAIN rather than EWOULDBLOCK, EDEADLK rather than EDEADLOCK;
/// 41 and 58 are unused), and 512...531, the kernel-internal codes of <linux/errno.h> that a
/// tracer can see at syscall exit (ERESTARTSYS when a signal interrupts a call, …).
public enum Errno {
    /// Index = errno; "" for unused numbers.
    static let table: [StaticString] = [
        "", "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "E2BIG",
        "ENOEXEC", "EBADF", "ECHILD", "EAGAIN", "ENOMEM", "EACCES", "EFAULT", "ENOTBLK",
        "EBUSY", "EEXIST", "EXDEV", "ENODEV", "ENOTDIR", "EISDIR", "EINVAL", "ENFILE",
        "EMFILE", "ENOTTY", "ETXTBSY", "EFBIG", "ENOSPC", "ESPIPE", "EROFS", "EMLINK",
        "EPIPE", "EDOM", "ERANGE", "EDEADLK", "ENAMETOOLONG", "ENOLCK", "ENOSYS", "ENOTEMPTY",
        "ELOOP", "", "ENOMSG", "EIDRM", "ECHRNG", "EL2NSYNC", "EL3HLT", "EL3RST",
        "ELNRNG", "EUNATCH", "ENOCSI", "EL2HLT", "EBADE", "EBADR", "EXFULL", "ENOANO",
        "EBADRQC", "EBADSLT", "", "EBFONT", "ENOSTR", "ENODATA", "ETIME", "ENOSR",
        "ENONET", "ENOPKG", "EREMOTE", "ENOLINK", "EADV", "ESRMNT", "ECOMM", "EPROTO",
        "EMULTIHOP", "EDOTDOT", "EBADMSG", "EOVERFLOW", "ENOTUNIQ", "EBADFD", "EREMCHG", "ELIBACC",
        "ELIBBAD", "ELIBSCN", "ELIBMAX", "ELIBEXEC", "EILSEQ", "ERESTART", "ESTRPIPE", "EUSERS",
        "ENOTSOCK", "EDESTADDRREQ", "EMSGSIZE", "EPROTOTYPE", "ENOPROTOOPT", "EPROTONOSUPPORT", "ESOCKTNOSUPPORT", "EOPNOTSUPP",
        "EPFNOSUPPORT", "EAFNOSUPPORT", "EADDRINUSE", "EADDRNOTAVAIL", "ENETDOWN", "ENETUNREACH", "ENETRESET", "ECONNABORTED",
        "ECONNRESET", "ENOBUFS", "EISCONN", "ENOTCONN", "ESHUTDOWN", "ETOOMANYREFS", "ETIMEDOUT", "ECONNREFUSED",
        "EHOSTDOWN", "EHOSTUNREACH", "EALREADY", "EINPROGRESS", "ESTALE", "EUCLEAN", "ENOTNAM", "ENAVAIL",
        "EISNAM", "EREMOTEIO", "EDQUOT", "ENOMEDIUM", "EMEDIUMTYPE", "ECANCELED", "ENOKEY", "EKEYEXPIRED",
        "EKEYREVOKED", "EKEYREJECTED", "EOWNERDEAD", "ENOTRECOVERABLE", "ERFKILL", "EHWPOISON",
    ]

    /// 512...531.
    static let kernelTable: [StaticString] = [
        "ERESTARTSYS", "ERESTARTNOINTR", "ERESTARTNOHAND", "ENOIOCTLCMD", "ERESTART_RESTARTBLOCK",
        "EPROBE_DEFER", "EOPENSTALE", "ENOPARAM", "", "EBADHANDLE",
        "ENOTSYNC", "EBADCOOKIE", "ENOTSUPP", "ETOOSMALL", "ESERVERFAULT",
        "EBADTYPE", "EJUKEBOX", "EIOCBQUEUED", "ERECALLCONFLICT", "ENOGRACE",
    ]

    /// The name, or nil for a number without one.
    public static func staticName(_ errno: Int32) -> StaticString? {
        let s: StaticString
        if errno >= 0 && Int(errno) < table.count {
            s = table[Int(errno)]
        } else if errno >= 512 && Int(errno) < 512 + kernelTable.count {
            s = kernelTable[Int(errno) - 512]
        } else {
            return nil
        }
        return s.utf8CodeUnitCount == 0 ? nil : s
    }

    /// The name, or nil for a number without one.
    public static func name(_ errno: Int32) -> String? {
        staticName(errno).map { String(describing: $0) }
    }

    /// Inverse of `name` (for filters: `--errno EPERM`).
    public static func number(named name: String) -> Int32? {
        if name == "EWOULDBLOCK" { return 11 }
        if name == "EDEADLOCK" { return 35 }
        for (i, s) in table.enumerated() where s.utf8CodeUnitCount > 0 && String(describing: s) == name { return Int32(i) }
        for (i, s) in kernelTable.enumerated() where s.utf8CodeUnitCount > 0 && String(describing: s) == name { return Int32(512 + i) }
        return nil
    }

    /// Appends the name, or `ERRNO_<n>` for a number without one.
    public static func appendName(_ errno: Int32, into out: inout OutputBuffer) {
        if let s = staticName(errno) {
            out.append(s)
        } else {
            out.append("ERRNO_")
            out.appendDecimal(Int64(errno))
        }
    }
}
