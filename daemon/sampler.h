/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The sample pass over all tracked processes, sliced so that it never
 * blocks the event loop for long: every SampleIntervalUSec a pass begins,
 * and it runs in steps (steps.h) of at most STEP_BUDGET_USEC, with the bus
 * (and everything else on the loop) served in between. A pass has two
 * phases, each walking the processes in PID order from a cursor, so that
 * processes may come and go between steps:
 *
 *   1. the soft-dirty pass of every process (process_pass());
 *   2. one snapshot of all fault counters, then the accounting of every
 *      process that has a sample (process_account()) and its event.
 *
 * The snapshot is taken in the step of phase 1's last pass, never a step
 * later: an interval's dirty pages end at its clears and its write faults
 * at the snapshot, and nothing else may run between the two.
 *
 * Reading the counters once, after every process's pass, keeps a foreign
 * clear that raced with a pass from escaping notice (process-stats.h).
 *
 * A process whose backend counts only faults (faults-only) has no pass to
 * make in phase 1: its whole sample is taken in phase 2, from the
 * snapshot, and when its write faults did not move it costs a map lookup
 * and a comparison, no /proc read (process_sample_faults()).
 *
 * The event of a process carries what its sample changed and comes only
 * when something did (process_take_changes()): an idle process whose rates
 * stay at 0 costs the bus nothing.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "process.h"
#include "steps.h"

struct manager;

struct sampler {
	sd_event_source *timer;		/* begins the next pass */
	struct steps steps;		/* continue the pass in progress */
	bool running, accounting;	/* a pass is in progress; in its phase 2 */
	bool overdue;			/* the timer fired during it: the next begins at its end */
	pid_t cursor;			/* the next process to visit has a PID >= cursor */
	bool faults_ok;			/* phase 2: the snapshot was read */
	struct instant snapshot;	/* phase 2: when it was taken */
	uint64_t begin_usec;		/* CLOCK_MONOTONIC when the pass began */
	uint64_t busy_usec;		/* time spent in its steps so far */
	uint64_t pages_read;		/* of processes' memory (page-sampling), so far */
	uint64_t prev_begin_usec;	/* when the pass before it began; 0: none */

	/* The last finished pass (LastSampleDurationUSec, LastSampleTimestamp,
	 * SampledPagesPerSec). */
	uint64_t last_duration_usec;	/* time spent in its steps, not the bus calls between */
	uint64_t last_end_realtime_usec;
	uint64_t last_pages_read;
	uint64_t last_period_usec;	/* from the beginning of the pass before it to its own */
	unsigned n_steps;		/* of the pass in progress, or the last one */
};

/* Adds the timer (first pass one interval from now) and the step source. */
int sampler_start(struct manager *m);
void sampler_stop(struct manager *m);
/* The interval changed: the next pass begins one new interval after the last began. */
int sampler_rearm(struct manager *m);

/* Begins a pass now (a no-op if one is running). */
void sampler_begin(struct manager *m);
/* Runs one step of the pass in progress, within budget_usec; 1 when the pass ended with it. */
int sampler_step(struct manager *m, uint64_t budget_usec);
/* Begins a pass and runs it to its end at once (tests, and nothing else). */
void sampler_run_pass(struct manager *m);
