/* nstrace-testdriver - makes the exact namespace and mount syscalls the integration tests
 * expect nstrace to see, and prints what it did, one fact per line:
 *     <scenario> key=value key=value ...
 * Every scenario runs in a forked child, so the driver's own namespaces stay as they were.
 * Its comm is "nstdrv" so that the tracer under test can be told to watch only it.
 *
 * usage: nstrace-testdriver SCENARIO...   (or "all")
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static void die(const char *what)
{
    fprintf(stderr, "nstrace-testdriver: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* The inode of /proc/<pid>/ns/<name>, as readlink shows it: "net:[4026531840]". */
static unsigned long ns_inode(pid_t pid, const char *name)
{
    char path[64], link[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, name);
    ssize_t n = readlink(path, link, sizeof(link) - 1);
    if (n < 0)
        die(path);
    link[n] = 0;
    char *open = strchr(link, '[');
    return open ? strtoul(open + 1, NULL, 10) : 0;
}

/* Runs fn in a forked child and waits for it; the scenario fails if the child does. */
static void in_child(void (*fn)(void *), void *arg)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        fn(arg);
        fflush(stdout);
        _exit(0);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0)
        die("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "nstrace-testdriver: scenario child failed (status %d)\n", status);
        exit(1);
    }
}

static void make_mounts_private(void)
{
    if (unshare(CLONE_NEWNS))
        die("unshare(CLONE_NEWNS)");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
        die("mount MS_REC|MS_PRIVATE /");
}

static char scratch[256];

static const char *scratch_dir(const char *leaf)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", scratch, leaf);
    if (mkdir(path, 0755) && errno != EEXIST)
        die(path);
    return path;
}

/* ---- namespaces --------------------------------------------------------------------------- */

struct ns_kind { const char *name; int flag; const char *proc_name; };
static const struct ns_kind kinds[] = {
    {"mnt", CLONE_NEWNS, "mnt"},         {"net", CLONE_NEWNET, "net"},
    {"uts", CLONE_NEWUTS, "uts"},        {"ipc", CLONE_NEWIPC, "ipc"},
    {"user", CLONE_NEWUSER, "user"},     {"cgroup", CLONE_NEWCGROUP, "cgroup"},
    {"pid", CLONE_NEWPID, "pid_for_children"}, {"time", CLONE_NEWTIME, "time_for_children"},
};

/* /proc shows a new pid (or time) namespace for children only once a child lives in it. */
static unsigned long ns_of_first_child(const char *name)
{
    int fds[2];
    if (pipe(fds))
        die("pipe");
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        char c;
        close(fds[1]);
        while (read(fds[0], &c, 1) < 0 && errno == EINTR) {}
        _exit(0);
    }
    close(fds[0]);
    unsigned long inode = ns_inode(child, name);
    close(fds[1]);
    waitpid(child, NULL, 0);
    return inode;
}

static void unshare_one(void *arg)
{
    const struct ns_kind *k = arg;
    unsigned long before = ns_inode(getpid(), k->proc_name);
    if (unshare(k->flag))
        die(k->name);
    unsigned long after = k->flag == CLONE_NEWPID ? ns_of_first_child("pid")
                        : k->flag == CLONE_NEWTIME ? ns_of_first_child("time")
                        : ns_inode(getpid(), k->proc_name);
    printf("unshare type=%s slot=%s pid=%d flags=%d before=%lu after=%lu\n", k->name, k->proc_name,
           (int)getpid(), k->flag, before, after);
}

static void scenario_unshare(void)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        in_child(unshare_one, (void *)&kinds[i]);
}

/* clone(CLONE_NEWPID|CLONE_NEWUTS) and clone3(CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET): the
 * child waits on a pipe so its namespaces can be read from outside before it exits. */
