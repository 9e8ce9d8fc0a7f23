/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libdrbpf: per-process write-fault and soft-dirty-clear counters kept by
 * the BPF programs of bpf/faults.bpf.c. Open once, tell it which processes
 * to track (or count all), read the counters on an interval.
 *
 * Process ids here are tgids in the caller's PID namespace (the one of
 * /proc/self/ns/pid when dr_faults_open() ran), whichever it is: the
 * programs translate the kernel's numbers. Processes the caller cannot see
 * (in an ancestor or unrelated namespace) are never counted; their clears
 * of visible processes are foreign.
 * Functions returning int return 0 (or a count) on success, -errno on error.
 * Not thread-safe: one thread at a time per struct dr_faults.
 */
#ifndef DIRTYRATE_BPF_FAULTS_H
#define DIRTYRATE_BPF_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <dirtyrate/faults.h>

struct dr_faults;

struct dr_faults_opts {
	/* Count every process (LRU-evicted when the map is full) instead of
	 * only the tgids given to dr_faults_track(). */
	bool all_processes;
	/* Processes counted at once; 0 means DR_FAULTS_DEFAULT_ENTRIES.
	 * At most 32767 in tracked mode (-EINVAL above). */
	unsigned int max_entries;
	/* Clears made by this tgid (in the caller's PID namespace, like
	 * every tgid here) count as "self"; 0 means getpid(). */
	pid_t self_tgid;
	/* NULL: probe for the best fault hook. Otherwise the dr_faults_hook()
	 * name of the one to use (for debugging and tests): no fallback. */
	const char *hook;
};

/*
 * Open, load and attach. On failure returns -errno, sets *out to NULL and
 * writes a one-line reason for an operator to @why ("needs CAP_BPF ...",
 * "kernel has no BTF ..."). On success @why is empty, or says which better
 * hook was unavailable and why. @why may be NULL.
 */
int dr_faults_open(const struct dr_faults_opts *opts, struct dr_faults **out,
		   char *why, size_t why_len);
void dr_faults_close(struct dr_faults *f);

/*
 * Where libbpf's own messages go, one line each (level: 0 warning, 1 info,
 * 2 debug); NULL silences them. Without a call, libbpf's default: warnings
 * and info on stderr. Process-wide (it is libbpf's print callback).
 */
void dr_faults_set_print(void (*fn)(int level, const char *line));

/* "tp_btf/page_fault_user" | "fexit/handle_mm_fault" | "perf-event" */
const char *dr_faults_hook(const struct dr_faults *f);
/*
 * True where the kernel has softdirty:softdirty_clear and it is counted
 * (from a non-initial PID namespace that also needs bpf_task_from_pid(),
 * Linux 6.2+; dr_faults_open()'s @why says so when it is missing).
 */
bool dr_faults_has_clear_tracepoint(const struct dr_faults *f);

/* What the counters mean with the hook in use (dr_faults_caps()). */
#define DR_FAULTS_CAP_WRITES		(1u << 0)	/* write faults are counted */
#define DR_FAULTS_CAP_WRITE_SPLIT	(1u << 1)	/* wp_faults vs np_write_faults is
							 * real; without it every write
							 * fault is in np_write_faults */
#define DR_FAULTS_CAP_CLEARS		(1u << 2)	/* clears_* are counted */
unsigned int dr_faults_caps(const struct dr_faults *f);

/* Capacity: processes counted (and, in tracked mode, trackable) at once. */
unsigned int dr_faults_max_entries(const struct dr_faults *f);

/*
 * Start counting @tgid (tracked mode; a no-op returning 0 in all mode).
 * Its counters start at zero. -E2BIG when max_entries are tracked already.
 * A process's counters and tracked mark go away by themselves when it exits.
 */
int dr_faults_track(struct dr_faults *f, pid_t tgid);
/* Stop counting @tgid and drop its counters; 0 also if it was not tracked. */
int dr_faults_untrack(struct dr_faults *f, pid_t tgid);
/* Current counters of @tgid; -ENOENT if it has none (yet, or any more). */
int dr_faults_lookup(struct dr_faults *f, pid_t tgid, struct dr_fault_counts *out);

struct dr_fault_entry {
	pid_t tgid;
	struct dr_fault_counts counts;
};

/*
 * Every process's counters in one pass (batched map reads where the kernel
 * has them). Stores at most @cap entries in @out and returns how many
 * there were, like snprintf: a result > @cap means @out was too small.
 * dr_faults_max_entries() entries hold every process counted. Order is
 * unspecified.
 */
int dr_faults_read_all(struct dr_faults *f, struct dr_fault_entry *out, unsigned int cap);

#endif /* DIRTYRATE_BPF_FAULTS_H */
