/* nstrace_abi.h - the wire format between the BPF programs (bpf/nstrace.bpf.c) and
 * user space (Swift, through the NstraceABI module). Plain fixed-width C types only:
 * no enums, no bitfields, no implicit padding. Every change here is a format change:
 * bump NST_ABI_VERSION, update Tests/NstraceCoreTests/ABILayoutTests.swift and docs/.
 */
#ifndef NSTRACE_ABI_H
#define NSTRACE_ABI_H

#ifndef __BPF__
#include <linux/types.h>   /* __u8 .. __u64; the BPF build has them from bpf/vmlinux_min.h */
#endif

#define NST_ABI_VERSION 4   /* 3: mount-family records end in struct nst_paths; 4: string events
                               * travel packed in the ring (NST_F_PACKED), files hold the records of 3 */

/* ---- event types (nst_event.type) ---------------------------------------------------- */
#define NST_EV_UNSHARE        1
#define NST_EV_SETNS          2
#define NST_EV_CLONE          3
#define NST_EV_CLONE3         4
#define NST_EV_MOUNT          5
#define NST_EV_UMOUNT         6
#define NST_EV_PIVOT_ROOT     7
#define NST_EV_FSOPEN         8
#define NST_EV_FSCONFIG       9
#define NST_EV_FSMOUNT       10
#define NST_EV_MOVE_MOUNT    11
#define NST_EV_OPEN_TREE     12
#define NST_EV_MOUNT_SETATTR 13
/* Not syscalls: what the kernel side tells user space so it can attribute events to containers. */
#define NST_EV_EXEC          14  /* exec inside a container runtime's process tree */
#define NST_EV_CGROUP_MKDIR  15  /* a cgroup v2 directory was created */
#define NST_EV_MAX           15

/* ---- namespace slots (nst_event.ns[], ns_before[]) ----------------------------------- *
 * The first eight are what /proc/PID/ns/<name> shows for the task. pid and time are
 * the task's *own* namespaces, which unshare(CLONE_NEWPID|CLONE_NEWTIME) does not change:
 * it changes the ones its children get, /proc/PID/ns/pid_for_children and
 * time_for_children, kept in the last two slots. */
#define NST_NS_MNT        0
#define NST_NS_NET        1
#define NST_NS_PID        2
#define NST_NS_UTS        3
#define NST_NS_IPC        4
#define NST_NS_USER       5
#define NST_NS_CGROUP     6
#define NST_NS_TIME       7
#define NST_NS_PID_CHILD  8
#define NST_NS_TIME_CHILD 9
#define NST_NS_SLOTS     10

/* ---- strings carried by string events (mount & co) ------------------------------------ */
#define NST_STR_SLOTS 4
#define NST_STR_LEN   512   /* bytes per slot, NUL included; longer strings are cut and flagged.
                             * A NULL pointer leaves str_len 0 with no flag; an unreadable
                             * pointer sets NST_F_STRn_FAULT. */
#define NST_COMM_LEN  16

/* nst_event.flags bits */
#define NST_F_STR0_TRUNC   (1u << 0)   /* string slot 0 was cut (likewise 1..3) */
#define NST_F_STR1_TRUNC   (1u << 1)
#define NST_F_STR2_TRUNC   (1u << 2)
#define NST_F_STR3_TRUNC   (1u << 3)
#define NST_F_NS_BEFORE    (1u << 4)   /* ns_before[] is filled (unshare, setns, clone*) */
#define NST_F_STR0_FAULT   (1u << 8)   /* string slot 0 could not be read (bad pointer) */
#define NST_F_STR1_FAULT   (1u << 9)
#define NST_F_STR2_FAULT   (1u << 10)
#define NST_F_STR3_FAULT   (1u << 11)
#define NST_F_CHILD_NS     (1u << 12)  /* clone*: ns[] holds the child's namespaces (read at fork) */
#define NST_F_PACKED       (1u << 13)  /* ring record: the strings follow the header back to back
                                        * (slot i at 256 + str_len[0] + .. + str_len[i-1], no NULs),
                                        * size = 256 + their sum; a record with paths
                                        * (nst_event_has_paths) then has nst_paths' 8-byte head
                                        * (len, flags, _pad) and path[0], path[1] back to back
                                        * (len[0] + len[1] bytes). User space unpacks it into the
                                        * fixed layout (nst_strings, nst_paths) and clears the flag */

