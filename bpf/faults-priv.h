/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libdrbpf knobs for the bpf suite and the overhead benchmark only: not
 * part of the API the daemon uses.
 */
#ifndef DIRTYRATE_BPF_FAULTS_PRIV_H
#define DIRTYRATE_BPF_FAULTS_PRIV_H

#include "drbpf.h"

struct dr_faults_test_opts {
	/* counts as LRU_PERCPU_HASH with plain adds instead of one shared
	 * value per tgid with atomic adds (see bpf/README.md: measured). */
	bool percpu_counters;
	/* Also load test_softdirty_clear, for dr_faults_run_test_clear(). */
	bool load_test_clear_prog;
	/* dr_faults_read_all() walks the map key by key, as on kernels
	 * without batch operations. */
	bool no_batch;
	/* Translate tgids to the caller's PID namespace even when that is
	 * the initial one (where the programs otherwise take the kernel's
	 * numbers as they are), to test the translation without containers. */
	bool force_pidns_walk;
	/* Tracked mode without slot_index, as where it cannot be used (see
	 * bpf/README.md): the faults look their tgid up in `tracked`. */
	bool no_slot_index;
	/* slot_index with this many entries (a power of two, at least 4)
	 * instead of its usual size: few enough that tracked processes share
	 * entries. */
	unsigned int index_entries;
	/* Tracked mode's fault counters in this many stripes (a power of two)
	 * instead of one per possible CPU up to DR_STRIPES_MAX; ignored with
	 * percpu_counters, which have none. */
	unsigned int stripes;
};

int dr_faults_open_ext(const struct dr_faults_opts *opts,
		       const struct dr_faults_test_opts *topts,
		       struct dr_faults **out, char *why, size_t why_len);

/*
 * Run the clear accounting once through BPF_PROG_TEST_RUN, as if
 * softdirty_clear had fired for @target_tgid with @nr_pages, the caller being
 * the clearer. @target_tgid is in the initial PID namespace, as the
 * tracepoint's is. Needs load_test_clear_prog; -ENOENT where it could not be
 * loaded.
 */
int dr_faults_run_test_clear(struct dr_faults *f, pid_t target_tgid,
			     unsigned long nr_pages);

/* The fault hook's program (for its run-time statistics); -ENOENT for perf-event. */
int dr_faults_fault_prog_fd(struct dr_faults *f);

/* Whether @tgid is in the programs' tracked set (tracked mode). */
bool dr_faults_is_tracked(struct dr_faults *f, pid_t tgid);

#endif /* DIRTYRATE_BPF_FAULTS_PRIV_H */
