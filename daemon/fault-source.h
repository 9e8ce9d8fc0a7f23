/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's seam to per-process fault counters. The daemon links the one
 * over the BPF library (fault-source-bpf.c, over bpf/drbpf.h); the sampler's
 * unit test links a fake (tests/fake-fault-source.c) that it drives by hand.
 * Nothing else in the daemon knows about BPF.
 *
 * PIDs are the daemon's own (its PID namespace): the source translates.
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
	uint64_t cleared_pages_self;	/* pages our own soft-dirty clears of it cleared */
	uint64_t clears_foreign;	/* soft-dirty clears of this process by anyone but us */
	uint64_t last_foreign_clear_nsec; /* CLOCK_MONOTONIC of the last one; 0: none */
};

struct fault_source;

/*
 * Opens and attaches the counters; the daemon's clears count as its own.
 * On failure returns a negative errno and puts a human-readable reason into
 * why (e.g. "no CAP_BPF"); the daemon keeps
 * running without fault data. On success why may hold a note on what is
 * missing (e.g. why foreign clears cannot be seen), else it is empty.
 * Library messages go to the daemon's log at debug level.
 */
int fault_source_open(struct fault_source **ret, char *why, size_t why_len);
struct fault_source *fault_source_free(struct fault_source *s);

/* The kernel hook in use, e.g. "tp_btf/page_fault_user", for logs and docs. */
const char *fault_source_hook(const struct fault_source *s);
/* Whether write faults are counted (some hooks count only faults of any kind). */
bool fault_source_counts_writes(const struct fault_source *s);
/* Whether foreign soft-dirty clears are seen (softdirty:softdirty_clear exists). */
bool fault_source_sees_clears(const struct fault_source *s);

/* Starts counting tgid's faults from zero. */
int fault_source_track(struct fault_source *s, pid_t tgid);
int fault_source_untrack(struct fault_source *s, pid_t tgid);

/*
 * Reads the counters of every tracked process at one instant (batched map
 * reads), for one sample pass over all of them; fault_source_read() then
 * answers from it until the next snapshot.
 */
int fault_source_snapshot(struct fault_source *s);
/* tgid's counters in the last snapshot; all zero when it had none then. */
int fault_source_read(struct fault_source *s, pid_t tgid, struct fault_counts *ret);
/* tgid's counters now, outside a pass (one lookup); all zero when it has none. */
int fault_source_read_now(struct fault_source *s, pid_t tgid, struct fault_counts *ret);

static inline void fault_source_freep(struct fault_source **s) {
	fault_source_free(*s);
}