/* ---- per-type meaning of args[] (raw syscall arguments, in call order) -------------------
 * and of aux[] (values derived in the kernel), and of the string slots str[0..3]:
 *   unshare        args: flags
 *   setns          args: fd, nstype
 *                  aux[0] type of the namespace the fd refers to (CLONE_NEW*), or for a pidfd
 *                         the nstype bits; aux[1] that namespace's inode (0 for a pidfd);
 *                  aux[2] for a pidfd the target's host pid; aux[3] 1 if fd was a pidfd
 *   clone          args: flags, newsp, parent_tid, child_tid, tls
 *   clone3         args: uargs, size; aux[0] clone_args.flags, aux[1] exit_signal
 *     clone*:      aux[2] child's host pid (= ret in the caller's pid namespace only when
 *                  that is the initial one); ns[] holds the *child's* namespaces and
 *                  ns_before[] the caller's
 *   mount          args: source, target, fstype, flags, data; str: source, target, fstype, data
 *   umount         args: target, flags;                   str: target
 *   pivot_root     args: new_root, put_old;               str: new_root, put_old
 *   fsopen         args: fsname, flags;                   str: fsname
 *   fsconfig       args: fd, cmd, key, value, aux;        str: key, value (string/path cmds)
 *   fsmount        args: fs_fd, flags, attr_flags
 *   move_mount     args: from_dfd, from_path, to_dfd, to_path, flags; str: from_path, to_path
 *   open_tree      args: dfd, filename, flags;            str: filename
 *   mount_setattr  args: dfd, path, flags, uattr, usize;  str: path
 *                  aux: attr_set, attr_clr, propagation, userns_fd (from struct mount_attr)
 *   exec           str: filename, argv (NUL-separated, as in /proc/PID/cmdline), and when argv
 *                  was cut (NST_F_STR1_TRUNC) its last 511 bytes (slot 2: the first
 *                  argument there may be cut, the last is whole)
 *                  aux[0] the lineage the task was in before (0: none); aux[1] 1 if the new
 *                  program is a container runtime (it becomes its own lineage root), 0 if it
 *                  is what the runtime started (the container's entrypoint: lineage ends)
 *   cgroup_mkdir   str: path below the cgroup2 root; aux[0] cgroup id; aux[1] hierarchy id
 */

/* ---- string slots: the one table of which args[] pointer fills str[slot] ----------------
 * Used by bpf/ (which pointer to read) and by user space (to tell a NULL pointer from an
 * empty string; Swift's slot names are checked against it by ABILayoutTests).
 * Returns the args[] index, or -1 when the slot is unused or (exec, cgroup_mkdir) filled by
 * the kernel side from elsewhere. fsconfig reads key only for the commands that have one
 * (cmd <= FSCONFIG_SET_FD) and value only for the string and path commands. */
static inline int nst_string_slot_arg(__u16 type, int slot)
{
    if (slot < 0 || slot >= NST_STR_SLOTS)
        return -1;
    switch (type) {
    case NST_EV_MOUNT:         return slot == 3 ? 4 : slot;                  /* source, target, fstype, data */
    case NST_EV_UMOUNT:        return slot == 0 ? 0 : -1;                    /* target */
    case NST_EV_PIVOT_ROOT:    return slot <= 1 ? slot : -1;                 /* new_root, put_old */
    case NST_EV_FSOPEN:        return slot == 0 ? 0 : -1;                    /* fsname */
    case NST_EV_FSCONFIG:      return slot == 0 ? 2 : slot == 1 ? 3 : -1;    /* key, value */
    case NST_EV_MOVE_MOUNT:    return slot == 0 ? 1 : slot == 1 ? 3 : -1;    /* from_path, to_path */
    case NST_EV_OPEN_TREE:     return slot == 0 ? 1 : -1;                    /* filename */
    case NST_EV_MOUNT_SETATTR: return slot == 0 ? 1 : -1;                    /* path */
    default:                   return -1;
    }
}

/* One event. Records of string events (nst_event_has_strings) are followed by
 * struct nst_strings; nst_event.size is always the size of the whole record.
 * In the ring buffer a string event is packed instead (NST_F_PACKED): a record is only as
 * long as its strings, not 2304 bytes. */
