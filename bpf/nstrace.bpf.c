// SPDX-License-Identifier: GPL-2.0
/* nstrace.bpf.c - namespace and mount syscalls, enter to exit, into one ring buffer.
 *
 * Each traced syscall has an enter program that remembers the arguments (and, for the
 * namespace calls, the namespaces before the call) per thread, and an exit program that
 * builds one struct nst_event (nstrace_abi.h) with the result and submits it.
 * Strings are read at exit: the kernel has faulted the user pages in by then.
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "nstrace_abi.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by user space before load. */
const volatile __u32 self_tgid = 0;          /* never trace the tracer itself */
const volatile __u64 wakeup_bytes = 1 << 20; /* wake the consumer once this much is pending */

#define CLONE_NEWTIME   0x00000080ULL
#define CLONE_NEWNS     0x00020000ULL
#define CLONE_NEWCGROUP 0x02000000ULL
#define CLONE_NEWUTS    0x04000000ULL
#define CLONE_NEWIPC    0x08000000ULL
#define CLONE_NEWUSER   0x10000000ULL
#define CLONE_NEWPID    0x20000000ULL
#define CLONE_NEWNET    0x40000000ULL
#define CLONE_NEW_ANY   (CLONE_NEWTIME | CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | \
                         CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)
#define CLONE_THREAD    0x00010000ULL

#define NSFS_MAGIC           0x6e736673
#define PIDFS_MAGIC          0x50494446
#define ANON_INODE_FS_MAGIC  0x09041934

#define FSCONFIG_SET_FLAG       0
#define FSCONFIG_SET_STRING     1
#define FSCONFIG_SET_BINARY     2
#define FSCONFIG_SET_PATH       3
#define FSCONFIG_SET_PATH_EMPTY 4
#define FSCONFIG_SET_FD         5

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 8 << 20); /* resized by user space (--ring-size) */
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, NST_STAT_SLOTS);
    __type(key, __u32);
    __type(value, __u64);
} stats SEC(".maps");

/* What the enter program leaves for the exit program of the same thread. */
struct pending {
    __u64 ts_ns;
    __u64 nsproxy;  /* the task's nsproxy and cred at enter: unchanged at exit means */
    __u64 cred;     /* unchanged namespaces, and the ~12 reads of them can be skipped */
    __u64 args[6];
    __u64 aux[4];
    __u32 ns_before[NST_NS_SLOTS];
    __u32 child_ns[NST_NS_SLOTS];
    __u32 flags;
    __u16 type;
    __u16 paths_kept; /* resolve_paths() put an entry in pending_paths: only then does exit look */
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, __u32);            /* tid */
    __type(value, struct pending);
} pending SEC(".maps");

/* Container-runtime process trees, followed in the kernel so that only they reach user space:
 * tgid -> the tgid of the runtime process (runc, crun, a shim, conmon) whose tree it is in. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, __u32);
    __type(value, __u32);
} runtime_tree SEC(".maps");

/* struct pending is too large to build comfortably on the 512-byte BPF stack. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct pending);
} pending_scratch SEC(".maps");

static __always_inline void count(__u32 slot)
{
    __u64 *v = bpf_map_lookup_elem(&stats, &slot);
    if (v)
        *v += 1;
}

/* ---- namespaces ------------------------------------------------------------------------ */

static __always_inline __u32 pid_ns_inum(struct pid *p)
{
    unsigned int level = p->level; /* p: a BTF pointer */
    return BPF_CORE_READ(p, numbers[level].ns, ns.inum);
}

/* The namespace slots whose inode a CLONE_NEW* set can change (unshare's flags, setns's type). */
#define NS_SLOT_BIT(slot) (1u << (slot))
static __always_inline __u32 ns_slots_of(__u64 clone_flags)
{
    __u32 m = 0;
    if (clone_flags & CLONE_NEWNS)     m |= NS_SLOT_BIT(NST_NS_MNT);
    if (clone_flags & CLONE_NEWNET)    m |= NS_SLOT_BIT(NST_NS_NET);
    if (clone_flags & CLONE_NEWUTS)    m |= NS_SLOT_BIT(NST_NS_UTS);
    if (clone_flags & CLONE_NEWIPC)    m |= NS_SLOT_BIT(NST_NS_IPC);
    if (clone_flags & CLONE_NEWUSER)   m |= NS_SLOT_BIT(NST_NS_USER);
    if (clone_flags & CLONE_NEWCGROUP) m |= NS_SLOT_BIT(NST_NS_CGROUP);
    if (clone_flags & CLONE_NEWPID)    m |= NS_SLOT_BIT(NST_NS_PID_CHILD);
    if (clone_flags & CLONE_NEWTIME)   m |= NS_SLOT_BIT(NST_NS_TIME) | NS_SLOT_BIT(NST_NS_TIME_CHILD);
    return m;
}
#define NS_ALL_SLOTS ((1u << NST_NS_SLOTS) - 1)

/* The task's namespace inodes, of the slots in `mask`. `t` is a BTF pointer (the current
 * task, or the child of tp_btf/sched_process_fork): its fields are plain loads the verifier
 * guards (a NULL nsproxy reads as 0), not a bpf_probe_read_kernel call per pointer; only the
 * pid namespace, at a variable array index, needs the helper. Not inlined: the compiler would
 * merge its last load with a map-value load of the caller, which the verifier refuses. */
