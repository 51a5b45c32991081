#include "CLibbpf.h"
#include "nstrace.skel.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int verbose_log;
static char last_message[4096];

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
    if (verbose_log)
        return vfprintf(stderr, fmt, args);
    if (level != LIBBPF_DEBUG) {
        /* keep the last non-debug line: it names what failed */
        va_list copy;
        va_copy(copy, args);
        vsnprintf(last_message, sizeof(last_message), fmt, copy);
        va_end(copy);
        size_t n = strlen(last_message);
        while (n && (last_message[n - 1] == '\n' || last_message[n - 1] == ' '))
            last_message[--n] = 0;
    }
    return 0;
}

void nst_libbpf_set_verbose(int verbose)
{
    verbose_log = verbose;
    libbpf_set_print(print_fn);
}

const char *nst_libbpf_last_message(void) { return last_message; }

struct nstrace_bpf *nst_skel_open(void) { return nstrace_bpf__open(); }
int nst_skel_load(struct nstrace_bpf *skel) { return nstrace_bpf__load(skel); }
void nst_skel_destroy(struct nstrace_bpf *skel) { nstrace_bpf__destroy(skel); }
struct bpf_object *nst_skel_object(struct nstrace_bpf *skel) { return skel->obj; }
struct bpf_map *nst_skel_events(struct nstrace_bpf *skel) { return skel->maps.events; }
struct bpf_map *nst_skel_stats(struct nstrace_bpf *skel) { return skel->maps.stats; }
void nst_skel_set_self_tgid(struct nstrace_bpf *skel, uint32_t tgid) { skel->rodata->self_tgid = tgid; }
void nst_skel_set_wakeup_bytes(struct nstrace_bpf *skel, uint64_t bytes) { skel->rodata->wakeup_bytes = bytes; }
