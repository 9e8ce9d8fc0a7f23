/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Turns one process's successive samples (dirty pages since the last pass,
 * fault counters now) into the numbers the Process object publishes.
 * Pure arithmetic: no I/O, so every rule below is unit-tested.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "fault-source.h"
#include "rate.h"

struct sample {
	uint64_t now_usec;		/* CLOCK_BOOTTIME at the midpoint of the pass's get+clear */
	uint64_t realtime_usec, monotonic_usec;	/* the same instant on those clocks */
	uint64_t pass_begin_nsec;	/* CLOCK_MONOTONIC when it began to get and clear
					 * soft-dirty state (rounded down: never late) */
	bool have_dirty;		/* a soft-dirty backend counted dirty_pages */
	uint64_t dirty_pages;		/* pages found dirty (and cleared) by this pass */
	bool have_faults;		/* the fault source returned counters (clears) */
	bool have_write_faults;		/* ... and its hook counts write faults */
	/* The pass's clear is counted by the clear tracepoint: what it cleared
	 * (cleared_pages_self) is the dirty count, exact where dirty_pages came
	 * from a read that raced the clear (clear-refs). */
	bool dirty_is_own_clears;
	struct fault_counts faults;
	/* dirty_pages is a statistical estimate (page-sampling) with this
	 * variance (pages²); new_pages of it are resident growth, which
	 * first-touch write faults replace where they are counted. */
	bool estimated;
	double variance_pages;
	uint64_t new_pages;
};

struct process_stats {
	bool have_baseline;
	uint64_t last_usec;
	uint64_t pending_pages;		/* counted in passes whose interval had no length */
	double pending_variance;	/* ... and their variance */

	bool have_fault_baseline;
	struct fault_counts last_faults;
	uint64_t last_pass_begin_nsec;	/* the previous pass's pass_begin_nsec */

	/* Published. NAN means "not measured": see the README. */
	double dirty_bytes_per_sec;
	/* Standard error of dirty_bytes_per_sec: 0 for an exact count, NAN with it
	 * and for faults-only (a lower bound, not an estimate with an error). */
	double dirty_bytes_per_sec_stderr;
	struct rate_avgs dirty_avgs;	/* sqrt(var*): the averages' standard errors */
	uint64_t dirtied_bytes_total;
	double write_faults_per_sec;
	uint64_t write_faults_total;
	uint64_t foreign_clears;
	bool last_sample_disturbed;
};

void process_stats_init(struct process_stats *s);

/*
 * Folds one sample in. The first sample is the baseline: what it counted
 * accumulated before tracking started and is dropped. With have_dirty false
 * and write-fault counters present (faults-only), write faults × page size
 * stand in for dirty bytes (an estimate). An interval in which someone else
 * cleared the process's soft-dirty bits is "disturbed": its dirty count is
 * only a lower bound, so DirtyBytesPerSec is NAN for it and the averages are
 * left alone rather than pulled down.
 *
 * With dirty_is_own_clears, the dirty count is the growth of
 * cleared_pages_self since the last sample (the pass's own clear), not
 * dirty_pages, once there is a fault baseline.
 *
 * Which intervals a foreign clear disturbs: the one whose passes bracket it.
 * The counters are read after the passes, so a clear made between the
 * previous pass and the previous read was counted then, yet it also cleared
 * bits this interval should have found. Hence an interval is disturbed when
 * the counters show a new foreign clear, or when the last one (its time)
 * happened at or after the previous pass began.
 *
 * An estimated count (in->estimated) carries its variance into a standard
 * error of the rate and of each average; with write-fault counters its
 * new_pages are replaced by the first-touch write faults of the interval,
 * which are exactly the pages that became resident by a write.
 *
 * Returns 1 when the interval produced rates, 0 when it only set the
 * baseline or had no length.
 */
int process_stats_account(struct process_stats *s, const struct sample *in, uint64_t page_size);

/*
 * Forgets the time and fault baselines (not the totals or the last rates):
 * the next sample starts a new interval. Used when a process's backend or
 * address space changed (fallback, exec) so no interval spans both.
 */
void process_stats_rebaseline(struct process_stats *s);