static __noinline void read_namespaces_of(struct task_struct *t, __u32 *ns, __u32 mask)
{
    struct nsproxy *np = t->nsproxy;

    if (mask & NS_SLOT_BIT(NST_NS_USER))
        ns[NST_NS_USER] = t->cred->user_ns->ns.inum;
    if (mask & NS_SLOT_BIT(NST_NS_PID))
        ns[NST_NS_PID] = pid_ns_inum(t->thread_pid);
    if (!np) /* an exiting task has dropped its nsproxy */
        return;
    if (mask & NS_SLOT_BIT(NST_NS_MNT))
        ns[NST_NS_MNT] = np->mnt_ns->ns.inum;
    if (mask & NS_SLOT_BIT(NST_NS_NET))
        ns[NST_NS_NET] = np->net_ns->ns.inum;
    if (mask & NS_SLOT_BIT(NST_NS_UTS))
        ns[NST_NS_UTS] = np->uts_ns->ns.inum;
    if (mask & NS_SLOT_BIT(NST_NS_IPC))
        ns[NST_NS_IPC] = np->ipc_ns->ns.inum;
    if (mask & NS_SLOT_BIT(NST_NS_CGROUP))
        ns[NST_NS_CGROUP] = np->cgroup_ns->ns.inum;
    if (mask & NS_SLOT_BIT(NST_NS_PID_CHILD))
        ns[NST_NS_PID_CHILD] = np->pid_ns_for_children->ns.inum;
    if (bpf_core_field_exists(np->time_ns)) { /* time namespaces: Linux 5.6 */
        if (mask & NS_SLOT_BIT(NST_NS_TIME))
            ns[NST_NS_TIME] = np->time_ns->ns.inum;
        if (mask & NS_SLOT_BIT(NST_NS_TIME_CHILD))
            ns[NST_NS_TIME_CHILD] = np->time_ns_for_children->ns.inum;
    }
}

static __always_inline void read_namespaces(struct task_struct *t, __u32 *ns)
{
    read_namespaces_of(t, ns, NS_ALL_SLOTS);
}

/* The CLONE_NEW* type of a namespace: a field of ns_common since 6.18, of its ops before. */
static __always_inline __u32 ns_common_type(struct ns_common *nc)
{
    struct ns_common___new *n = (void *)nc;
    if (bpf_core_field_exists(n->ns_type))
        return BPF_CORE_READ(n, ns_type);
    struct proc_ns_operations___old *ops = (void *)BPF_CORE_READ(nc, ops);
    return BPF_CORE_READ(ops, type);
}

/* setns(fd, ...): which namespace (nsfs file) or which process (pidfd) fd refers to. */
static __always_inline void resolve_setns_fd(struct task_struct *t, __u64 fd, struct pending *p)
{
    struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
    if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
        return;
    struct file **fds = BPF_CORE_READ(fdt, fd);
    struct file *f = NULL;
    bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xffffff]);
    if (!f)
        return;
    struct inode *ino = BPF_CORE_READ(f, f_inode);
    unsigned long magic = BPF_CORE_READ(ino, i_sb, s_magic);
    if (magic == NSFS_MAGIC) {
        p->aux[0] = ns_common_type(BPF_CORE_READ(ino, i_private));
        p->aux[1] = BPF_CORE_READ(ino, i_ino);
    } else if (magic == PIDFS_MAGIC || magic == ANON_INODE_FS_MAGIC) {
        /* a pidfd: its struct pid hangs off the pidfs inode (6.9+), or off the file before */
        struct pid *target = magic == PIDFS_MAGIC ? BPF_CORE_READ(ino, i_private)
                                                  : BPF_CORE_READ(f, private_data);
        p->aux[0] = p->args[1]; /* nstype: the set of namespaces to join */
        p->aux[2] = BPF_CORE_READ(target, numbers[0].nr);
        p->aux[3] = 1;
    }
}

/* ---- paths named through descriptors ---------------------------------------------------- */

#define AT_FDCWD (-100)

/* The resolved paths of a mount-family call, from its enter to its exit, per thread. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, __u32);            /* tid */
    __type(value, struct nst_paths);
} pending_paths SEC(".maps");

/* Where a path is built, from its end backwards, before it is copied to its slot; and the
 * nst_paths being filled (too large for the stack). */
struct path_scratch {
    char buf[2 * NST_PATH_LEN];
    struct nst_paths paths;
    struct dentry *root_d;      /* the task's root: where the walk stops */
    struct vfsmount *root_vm;
    struct dentry *d;           /* the walk's position (walk_step) */
    struct vfsmount *vm;
    struct mount *m;
    __u64 off;                  /* the path built so far is buf[off, NST_PATH_LEN - 1) */
    __u16 walk_flags;
    __u16 done;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct path_scratch);
} path_scratch SEC(".maps");

static __always_inline struct mount *real_mount(struct vfsmount *vm)
{
    return (void *)vm - bpf_core_field_offset(struct mount, mnt);
}

/* One dentry up, or one mount crossing. A bpf_loop() callback: its state lives in the map
 * value, not on the stack, so the verifier sees no per-step values and checks it once. */