struct nst_event {
    __u64 ts_ns;        /* bpf_ktime_get_boot_ns() at syscall exit */
    __u64 latency_ns;   /* exit - enter */
    __u64 cgroup_id;    /* bpf_get_current_cgroup_id(): cgroup v2 inode */
    __s64 ret;          /* syscall return value; -errno on failure */
    __u64 args[6];
    __u64 aux[4];
    __u32 pid;          /* host tgid */
    __u32 tid;          /* host tid */
    __u32 ppid;         /* host tgid of real_parent */
    __u32 ns_pid;       /* tgid as seen in the task's own pid namespace */
    __u32 uid;
    __u32 gid;
    __u32 ns[NST_NS_SLOTS];         /* inodes after the call */
    __u32 ns_before[NST_NS_SLOTS];  /* inodes before the call, valid with NST_F_NS_BEFORE */
    __u32 flags;        /* NST_F_* */
    __u16 type;         /* NST_EV_* */
    __u16 size;         /* bytes of the whole record */
    __u16 str_len[NST_STR_SLOTS];   /* bytes in each string slot, NUL excluded */
    __u32 cpu;
    __u32 lineage;      /* tgid of the container-runtime process whose tree this task is in, 0 if none */
    __u8  comm[NST_COMM_LEN];
};                      /* 256 bytes */

struct nst_strings {
    __u8 str[NST_STR_SLOTS][NST_STR_LEN];
};

/* ---- paths named through a descriptor, resolved in the kernel (ABI 3) ------------------
 * The records of mount, umount, pivot_root, move_mount, open_tree and mount_setattr
 * (nst_event_has_paths) end in struct nst_paths, after struct nst_strings. At syscall entry
 * the BPF side resolves what a path argument names through a descriptor to a path up to the
 * task's root, walking dentries and mounts (at most NST_PATH_DEPTH steps):
 *   path[0]  mount: source given as /proc/self/fd/N or /proc/thread-self/fd/N
 *            pivot_root: new_root; move_mount: from (from_dfd, from_path); open_tree: (dfd, filename)
 *   path[1]  mount and umount: target; pivot_root: put_old; move_mount: to (to_dfd, to_path);
 *            mount_setattr: (dfd, path)
 * What is resolved: for /proc/self/fd/N and /proc/thread-self/fd/N, the file of fd N; for a
 * relative path (also ""), the directory it is relative to: the dfd argument, or the cwd
 * (AT_FDCWD, and always for mount/umount/pivot_root). Absolute paths are not resolved. User
 * space joins a relative path to its resolved directory. */
#define NST_PATH_LEN   512   /* bytes per path, NUL included */
#define NST_PATH_DEPTH  40   /* dentries and mount crossings walked at most */

/* nst_paths.flags: 4 bits per path i (NST_P_x << 4*i) */
#define NST_P_RESOLVED  (1u << 0)  /* path[i] holds the resolved path */
#define NST_P_TRUNC     (1u << 1)  /* deeper or longer than the bounds: path[i] holds its last part */
#define NST_P_FAIL      (1u << 2)  /* the descriptor could not be resolved (bad fd, no memory) */
#define NST_P_DETACHED  (1u << 3)  /* the walk ended at a mount tree's root that is not the task's
                                    * root: a detached mount (fsmount, open_tree) or outside it */

struct nst_paths {
    __u16 len[2];       /* bytes in path[i], NUL excluded; 0 unless NST_P_RESOLVED */
    __u16 flags;        /* NST_P_* per path */
    __u16 _pad;
    __u8  path[2][NST_PATH_LEN];
};

static inline int nst_event_has_paths(__u16 type)
{
    return type == NST_EV_MOUNT || type == NST_EV_UMOUNT || type == NST_EV_PIVOT_ROOT ||
           type == NST_EV_MOVE_MOUNT || type == NST_EV_OPEN_TREE || type == NST_EV_MOUNT_SETATTR;
}

/* Counters in the per-CPU array map "stats" (index -> meaning). */
#define NST_STAT_LOST_RINGBUF   0  /* bpf_ringbuf_reserve failed: event dropped */
#define NST_STAT_LOST_PENDING   1  /* enter record could not be stored: event dropped */
#define NST_STAT_EVENTS         2  /* events submitted */
#define NST_STAT_SLOTS          4

static inline int nst_event_has_strings(__u16 type)
{
    return type == NST_EV_MOUNT || type == NST_EV_UMOUNT || type == NST_EV_PIVOT_ROOT ||
           type == NST_EV_FSOPEN || type == NST_EV_FSCONFIG || type == NST_EV_MOVE_MOUNT ||
           type == NST_EV_OPEN_TREE || type == NST_EV_MOUNT_SETATTR || type == NST_EV_EXEC ||
           type == NST_EV_CGROUP_MKDIR;
}

#ifndef __BPF__
_Static_assert(sizeof(struct nst_event) == 256, "nst_event layout changed: bump NST_ABI_VERSION");
_Static_assert(sizeof(struct nst_strings) == NST_STR_SLOTS * NST_STR_LEN, "nst_strings layout");
_Static_assert(sizeof(struct nst_paths) == 8 + 2 * NST_PATH_LEN, "nst_paths layout");
#endif

#endif /* NSTRACE_ABI_H */
