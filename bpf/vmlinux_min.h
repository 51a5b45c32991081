/* vmlinux_min.h - the few kernel types nstrace.bpf.c reads, declared by hand instead of a
 * 2.8 MB vmlinux.h. Every struct is marked preserve_access_index, so libbpf relocates each
 * field access against the running kernel's BTF (CO-RE): only the field names must match,
 * not their order, offsets or the rest of the struct. */
#ifndef NSTRACE_VMLINUX_MIN_H
#define NSTRACE_VMLINUX_MIN_H

typedef unsigned char __u8;
typedef short int __s16;
typedef short unsigned int __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long int __s64;
typedef long long unsigned int __u64;
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef int pid_t;
typedef unsigned int uid_t;
typedef unsigned int gid_t;
typedef _Bool bool;
#define true 1
#define false 0

enum bpf_map_type {
    BPF_MAP_TYPE_HASH = 1,
    BPF_MAP_TYPE_PERCPU_ARRAY = 6,
    BPF_MAP_TYPE_RINGBUF = 27,
};

enum {
    BPF_ANY = 0,
    BPF_NOEXIST = 1,
};

enum {
    BPF_RB_NO_WAKEUP = 1,
    BPF_RB_FORCE_WAKEUP = 2,
};

enum {
    BPF_RB_AVAIL_DATA = 0,
};

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

typedef struct { int counter; } atomic_t;
typedef struct { uid_t val; } kuid_t;
typedef struct { gid_t val; } kgid_t;

struct proc_ns_operations { const char *name; };
struct ns_common {
    unsigned int inum;
    const struct proc_ns_operations *ops;
};
/* Before 6.18, the namespace type lived in proc_ns_operations (ns_common.ns_type since). */
struct ns_common___new { u32 ns_type; };
struct proc_ns_operations___old { int type; };

struct mnt_namespace { struct ns_common ns; };
struct net { struct ns_common ns; };
struct uts_namespace { struct ns_common ns; };
struct ipc_namespace { struct ns_common ns; };
struct pid_namespace { struct ns_common ns; };
struct user_namespace { struct ns_common ns; };
struct cgroup_namespace { struct ns_common ns; };
struct time_namespace { struct ns_common ns; };

struct nsproxy {
    struct uts_namespace *uts_ns;
    struct ipc_namespace *ipc_ns;
    struct mnt_namespace *mnt_ns;
    struct pid_namespace *pid_ns_for_children;
    struct net *net_ns;
    struct time_namespace *time_ns;
    struct time_namespace *time_ns_for_children;
    struct cgroup_namespace *cgroup_ns;
};

struct upid {
    int nr;
    struct pid_namespace *ns;
};
struct pid {
    unsigned int level;
    struct upid numbers[1];
};

struct cred {
    kuid_t uid;
    kgid_t gid;
    struct user_namespace *user_ns;
};

struct super_block { unsigned long s_magic; };
struct inode {
    unsigned long i_ino;
    struct super_block *i_sb;
    void *i_private;
};
struct qstr {
    u32 len;                    /* in an anonymous union in the kernel: CO-RE finds it there */
    const unsigned char *name;
};
struct dentry {
    struct dentry *d_parent;
    struct qstr d_name;
};
struct vfsmount { struct dentry *mnt_root; };
struct mount {                  /* the kernel's, around each vfsmount (fs/mount.h) */
    struct mount *mnt_parent;
    struct dentry *mnt_mountpoint;
    struct vfsmount mnt;
};
struct path {
    struct vfsmount *mnt;
    struct dentry *dentry;
};
struct fs_struct {
    struct path root;
    struct path pwd;
};
struct file {
    struct inode *f_inode;
    struct path f_path;
    void *private_data;
};
struct fdtable {
    unsigned int max_fds;
    struct file **fd;
};
struct files_struct { struct fdtable *fdt; };

struct mm_struct {
    unsigned long arg_start;
    unsigned long arg_end;
};
struct linux_binprm { const char *filename; };

struct kernfs_node { u64 id; };
struct cgroup_root { int hierarchy_id; };
struct cgroup {
    struct kernfs_node *kn;
    struct cgroup_root *root;
};

struct task_struct {
    pid_t pid;
    pid_t tgid;
    struct task_struct *real_parent;
    struct task_struct *group_leader;
    struct pid *thread_pid;
    const struct cred *cred;
    struct files_struct *files;
    struct fs_struct *fs;
    struct nsproxy *nsproxy;
    struct mm_struct *mm;
    char comm[16];
};

/* clone3's argument block (uapi, not relocated: it is user memory). */
#pragma clang attribute pop

struct clone_args_user {
    u64 flags;
    u64 pidfd;
    u64 child_tid;
    u64 parent_tid;
    u64 exit_signal;
};

struct mount_attr_user {
    u64 attr_set;
    u64 attr_clr;
    u64 propagation;
    u64 userns_fd;
};

/* Layout of the syscalls:sys_enter_* / sys_exit_* tracepoint records (tracefs format files). */
struct trace_event_raw_sys_enter {
    u64 common;            /* common_type, flags, preempt_count, common_pid */
    long id;
    unsigned long args[6];
};
struct trace_event_raw_sys_exit {
    u64 common;
    long id;
    long ret;
};

#endif