static long walk_step(__u32 k, void *ctx)
{
    __u32 zero = 0;
    struct path_scratch *sc = bpf_map_lookup_elem(&path_scratch, &zero);
    if (!sc)
        return 1;
    struct dentry *d = sc->d;
    struct vfsmount *vm = sc->vm;
    struct mount *m = sc->m;
    if (d == sc->root_d && vm == sc->root_vm) {
        sc->done = 1;
        return 1;
    }
    struct dentry *mnt_root = BPF_CORE_READ(vm, mnt_root);
    struct dentry *parent = BPF_CORE_READ(d, d_parent);
    if (d == mnt_root || d == parent) {
        struct mount *mp = BPF_CORE_READ(m, mnt_parent);
        if (d != mnt_root || mp == m || !mp) {
            sc->walk_flags |= NST_P_DETACHED; /* the top of a mount tree that is not the task's root */
            sc->done = 1;
            return 1;
        }
        sc->d = BPF_CORE_READ(m, mnt_mountpoint);
        sc->m = mp;
        sc->vm = (void *)mp + bpf_core_field_offset(struct mount, mnt);
        return 0;
    }
    __u64 len = BPF_CORE_READ(d, d_name.len);
    const unsigned char *name = BPF_CORE_READ(d, d_name.name);
    __u64 off = sc->off;
    if (len + 1 > off || len >= NST_PATH_LEN) {
        sc->walk_flags |= NST_P_TRUNC;
        sc->done = 1;
        return 1;
    }
    off -= len + 1;
    /* masks on the final indexes: the verifier must see every access inside buf */
    bpf_probe_read_kernel(&sc->buf[(off + 1) & (NST_PATH_LEN - 1)], len & (NST_PATH_LEN - 1), name);
    sc->buf[off & (NST_PATH_LEN - 1)] = '/';
    sc->off = off;
    sc->d = parent;
    return 0;
}

/* d_path() for BPF: from (dentry, vfsmount) up to the task's root, crossing mount points, at
 * most NST_PATH_DEPTH steps. Names are written backwards into sc->buf, then copied to
 * sc->paths.path[i]. */
static __noinline int walk_path(struct path_scratch *sc, int i, struct dentry *d, struct vfsmount *vm)
{
    if (!sc)
        return 0;
    sc->d = d;
    sc->vm = vm;
    sc->m = real_mount(vm);
    sc->off = NST_PATH_LEN - 1;
    sc->walk_flags = NST_P_RESOLVED;
    sc->done = 0;
    bpf_loop(NST_PATH_DEPTH, walk_step, NULL, 0);
    __u16 flags = sc->walk_flags;
    if (!sc->done)
        flags |= NST_P_TRUNC;
    __u64 off = sc->off;
    if (off >= NST_PATH_LEN - 1) { /* the root itself */
        off = NST_PATH_LEN - 2;
        sc->buf[off] = '/';
    }
    __u32 n = (NST_PATH_LEN - 1 - off) & (NST_PATH_LEN - 1);
    if (i == 0)
        bpf_probe_read_kernel(sc->paths.path[0], n, &sc->buf[off & (NST_PATH_LEN - 1)]);
    else
        bpf_probe_read_kernel(sc->paths.path[1], n, &sc->buf[off & (NST_PATH_LEN - 1)]);
    sc->paths.len[i & 1] = n;
    sc->paths.flags |= flags << (4 * (i & 1));
    return 0;
}

static __always_inline struct file *fd_file(struct task_struct *t, __u64 fd)
{
    struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
    if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
        return NULL;
    struct file **fds = BPF_CORE_READ(fdt, fd);
    struct file *f = NULL;
    bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xffffff]);
    return f;
}

/* "/proc/self/fd/N" or "/proc/thread-self/fd/N" -> N; -1 for any other string. */
static __always_inline long proc_fd_number(const char *s, long n)
{
    const char self[] = "/proc/self/fd/";
    const char thread[] = "/proc/thread-self/fd/";
    int start = sizeof(self) - 1;
#pragma unroll
    for (int j = 0; j < sizeof(self) - 1; j++)
        if (s[j] != self[j])
            start = 0;
    if (!start) {
        start = sizeof(thread) - 1;
#pragma unroll
        for (int j = 0; j < sizeof(thread) - 1; j++)
            if (s[j] != thread[j])
                start = 0;
    }
    if (!start)
        return -1;
    long fd = 0;
    int digits = 0;
#pragma unroll
    for (int j = 0; j < 8; j++) {
        char c = s[(start + j) & 31];
        if (c == 0)
            break;
        if (c < '0' || c > '9')
            return -1;
        fd = fd * 10 + (c - '0');
        digits++;
    }
    if (!digits || s[(start + digits) & 31] != 0)
        return -1;
    return fd;
}

/* Resolve what path argument `uptr` (relative to `dfd`) names through a descriptor into
 * sc->paths.path[i]. `relative`: also resolve the directory of a relative path. */
static __always_inline void resolve_arg(struct path_scratch *sc, struct task_struct *t, int i,
                                        long dfd, __u64 uptr, bool relative)
{
    char s[32] = {};
    if (!uptr)
        return;
    long n = bpf_probe_read_user_str(s, sizeof(s), (void *)uptr);
    if (n < 0)
        return;
    struct dentry *d = NULL;
    struct vfsmount *vm = NULL;
    if (s[0] == '/') {
        long fd = proc_fd_number(s, n);
        if (fd < 0)
            return; /* an absolute path says where it is itself */
        dfd = fd;
    } else if (!relative) {
        return;
    }
    if (dfd == AT_FDCWD) {
        d = BPF_CORE_READ(t, fs, pwd.dentry);
        vm = BPF_CORE_READ(t, fs, pwd.mnt);
    } else {
        struct file *f = dfd >= 0 ? fd_file(t, dfd) : NULL;
        if (!f) {
            sc->paths.flags |= NST_P_FAIL << (4 * (i & 1));
            return;
        }
        d = BPF_CORE_READ(f, f_path.dentry);
        vm = BPF_CORE_READ(f, f_path.mnt);
    }
    if (!d || !vm) {
        sc->paths.flags |= NST_P_FAIL << (4 * (i & 1));
        return;
    }
    walk_path(sc, i, d, vm);
}