static void clone_child(void *arg)
{
    int use_clone3 = arg != NULL;
    int fds[2];
    if (pipe(fds))
        die("pipe");
    long child;
    uint64_t flags;
    if (use_clone3) {
        flags = CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET;
        struct clone_args args = {.flags = flags, .exit_signal = SIGCHLD};
        child = syscall(SYS_clone3, &args, sizeof(args));
    } else {
        flags = CLONE_NEWPID | CLONE_NEWUTS;
        child = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    }
    if (child < 0)
        die("clone");
    if (child == 0) {
        char c;
        close(fds[1]);
        while (read(fds[0], &c, 1) < 0 && errno == EINTR) {}
        _exit(0);
    }
    close(fds[0]);
    printf("%s pid=%d child=%ld flags=%llu mnt=%lu pid_ns=%lu uts=%lu ipc=%lu net=%lu parent_uts=%lu parent_pid_ns=%lu parent_net=%lu\n",
           use_clone3 ? "clone3" : "clone", (int)getpid(), child, (unsigned long long)flags,
           ns_inode(child, "mnt"), ns_inode(child, "pid"), ns_inode(child, "uts"), ns_inode(child, "ipc"),
           ns_inode(child, "net"), ns_inode(getpid(), "uts"), ns_inode(getpid(), "pid"), ns_inode(getpid(), "net"));
    close(fds[1]);
    waitpid(child, NULL, 0);
}

static void scenario_clone(void) { in_child(clone_child, NULL); }
static void scenario_clone3(void) { in_child(clone_child, (void *)1); }

/* setns into a net and a mnt namespace held by a helper child, and through a pidfd. */
static void setns_child(void *arg)
{
    (void)arg;
    int ready[2], done[2];
    if (pipe(ready) || pipe(done))
        die("pipe");
    pid_t holder = fork();
    if (holder < 0)
        die("fork");
    if (holder == 0) {
        char c = 1;
        close(ready[0]);
        close(done[1]);
        if (unshare(CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS))
            die("unshare holder");
        if (write(ready[1], &c, 1) != 1)
            die("write");
        while (read(done[0], &c, 1) < 0 && errno == EINTR) {}
        _exit(0);
    }
    char c;
    if (read(ready[0], &c, 1) != 1)
        die("read");
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)holder);
    int netfd = open(path, O_RDONLY);
    snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)holder);
    int mntfd = open(path, O_RDONLY);
    int pidfd = (int)syscall(SYS_pidfd_open, holder, 0);
    if (netfd < 0 || mntfd < 0 || pidfd < 0)
        die("open namespace fds");
    unsigned long net = ns_inode(holder, "net"), mnt = ns_inode(holder, "mnt"), uts = ns_inode(holder, "uts");
    unsigned long net_before = ns_inode(getpid(), "net"), mnt_before = ns_inode(getpid(), "mnt");

    if (setns(netfd, CLONE_NEWNET))
        die("setns net");
    printf("setns type=net pid=%d fd=%d nstype=%d inode=%lu before=%lu\n", (int)getpid(), netfd, CLONE_NEWNET, net, net_before);
    if (setns(mntfd, 0))
        die("setns mnt");
    printf("setns type=mnt pid=%d fd=%d nstype=0 inode=%lu before=%lu\n", (int)getpid(), mntfd, mnt, mnt_before);
    if (setns(pidfd, CLONE_NEWUTS))
        die("setns pidfd");
    printf("setns type=pidfd pid=%d fd=%d nstype=%d target=%d uts=%lu\n", (int)getpid(), pidfd, CLONE_NEWUTS, (int)holder, uts);
    /* a failing setns: the fd is a namespace of the wrong type */
    errno = 0;
    if (setns(netfd, CLONE_NEWIPC) == 0)
        die("setns with a wrong type succeeded");
    printf("setns type=fail pid=%d fd=%d nstype=%d errno=%d\n", (int)getpid(), netfd, CLONE_NEWIPC, errno);
    close(done[1]);
    waitpid(holder, NULL, 0);
}

static void scenario_setns(void) { in_child(setns_child, NULL); }

/* ---- mounts ------------------------------------------------------------------------------- */

