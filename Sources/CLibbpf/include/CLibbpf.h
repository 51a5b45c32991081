/* CLibbpf - the C side Swift needs: libbpf itself, and small shims where its API does not
 * import into Swift (variadic print callbacks, LIBBPF_OPTS, the skeleton's static data).
 * Shims are prefixed nst_. */
#ifndef NSTRACE_CLIBBPF_H
#define NSTRACE_CLIBBPF_H

#include <stdint.h>
#include <stddef.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <nstrace_abi.h>

struct nstrace_bpf;   /* the generated skeleton (nstrace.skel.h), opaque to Swift */

/* libbpf's log: to stderr when verbose; otherwise only kept for the last failure. */
void nst_libbpf_set_verbose(int verbose);
/* The last warning/error libbpf printed (a verifier log tail, say), "" if none. */
const char *nst_libbpf_last_message(void);

struct nstrace_bpf *nst_skel_open(void);               /* NULL and errno on failure */
int nst_skel_load(struct nstrace_bpf *skel);           /* 0 or -errno */
void nst_skel_destroy(struct nstrace_bpf *skel);
struct bpf_object *nst_skel_object(struct nstrace_bpf *skel);
struct bpf_map *nst_skel_events(struct nstrace_bpf *skel);
struct bpf_map *nst_skel_stats(struct nstrace_bpf *skel);
/* const volatile globals: only before load */
void nst_skel_set_self_tgid(struct nstrace_bpf *skel, uint32_t tgid);
void nst_skel_set_wakeup_bytes(struct nstrace_bpf *skel, uint64_t bytes);

#endif