/* At entry of a mount-family call: resolve its descriptor-named paths and keep them for exit. */
static __always_inline void resolve_paths(struct pending *p)
{
    __u32 zero = 0;
    struct path_scratch *sc = bpf_map_lookup_elem(&path_scratch, &zero);
    if (!sc)
        return;
    sc->paths.len[0] = 0;
    sc->paths.len[1] = 0;
    sc->paths.flags = 0;
    sc->paths._pad = 0;
    struct task_struct *t = (void *)bpf_get_current_task();
    sc->root_d = BPF_CORE_READ(t, fs, root.dentry);
    sc->root_vm = BPF_CORE_READ(t, fs, root.mnt);
    __u64 *a = p->args;
    switch (p->type) {
    case NST_EV_MOUNT:
        resolve_arg(sc, t, 0, AT_FDCWD, a[0], false); /* a relative source is a device name */
        resolve_arg(sc, t, 1, AT_FDCWD, a[1], true);
        break;
    case NST_EV_UMOUNT:
        resolve_arg(sc, t, 1, AT_FDCWD, a[0], true);
        break;
    case NST_EV_PIVOT_ROOT:
        resolve_arg(sc, t, 0, AT_FDCWD, a[0], true);
        resolve_arg(sc, t, 1, AT_FDCWD, a[1], true);
        break;
    case NST_EV_MOVE_MOUNT:
        resolve_arg(sc, t, 0, (int)a[0], a[1], true);
        resolve_arg(sc, t, 1, (int)a[2], a[3], true);
        break;
    case NST_EV_OPEN_TREE:
        resolve_arg(sc, t, 0, (int)a[0], a[1], true);
        break;
    case NST_EV_MOUNT_SETATTR:
        resolve_arg(sc, t, 1, (int)a[0], a[1], true);
        break;
    }
    if (!sc->paths.flags)
        return;
    __u32 tid = (__u32)bpf_get_current_pid_tgid();
    if (bpf_map_update_elem(&pending_paths, &tid, &sc->paths, BPF_ANY))
        count(NST_STAT_LOST_PENDING);
    else
        p->paths_kept = 1;
}

/* ---- enter ------------------------------------------------------------------------------ */

/* Copies only the syscall's own nargs arguments: a tracepoint program may not read past the
 * end of its record (the kernel refuses to attach it, EACCES), and unshare's has one. */
static __always_inline struct pending *pending_start(__u16 type, struct trace_event_raw_sys_enter *ctx,
                                                     const int nargs)
{
    __u32 zero = 0;
    struct pending *p = bpf_map_lookup_elem(&pending_scratch, &zero);
    if (!p)
        return NULL;
    __builtin_memset(p, 0, sizeof(*p));
    p->ts_ns = bpf_ktime_get_boot_ns();
    p->type = type;
#pragma unroll
    for (int i = 0; i < 6; i++)
        if (i < nargs)
            p->args[i] = ctx->args[i];
    return p;
}

static __always_inline int pending_store(struct pending *p)
{
    __u32 tid = (__u32)bpf_get_current_pid_tgid();
    if (bpf_map_update_elem(&pending, &tid, p, BPF_ANY)) {
        count(NST_STAT_LOST_PENDING);
        /* no exit will read the paths kept for this call: do not leave them behind */
        if (p->paths_kept)
            bpf_map_delete_elem(&pending_paths, &tid);
    }
    return 0;
}

static __always_inline bool is_self(void)
{
    return (bpf_get_current_pid_tgid() >> 32) == self_tgid;
}

static __always_inline int enter_plain(__u16 type, struct trace_event_raw_sys_enter *ctx, const int nargs)
{
    if (is_self())
        return 0;
    struct pending *p = pending_start(type, ctx, nargs);
    return p ? pending_store(p) : 0;
}

/* mount, umount, pivot_root, move_mount, open_tree: also the paths named through descriptors. */
static __always_inline int enter_paths(__u16 type, struct trace_event_raw_sys_enter *ctx, const int nargs)
{
    if (is_self())
        return 0;
    struct pending *p = pending_start(type, ctx, nargs);
    if (!p)
        return 0;
    resolve_paths(p);
    return pending_store(p);
}

/* unshare, setns and clone with CLONE_NEW*: also the namespaces before the call. */
static __always_inline int enter_ns(__u16 type, struct trace_event_raw_sys_enter *ctx, const int nargs)
{
    if (is_self())
        return 0;
    struct pending *p = pending_start(type, ctx, nargs);
    if (!p)
        return 0;
    struct task_struct *t = bpf_get_current_task_btf();
    read_namespaces(t, p->ns_before);
    p->nsproxy = (__u64)t->nsproxy;
    p->cred = (__u64)t->cred;
    p->flags = NST_F_NS_BEFORE;
    if (type == NST_EV_SETNS)
        resolve_setns_fd(t, p->args[0], p);
    return pending_store(p);
}

SEC("tracepoint/syscalls/sys_enter_unshare")
int enter_unshare(struct trace_event_raw_sys_enter *ctx) { return enter_ns(NST_EV_UNSHARE, ctx, 1); }

SEC("tracepoint/syscalls/sys_enter_setns")
int enter_setns(struct trace_event_raw_sys_enter *ctx) { return enter_ns(NST_EV_SETNS, ctx, 2); }