static void mount_child(void *arg)
{
    (void)arg;
    make_mounts_private();
    printf("mount-private pid=%d\n", (int)getpid());
    char dir[512], bind[512];
    snprintf(dir, sizeof(dir), "%s", scratch_dir("tmpfs"));
    snprintf(bind, sizeof(bind), "%s", scratch_dir("bind"));
    if (mount("nstrace-test", dir, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755"))
        die("mount tmpfs");
    printf("mount-tmpfs pid=%d target=%s\n", (int)getpid(), dir);
    if (mount(dir, bind, NULL, MS_BIND, NULL))
        die("bind mount");
    printf("mount-bind pid=%d source=%s target=%s\n", (int)getpid(), dir, bind);
    if (umount2(bind, MNT_DETACH))
        die("umount2 bind");
    printf("umount pid=%d target=%s flags=%d\n", (int)getpid(), bind, MNT_DETACH);
    if (umount(dir))
        die("umount tmpfs");
    printf("umount pid=%d target=%s flags=0\n", (int)getpid(), dir);
}

static void scenario_mount(void) { in_child(mount_child, NULL); }

static void pivot_child(void *arg)
{
    (void)arg;
    make_mounts_private();
    char root[512], old[600];
    snprintf(root, sizeof(root), "%s", scratch_dir("newroot"));
    if (mount("nstrace-root", root, "tmpfs", 0, NULL))
        die("mount new root");
    snprintf(old, sizeof(old), "%s/old", root);
    if (mkdir(old, 0755))
        die("mkdir old");
    if (syscall(SYS_pivot_root, root, old))
        die("pivot_root");
    printf("pivot_root pid=%d new_root=%s put_old=%s\n", (int)getpid(), root, old);
    if (chdir("/"))
        die("chdir");
    if (umount2("/old", MNT_DETACH))
        die("umount old root");
}

static void scenario_pivot_root(void) { in_child(pivot_child, NULL); }

static void fsmount_child(void *arg)
{
    (void)arg;
    make_mounts_private();
    char dir[512];
    snprintf(dir, sizeof(dir), "%s", scratch_dir("fsmount"));
    int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0)
        die("fsopen");
    if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "1m", 0))
        die("fsconfig size");
    if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
        die("fsconfig create");
    int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV);
    if (mnt < 0)
        die("fsmount");
    if (syscall(SYS_move_mount, mnt, "", AT_FDCWD, dir, MOVE_MOUNT_F_EMPTY_PATH))
        die("move_mount");
    int tree = (int)syscall(SYS_open_tree, AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0)
        die("open_tree");
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY, .propagation = MS_PRIVATE};
    if (syscall(SYS_mount_setattr, AT_FDCWD, dir, 0, &attr, sizeof(attr)))
        die("mount_setattr");
    printf("fsmount pid=%d fs_fd=%d mnt_fd=%d tree_fd=%d target=%s\n", (int)getpid(), fs, mnt, tree, dir);
}

static void scenario_fsmount(void) { in_child(fsmount_child, NULL); }

/* A failing mount, a target longer than nstrace's string slot, and a hostile path. */
static void bad_mount_child(void *arg)
{
    (void)arg;
    make_mounts_private();
    const char *missing = "/nonexistent-nstrace-target";
    if (mount("none", missing, "tmpfs", 0, NULL) == 0 || errno != ENOENT)
        die("mount of a missing target did not fail with ENOENT");
    printf("mount-fail pid=%d target=%s errno=%d\n", (int)getpid(), missing, ENOENT);

    char longpath[1200];
    size_t n = (size_t)snprintf(longpath, sizeof(longpath), "%s", scratch);
    while (n < 1000)
        n += (size_t)snprintf(longpath + n, sizeof(longpath) - n, "/%s", "a-long-directory-name");
    (void)mount("none", longpath, "tmpfs", 0, NULL); /* ENOENT: only the cut string matters */
    printf("mount-long pid=%d length=%zu\n", (int)getpid(), strlen(longpath));

    char hostile[300];
    snprintf(hostile, sizeof(hostile), "%s/evil\x1b[2J\n\xff", scratch);
    (void)mount("none", hostile, "tmpfs", 0, NULL);
    printf("mount-hostile pid=%d\n", (int)getpid());
}

static void scenario_bad_mount(void) { in_child(bad_mount_child, NULL); }

/* Issue 8: paths named through descriptors, which nstrace resolves in the kernel. Not part
 * of "all" (the suite's shared run counts those events). Prints each expected resolved path. */
