#ifndef NSTRACE_CPRIVILEGES_H
#define NSTRACE_CPRIVILEGES_H

#include <sys/types.h>

/* capset(2) and prctl(2) are variadic or libcap-only in C; Swift needs these two calls. */

/* Drops every capability of the calling thread, for good: the bounding set (while
 * CAP_SETPCAP allows), the ambient set, then, with switch_user, the supplementary groups,
 * gid and uid (glibc applies those to every thread), then effective, permitted and
 * inheritable; finally no_new_privs. Returns 0, or -errno of the call that failed. */
int nst_drop_privileges(int switch_user, uid_t uid, gid_t gid);

/* The calling thread's effective capabilities (capget), or 0 on error. */
unsigned long long nst_effective_capabilities(void);

#endif