/* Plain fork and thread creation are no events: leave them before touching any map. */
SEC("tracepoint/syscalls/sys_enter_clone")
int enter_clone(struct trace_event_raw_sys_enter *ctx)
{
    if (!(ctx->args[0] & CLONE_NEW_ANY))
        return 0;
    return enter_ns(NST_EV_CLONE, ctx, 5);
}

SEC("tracepoint/syscalls/sys_enter_clone3")
int enter_clone3(struct trace_event_raw_sys_enter *ctx)
{
    struct clone_args_user *ua = (void *)ctx->args[0];
    __u64 flags = 0;
    if (bpf_probe_read_user(&flags, sizeof(flags), &ua->flags) || !(flags & CLONE_NEW_ANY))
        return 0;
    if (is_self())
        return 0;
    struct pending *p = pending_start(NST_EV_CLONE3, ctx, 2);
    if (!p)
        return 0;
    read_namespaces(bpf_get_current_task_btf(), p->ns_before);
    p->flags = NST_F_NS_BEFORE;
    p->aux[0] = flags;
    bpf_probe_read_user(&p->aux[1], sizeof(__u64), &ua->exit_signal);
    return pending_store(p);
}

/* The child's namespaces exist only between copy_process() and the parent's return: read
 * them here, in the parent's context, for a clone the enter program found interesting. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __u32 tid = (__u32)pid_tgid, tgid = pid_tgid >> 32;
    __u32 child_tgid = BPF_CORE_READ(child, tgid);

    /* a new process of a runtime's tree stays in it (threads share their tgid's entry) */
    if (child_tgid != tgid) {
        __u32 *root = bpf_map_lookup_elem(&runtime_tree, &tgid);
        if (root) {
            __u32 r = *root;
            bpf_map_update_elem(&runtime_tree, &child_tgid, &r, BPF_ANY);
        }
    }

    struct pending *p = bpf_map_lookup_elem(&pending, &tid);
    if (!p || (p->type != NST_EV_CLONE && p->type != NST_EV_CLONE3))
        return 0;
    p->aux[2] = BPF_CORE_READ(child, pid);
    read_namespaces(child, p->child_ns);
    p->flags |= NST_F_CHILD_NS;
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_mount")
int enter_mount(struct trace_event_raw_sys_enter *ctx) { return enter_paths(NST_EV_MOUNT, ctx, 5); }

SEC("tracepoint/syscalls/sys_enter_umount")
int enter_umount(struct trace_event_raw_sys_enter *ctx) { return enter_paths(NST_EV_UMOUNT, ctx, 2); }

SEC("tracepoint/syscalls/sys_enter_pivot_root")
int enter_pivot_root(struct trace_event_raw_sys_enter *ctx) { return enter_paths(NST_EV_PIVOT_ROOT, ctx, 2); }

SEC("tracepoint/syscalls/sys_enter_fsopen")
int enter_fsopen(struct trace_event_raw_sys_enter *ctx) { return enter_plain(NST_EV_FSOPEN, ctx, 2); }

SEC("tracepoint/syscalls/sys_enter_fsconfig")
int enter_fsconfig(struct trace_event_raw_sys_enter *ctx) { return enter_plain(NST_EV_FSCONFIG, ctx, 5); }

SEC("tracepoint/syscalls/sys_enter_fsmount")
int enter_fsmount(struct trace_event_raw_sys_enter *ctx) { return enter_plain(NST_EV_FSMOUNT, ctx, 3); }

SEC("tracepoint/syscalls/sys_enter_move_mount")
int enter_move_mount(struct trace_event_raw_sys_enter *ctx) { return enter_paths(NST_EV_MOVE_MOUNT, ctx, 5); }

SEC("tracepoint/syscalls/sys_enter_open_tree")
int enter_open_tree(struct trace_event_raw_sys_enter *ctx) { return enter_paths(NST_EV_OPEN_TREE, ctx, 3); }

SEC("tracepoint/syscalls/sys_enter_mount_setattr")
int enter_mount_setattr(struct trace_event_raw_sys_enter *ctx)
{
    if (is_self())
        return 0;
    struct pending *p = pending_start(NST_EV_MOUNT_SETATTR, ctx, 5);
    if (!p)
        return 0;
    /* struct mount_attr is copied by the kernel at entry; read it now, before it changes */
    if (p->args[4] >= sizeof(struct mount_attr_user))
        bpf_probe_read_user(p->aux, sizeof(struct mount_attr_user), (void *)p->args[3]);
    resolve_paths(p);
    return pending_store(p);
}

/* ---- exit ------------------------------------------------------------------------------- */

/* A string event is built here, its strings (and a mount-family call's resolved paths) back to
 * back (NST_F_PACKED), and copied into the ring by bpf_ringbuf_output at its real length: a
 * mount's record is a few hundred bytes, not the 3336 a reservation of every slot's maximum
 * took. Packed content is at most 4 * 511 + 8 + 2 * 511 bytes; offsets are masked to below
 * NST_PACKED_MAX, and the slack slot keeps every write of at most NST_STR_LEN in bounds. */
#define NST_PACKED_MAX 4096
struct nst_record {
    struct nst_event ev;
    __u8 str[NST_PACKED_MAX + NST_STR_LEN];
    __u32 off;     /* bytes of strings so far */
};

