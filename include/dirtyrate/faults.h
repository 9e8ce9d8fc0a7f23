/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-process fault and soft-dirty-clear counters, as kept in the BPF map
 * `counts` (key: tgid as __u32) and as handed to user space by libdrbpf.
 * Shared by bpf/faults.bpf.c and user space: fixed-width types only, every
 * field a __u64 so the layout is the same on both sides.
 */
#ifndef DIRTYRATE_FAULTS_H
#define DIRTYRATE_FAULTS_H

#include <linux/types.h>

/* Size of the counters map when the user gives none. */
#define DR_FAULTS_DEFAULT_ENTRIES 16384

struct dr_fault_counts {
	/*
	 * Write faults on present pages: write-protect faults, the kind a
	 * soft-dirty clear, fork's COW or a zero-page mapping causes.
	 * Only the tp_btf/page_fault_user hook can tell these apart; see
	 * DR_FAULTS_CAP_WRITE_SPLIT in bpf/faults.h.
	 */
	__u64 wp_faults;
	/* Write faults on non-present pages: first touch (or swap-in). */
	__u64 np_write_faults;
	/* Every fault taken in user mode: reads, writes, instruction fetches. */
	__u64 user_faults;
	/* softdirty_clear events on this process made by the daemon itself. */
	__u64 clears_self;
	__u64 cleared_pages_self;
	/* ... and by any other process (e.g. a CRIU pre-dump). */
	__u64 clears_foreign;
	__u64 cleared_pages_foreign;
	/* CLOCK_MONOTONIC time of the last foreign clear, 0 if none. */
	__u64 last_foreign_clear_ns;
};

#endif /* DIRTYRATE_FAULTS_H */
