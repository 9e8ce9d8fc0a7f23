/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tracked mode's layout, shared by faults.bpf.c and faults.c (fixed-width
 * types only). A tracked process owns one slot of the `slots` array; the
 * `slot_index` array, indexed by kernel tgid (the initial PID namespace's,
 * what bpf_get_current_pid_tgid() returns), says which: a fault finds its
 * counters with two array indexings and no hash. See bpf/README.md.
 */
#ifndef DIRTYRATE_BPF_SLOTS_H
#define DIRTYRATE_BPF_SLOTS_H

#include <linux/types.h>
#include <dirtyrate/faults.h>

struct dr_slot {
	/*
	 * The kernel tgid the slot is counting for, 0 once that process
	 * exited. slot_index entries are never cleared by the programs, so
	 * a new process reusing an old tgid can find the old process's slot
	 * there: this tells the two apart.
	 */
	__u64 kernel_tgid;
	struct dr_fault_counts counts;
};

/*
 * slot_index packs the slots of 4 consecutive tgids in one __u64 (array
 * elements are 8 bytes whatever their size): 16 bits each, slot number + 1,
 * 0 for none. So a slot number is below 65535, and the index takes 2 bytes
 * per possible pid: 64 KiB for the default pid_max of 32768, 8 MiB at the
 * limit (4M).
 */
#define DR_SLOT_LANES		4
#define DR_SLOT_LANE_BITS	16
#define DR_SLOT_MAX_LANE	0xffff	/* one lane's bits */
#define DR_SLOT_MAX		0xfffe	/* the highest slot number */

#endif /* DIRTYRATE_BPF_SLOTS_H */