/* One per CPU for the syscall exit programs, one for the scheduler/cgroup ones: a program of
 * one kind does not run nested in another of the same kind on a CPU. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, struct nst_record);
} record_scratch SEC(".maps");

#define SCRATCH_SYSCALL 0
#define SCRATCH_TASK    1

static __always_inline struct nst_record *record_start(__u32 which)
{
    struct nst_record *r = bpf_map_lookup_elem(&record_scratch, &which);
    if (!r)
        return NULL;
    /* the string bytes are never read past str_len: only the header needs clearing */
    __builtin_memset(&r->ev, 0, sizeof(r->ev));
    r->off = 0;
    return r;
}

/* Slot i's bytes were written at r->off: account for them (without the NUL). */
static __always_inline void str_done(struct nst_record *r, int i, long n)
{
    r->ev.str_len[i] = n;
    r->off += n;
}

/* The paths resolve_paths() kept at entry, packed after the strings: nst_paths' 8-byte head,
 * then path[0] and path[1] back to back (NST_F_PACKED). Nothing kept: a head of zeros, and no
 * map lookup or delete (the usual case: absolute paths name no descriptor). */
static __always_inline void fill_paths(struct nst_record *r, __u32 tid, bool kept)
{
    struct nst_paths *in = kept ? bpf_map_lookup_elem(&pending_paths, &tid) : NULL;
    struct { __u16 len[2]; __u16 flags; __u16 _pad; } head = {};
    __u32 off = r->off & (NST_PACKED_MAX - 1);
    __u32 at = (off + sizeof(head)) & (NST_PACKED_MAX - 1);
    if (in) {
        __u16 n0 = in->len[0] & (NST_PATH_LEN - 1), n1 = in->len[1] & (NST_PATH_LEN - 1);
        head.flags = in->flags;
        if (n0 && !bpf_probe_read_kernel(&r->str[at], n0, in->path[0])) {
            head.len[0] = n0;
            at = (at + n0) & (NST_PACKED_MAX - 1);
        }
        if (n1 && !bpf_probe_read_kernel(&r->str[at], n1, in->path[1]))
            head.len[1] = n1;
        bpf_map_delete_elem(&pending_paths, &tid);
    }
    __builtin_memcpy(&r->str[off], &head, sizeof(head));
    r->off += sizeof(head) + head.len[0] + head.len[1];
}

/* Read a user string into slot i; flag it cut when it did not fit, or unreadable. */
static __always_inline void read_str(struct nst_record *r, int i, __u64 uptr)
{
    if (!uptr)
        return;
    __u32 off = r->off & (NST_PACKED_MAX - 1);
    long n = bpf_probe_read_user_str(&r->str[off], NST_STR_LEN, (void *)uptr);
    if (n < 0) {
        r->ev.flags |= NST_F_STR0_FAULT << i;
        return;
    }
    if (n > 0)
        n -= 1; /* NUL */
    str_done(r, i, n);
    if (n == NST_STR_LEN - 1) {
        /* the buffer is full: cut, unless the string was exactly that long */
        char next = 0;
        bpf_probe_read_user(&next, 1, (void *)(uptr + NST_STR_LEN - 1));
        if (next)
            r->ev.flags |= NST_F_STR0_TRUNC << i;
    }
}

static __always_inline void fill_strings(struct nst_record *r, struct pending *p)
{
    __u64 *a = p->args;
    __u64 cmd = a[1];
#pragma unroll
    for (int slot = 0; slot < NST_STR_SLOTS; slot++) {
        int i = nst_string_slot_arg(p->type, slot);   /* the ABI header's table */
        if (i < 0 || i > 5)
            continue;
        if (p->type == NST_EV_FSCONFIG &&
            (slot == 0 ? cmd > FSCONFIG_SET_FD
                       : cmd != FSCONFIG_SET_STRING && cmd != FSCONFIG_SET_PATH && cmd != FSCONFIG_SET_PATH_EMPTY))
            continue;
        read_str(r, slot, a[i]);
    }
}

/* `t`: a BTF pointer to the current task (plain loads; the pid number at a variable index
 * needs the helper). Not inlined: see read_namespaces_of. */
static __noinline void fill_task(struct nst_event *e, struct task_struct *t)
{
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __u64 uid_gid = bpf_get_current_uid_gid();
    e->pid = pid_tgid >> 32;
    e->tid = (__u32)pid_tgid;
    e->uid = (__u32)uid_gid;
    e->gid = uid_gid >> 32;
    e->ppid = t->real_parent->tgid;
    struct pid *lp = t->group_leader->thread_pid;
    unsigned int level = lp->level;
    e->ns_pid = BPF_CORE_READ(lp, numbers[level].nr);
    e->cgroup_id = bpf_get_current_cgroup_id();
    e->cpu = bpf_get_smp_processor_id();
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    __u32 tgid = e->pid;
    __u32 *root = bpf_map_lookup_elem(&runtime_tree, &tgid);
    e->lineage = root ? *root : 0;
}

/* Wake the reader only when enough is pending: a wakeup per event costs ~2 us. */
static __always_inline __u64 wakeup_flag(void)
{
    return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
                                                                          : BPF_RB_NO_WAKEUP;
}

/* The ring record: header + packed strings, at its real length. Non-zero: lost (counted). */
static __always_inline int record_output(struct nst_record *r)
{
    __u32 len = r->off & (NST_PACKED_MAX - 1);
    r->ev.size = sizeof(r->ev) + len;
    r->ev.flags |= NST_F_PACKED;
    if (bpf_ringbuf_output(&events, r, sizeof(r->ev) + len, wakeup_flag())) {
        count(NST_STAT_LOST_RINGBUF);
        return 1;
    }
    return 0;
}

