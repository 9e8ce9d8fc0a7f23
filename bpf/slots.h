/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tracked mode's layout, shared by faults.bpf.c and faults.c (fixed-width
 * types only). A tracked process owns one slot of the `slots` array; the
 * `slot_index` array, indexed by kernel tgid (the initial PID namespace's,
 * what bpf_get_current_pid_tgid() returns) modulo its size, says which: a
 * fault finds its counters with two array indexings and no hash. See
 * bpf/README.md.
 */
#ifndef DIRTYRATE_BPF_SLOTS_H
#define DIRTYRATE_BPF_SLOTS_H

#include <linux/types.h>
#include <dirtyrate/faults.h>

struct dr_slot {
	/*
	 * The kernel tgid the slot counts for, 0 once that process exited.
	 * An index entry is shared by every tgid congruent modulo the index
	 * size, and outlives its process: only this tells whose it is.
	 */
	__u64 kernel_tgid;
	/* Its fault counters stay 0 where the faults count in stripes. */
	struct dr_fault_counts counts;
};

/*
 * A tracked process's fault counters, apart from its slot: one copy per
 * stripe, a stripe per CPU (or per group of CPUs past DR_STRIPES_MAX).
 * A fault adds to its CPU's stripe, so that the threads of one process, or
 * processes whose counters are neighbours, faulting on different CPUs do
 * not pull one cache line back and forth; user space adds the stripes up.
 * Stripe s of slot n is element s * (slots' max_entries) + n of the
 * `stripes` array: each stripe is one contiguous run of the array.
 */
struct dr_stripe {
	/* The slot's kernel_tgid, which the faults check here: one load fewer. */
	__u64 kernel_tgid;
	__u64 wp_faults;
	__u64 np_write_faults;
	__u64 user_faults;
};

/* At most this many stripes (a power of two): CPUs beyond share them. */
#define DR_STRIPES_MAX		8

/*
 * slot_index packs 4 entries in one __u64 (array elements are 8 bytes
 * whatever their size), 16 bits each: the slot number + 1 (0: none), and
 * DR_LANE_SHARED when more than one tracked process has this entry: those
 * that do not own it are counted through the `tracked` hash.
 */
#define DR_SLOT_LANES		4
#define DR_SLOT_LANE_BITS	16
#define DR_LANE_SLOT		0x7fffU	/* the slot number + 1 */
#define DR_LANE_SHARED		0x8000U
#define DR_SLOT_MAX		0x7ffeU	/* the highest slot number */

/* Index entries per tracked process at least (fewer collisions), and at least this many. */
#define DR_INDEX_PER_SLOT	4
#define DR_INDEX_MIN		65536

#endif /* DIRTYRATE_BPF_SLOTS_H */
