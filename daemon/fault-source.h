/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's seam to per-process fault counters. The BPF library (bpf/,
 * include/dirtyrate/faults.h) is one implementation (fault-source-bpf.c);
 * a build without it links fault-source-none.c, which never opens and says
 * why. Nothing else in the daemon knows about BPF.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Monotonic per-process counters, as read at one instant. */
struct fault_counts {
	uint64_t wp_faults;		/* write faults on present pages (write-protect) */
	uint64_t np_write_faults;	/* write faults on non-present pages (first touch) */
	uint64_t clears_foreign;	/* soft-dirty clears of this process by anyone but us */
	uint64_t cleared_pages_foreign;
};

struct fault_source;

/*
 * Opens and attaches the counters. On failure returns a negative errno and
 * puts a human-readable reason into why (e.g. "no CAP_BPF", "built without
 * BPF support"); the daemon keeps running without fault data.
 */
int fault_source_open(struct fault_source **ret, char *why, size_t why_len);
struct fault_source *fault_source_free(struct fault_source *s);

/* The kernel hook in use, e.g. "tp_btf/page_fault_user", for logs and docs. */
const char *fault_source_hook(const struct fault_source *s);
/* Whether foreign soft-dirty clears are seen (softdirty:softdirty_clear exists). */
bool fault_source_sees_clears(const struct fault_source *s);

int fault_source_track(struct fault_source *s, pid_t tgid);
int fault_source_untrack(struct fault_source *s, pid_t tgid);
/* Counts so far; all zero when the process has not faulted yet. */
int fault_source_read(struct fault_source *s, pid_t tgid, struct fault_counts *ret);

static inline void fault_source_freep(struct fault_source **s) {
	fault_source_free(*s);
}