static __always_inline void fill_event(struct nst_event *e, struct pending *p, long ret, __u64 now)
{
    struct task_struct *t = bpf_get_current_task_btf();
    e->ts_ns = now;
    e->latency_ns = now - p->ts_ns;
    e->ret = ret;
    e->type = p->type;
    e->flags = p->flags;
#pragma unroll
    for (int i = 0; i < 6; i++)
        e->args[i] = p->args[i];
#pragma unroll
    for (int i = 0; i < 4; i++)
        e->aux[i] = p->aux[i];
#pragma unroll
    for (int i = 0; i < NST_NS_SLOTS; i++)
        e->ns_before[i] = p->ns_before[i];
    if (p->flags & NST_F_CHILD_NS) {
#pragma unroll
        for (int i = 0; i < NST_NS_SLOTS; i++)
            e->ns[i] = p->child_ns[i];
    } else if ((p->flags & NST_F_NS_BEFORE) && p->type != NST_EV_CLONE && p->type != NST_EV_CLONE3) {
        /* unshare and setns: what they can change is what their flags (or the fd's namespace
         * type) name, and they swap in a new nsproxy (or cred, for user namespaces) when they
         * change anything: the same pointers mean the same namespaces as at enter */
#pragma unroll
        for (int i = 0; i < NST_NS_SLOTS; i++)
            e->ns[i] = p->ns_before[i];
        if (p->nsproxy != (__u64)t->nsproxy || p->cred != (__u64)t->cred) {
            __u32 mask = ns_slots_of(p->type == NST_EV_UNSHARE ? p->args[0] : p->aux[0]);
            read_namespaces_of(t, e->ns, mask ? mask : NS_ALL_SLOTS);
        }
    } else {
        read_namespaces(t, e->ns);
    }
    fill_task(e, t);
}

/* One copy for all exit programs (a BPF-to-BPF call): inlined 13 times it made the object 5x larger. */
static __noinline int on_exit(struct trace_event_raw_sys_exit *ctx)
{
    __u32 tid = (__u32)bpf_get_current_pid_tgid();
    struct pending *p = bpf_map_lookup_elem(&pending, &tid);
    if (!p) /* no enter record: a plain fork's child, or a call begun before we attached */
        return 0;
    __u64 now = bpf_ktime_get_boot_ns();

    if (nst_event_has_strings(p->type)) {
        struct nst_record *r = record_start(SCRATCH_SYSCALL);
        if (!r) {
            if (p->paths_kept)
                bpf_map_delete_elem(&pending_paths, &tid);
            goto out;
        }
        fill_event(&r->ev, p, ctx->ret, now);
        fill_strings(r, p);
        if (nst_event_has_paths(p->type))
            fill_paths(r, tid, p->paths_kept);
        if (record_output(r))
            goto out;
    } else {
        struct nst_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
        if (!e) {
            count(NST_STAT_LOST_RINGBUF);
            goto out;
        }
        __builtin_memset(e, 0, sizeof(*e));
        fill_event(e, p, ctx->ret, now);
        e->size = sizeof(*e);
        bpf_ringbuf_submit(e, wakeup_flag());
    }
    count(NST_STAT_EVENTS);
out:
    bpf_map_delete_elem(&pending, &tid);
    return 0;
}

SEC("tracepoint/syscalls/sys_exit_unshare")
int exit_unshare(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx); }
SEC("tracepoint/syscalls/sys_exit_setns")
int exit_setns(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx); }
/* A clone returns twice; the child's return (0) has no enter record of its own: leave at once
 * (every fork passes here). */
SEC("tracepoint/syscalls/sys_exit_clone")
int exit_clone(struct trace_event_raw_sys_exit *ctx) { return ctx->ret == 0 ? 0 : on_exit(ctx); }
SEC("tracepoint/syscalls/sys_exit_clone3")
int exit_clone3(struct trace_event_raw_sys_exit *ctx) { return ctx->ret == 0 ? 0 : on_exit(ctx); }
SEC("tracepoint/syscalls/sys_exit_mount")
int exit_mount(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx); }
SEC("tracepoint/syscalls/sys_exit_umount")
int exit_umount(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx); }
SEC("tracepoint/syscalls/sys_exit_pivot_root")
int exit_pivot_root(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx); }
SEC("tracepoint/syscalls/sys_exit_fsopen")
int exit_fsopen(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx); }
SEC("tracepoint/syscalls/sys_exit_fsconfig")
int exit_fsconfig(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx); }
SEC("tracepoint/syscalls/sys_exit_fsmount")
int exit_fsmount(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx); }
SEC("tracepoint/syscalls/sys_exit_move_mount")
int exit_move_mount(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx); }
SEC("tracepoint/syscalls/sys_exit_open_tree")
int exit_open_tree(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx); }
SEC("tracepoint/syscalls/sys_exit_mount_setattr")
int exit_mount_setattr(struct trace_event_raw_sys_exit *ctx) { return on_exit(ctx); }

/* ---- container runtimes and cgroups: what user space needs to attribute events --------- */

/* A process whose new program is one of these starts (or restarts) a lineage. comm is the
 * basename of the program, cut to 15 bytes: "containerd-shim-runc-v2" reads "containerd-shim". */