static void fdpaths_child(void *arg)
{
    (void)arg;
    make_mounts_private();
    char dir[512], sub[600], fdpath[64];
    snprintf(dir, sizeof(dir), "%s", scratch_dir("fdpaths"));
    snprintf(sub, sizeof(sub), "%s/a", dir);
    if (mkdir(sub, 0755))
        die("mkdir fdpaths/a");
    int fd = open(sub, O_PATH | O_DIRECTORY);
    if (fd < 0)
        die("open fdpaths/a");
    snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
    if (mount("nstrace-fd", fdpath, "tmpfs", 0, NULL))
        die("mount on /proc/self/fd/N");
    printf("fdpaths-procfd pid=%d target=%s resolved=%s\n", (int)getpid(), fdpath, sub);
    if (chdir(dir))
        die("chdir fdpaths");
    if (umount2("a", MNT_DETACH))
        die("umount2 relative");
    printf("fdpaths-relative pid=%d target=a resolved=%s\n", (int)getpid(), sub);

    /* the new mount API: a detached mount moved to dirfd + relative path */
    int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0 || syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
        die("fsopen/fsconfig");
    int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
    int dfd = open(dir, O_PATH | O_DIRECTORY);
    if (mnt < 0 || dfd < 0)
        die("fsmount/open");
    if (syscall(SYS_move_mount, mnt, "", dfd, "a", MOVE_MOUNT_F_EMPTY_PATH))
        die("move_mount");
    printf("fdpaths-move pid=%d mnt_fd=%d to=%s\n", (int)getpid(), mnt, sub);

    /* deeper than the walk goes: the path is flagged cut */
    char deep[600];
    size_t n = (size_t)snprintf(deep, sizeof(deep), "%s", dir);
    for (int i = 0; i < 50; i++) {
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "/d");
        if (mkdir(deep, 0755))
            die("mkdir deep");
    }
    int dd = open(deep, O_PATH | O_DIRECTORY);
    if (dd < 0)
        die("open deep");
    snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", dd);
    if (mount("nstrace-deep", fdpath, "tmpfs", 0, NULL))
        die("mount deep");
    printf("fdpaths-deep pid=%d target=%s resolved=%s\n", (int)getpid(), fdpath, deep);

    /* a descriptor that is not open: the kernel fails the call, nstrace flags the path */
    (void)mount("nstrace-bad", "/proc/self/fd/987", "tmpfs", 0, NULL);
    printf("fdpaths-badfd pid=%d target=/proc/self/fd/987\n", (int)getpid());
}

static void scenario_fdpaths(void) { in_child(fdpaths_child, NULL); }

/* ---- main ------------------------------------------------------------------------------- */

struct scenario { const char *name; void (*run)(void); };
static const struct scenario scenarios[] = {
    {"unshare", scenario_unshare},     {"clone", scenario_clone},   {"clone3", scenario_clone3},
    {"setns", scenario_setns},         {"mount", scenario_mount},   {"pivot_root", scenario_pivot_root},
    {"fsmount", scenario_fsmount},     {"bad_mount", scenario_bad_mount},
    {"fdpaths", scenario_fdpaths}, /* last: "all" stops before it */
};
#define ALL_SCENARIOS 8 /* the first eight: what "all" runs */

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: nstrace-testdriver SCENARIO...|all\nscenarios:");
        for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
            fprintf(stderr, " %s", scenarios[i].name);
        fprintf(stderr, "\n");
        return 2;
    }
    prctl(PR_SET_NAME, "nstdrv");
    snprintf(scratch, sizeof(scratch), "/tmp/nstrace-testdriver.%d", (int)getpid());
    if (mkdir(scratch, 0755))
        die(scratch);
    printf("driver pid=%d\n", (int)getpid());
    for (int a = 1; a < argc; a++) {
        int found = 0;
        for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
            if ((strcmp(argv[a], "all") == 0 && i < ALL_SCENARIOS) || strcmp(argv[a], scenarios[i].name) == 0) {
                scenarios[i].run();
                found = 1;
            }
        }
        if (!found) {
            fprintf(stderr, "nstrace-testdriver: unknown scenario %s\n", argv[a]);
            return 2;
        }
    }
    fflush(stdout);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
    return system(cmd) == 0 ? 0 : 1;
}