static __always_inline bool is_runtime_comm(const char *c)
{
    if (c[0] == 'r' && c[1] == 'u' && c[2] == 'n' && c[3] == 'c' && (c[4] == 0 || c[4] == ':'))
        return true; /* runc, and runc:[0:PARENT] & co */
    if (c[0] == 'c' && c[1] == 'r' && c[2] == 'u' && c[3] == 'n' && c[4] == 0)
        return true;
    if (c[0] == 'c' && c[1] == 'o' && c[2] == 'n' && c[3] == 'm' && c[4] == 'o' && c[5] == 'n' && c[6] == 0)
        return true;
    if (c[0] == 'y' && c[1] == 'o' && c[2] == 'u' && c[3] == 'k' && c[4] == 'i' && c[5] == 0)
        return true;
    if (c[0] == 'c' && c[1] == 't' && c[2] == 'r' && c[3] == 0)
        return true; /* containerd's client: `ctr run` mounts the snapshot itself */
    const char shim[] = "containerd-shim";
#pragma unroll
    for (int i = 0; i < 15; i++)
        if (c[i] != shim[i])
            return false;
    return true;
}

static __always_inline struct nst_record *reserve_record(void)
{
    struct nst_record *r = record_start(SCRATCH_TASK);
    if (r)
        r->ev.ts_ns = bpf_ktime_get_boot_ns();
    return r;
}

static __always_inline void submit_record(struct nst_record *r)
{
    if (!record_output(r))
        count(NST_STAT_EVENTS);
}

/* Every exec passes here: leave at once unless a runtime, or a task of a runtime's tree, execs. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    char comm[16];
    bpf_get_current_comm(comm, sizeof(comm));
    bool runtime = is_runtime_comm(comm);
    __u32 *root = bpf_map_lookup_elem(&runtime_tree, &tgid);
    if ((!root && !runtime) || tgid == self_tgid)
        return 0;
    __u32 before = root ? *root : 0;
    if (root && !runtime) {
        /* runc re-executes itself through /proc/self/exe (comm "exe"): still the runtime */
        char file[16] = {};
        bpf_probe_read_kernel_str(file, sizeof(file), BPF_CORE_READ(bprm, filename));
        const char self_exe[] = "/proc/self/exe";
        runtime = true;
#pragma unroll
        for (int i = 0; i < sizeof(self_exe); i++)
            if (file[i] != self_exe[i])
                runtime = false;
    }

    if (runtime)
        bpf_map_update_elem(&runtime_tree, &tgid, &tgid, BPF_ANY);
    else /* the runtime started the container's program: the cgroup and namespaces say the rest */
        bpf_map_delete_elem(&runtime_tree, &tgid);

    struct nst_record *r = reserve_record();
    if (!r)
        return 0;
    struct task_struct *t = bpf_get_current_task_btf();
    fill_task(&r->ev, t);
    read_namespaces(t, r->ev.ns);
    r->ev.type = NST_EV_EXEC;
    r->ev.aux[0] = before;
    r->ev.aux[1] = runtime;
    r->ev.lineage = runtime ? tgid : 0;

    long n = bpf_probe_read_kernel_str(r->str, NST_STR_LEN, BPF_CORE_READ(bprm, filename));
    if (n > 0)
        str_done(r, 0, n - 1);
    /* argv: the new program's arguments, already on its stack */
    unsigned long start = BPF_CORE_READ(t, mm, arg_start), end = BPF_CORE_READ(t, mm, arg_end);
    unsigned long len = end - start;
    bool cut = len > NST_STR_LEN;
    if (cut) {
        len = NST_STR_LEN;
        r->ev.flags |= NST_F_STR1_TRUNC;
    }
    __u32 off = r->off & (NST_PACKED_MAX - 1);
    if (len > 0 && bpf_probe_read_user(&r->str[off], len, (void *)start) == 0)
        str_done(r, 1, len == NST_STR_LEN ? NST_STR_LEN - 1 : len - 1); /* without the last NUL */
    if (cut) {
        /* a cut argv loses its last arguments, where runtimes put the container id: keep the
         * tail too, in slot 2 after slot 1 (its first argument may be cut; user space drops it) */
        off = r->off & (NST_PACKED_MAX - 1);
        if (bpf_probe_read_user(&r->str[off], NST_STR_LEN - 1, (void *)(end - (NST_STR_LEN - 1))) == 0)
            str_done(r, 2, NST_STR_LEN - 2); /* without the last NUL */
    }
    submit_record(r);
    return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit_task, struct task_struct *p)
{
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    if ((__u32)pid_tgid != pid_tgid >> 32) /* a thread: the process lives on */
        return 0;
    __u32 tgid = pid_tgid >> 32;
    /* every process exit passes here: a lookup is cheaper than a delete's bucket lock */
    if (bpf_map_lookup_elem(&runtime_tree, &tgid))
        bpf_map_delete_elem(&runtime_tree, &tgid);
    return 0;
}

/* A container's cgroup may be gone a millisecond after its last event: keep its path now. */
SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(on_cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
    int hierarchy = BPF_CORE_READ(cgrp, root, hierarchy_id);
    if (hierarchy != 0) /* hierarchy 0 is cgroup v2, whose ids bpf_get_current_cgroup_id() gives */
        return 0;
    struct nst_record *r = reserve_record();
    if (!r)
        return 0;
    fill_task(&r->ev, bpf_get_current_task_btf());
    r->ev.type = NST_EV_CGROUP_MKDIR;
    r->ev.aux[0] = BPF_CORE_READ(cgrp, kn, id);
    r->ev.aux[1] = hierarchy;
    long n = bpf_probe_read_kernel_str(r->str, NST_STR_LEN, path);
    if (n > 0)
        str_done(r, 0, n - 1);
    if (n == NST_STR_LEN)
        r->ev.flags |= NST_F_STR0_TRUNC;
    submit_record(r);
    return 0;
}
