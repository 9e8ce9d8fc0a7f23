/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The [Track] rescan: matching every process against the config's rules,
 * at start-up, on reload and every RescanIntervalSec. Like the sample pass
 * it runs in steps (steps.h), with the bus, the exit watches, signals and
 * the watchdog served in between, so that a rescan that tracks thousands
 * of processes blocks nothing. It has three phases, each taken up where
 * the last step left it, so that processes may come and go between steps:
 *
 *   1. every tracked process in PID order from a cursor: its facts
 *      refreshed, and a rule-tracked one untracked when it is gone or no
 *      rule matches it any more;
 *   2. /proc, read on from where the last step stopped (the directory
 *      stays open; /proc lists processes in PID order and resumes at the
 *      next PID): each process a rule matches and that is not tracked (or
 *      whose PID is now another process's) gets tracked;
 *   3. the identities the operator untracked, each forgotten once its
 *      process is gone.
 *
 * Phases 2 and 3 only run when there are rules.
 */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "rules.h"
#include "steps.h"

struct manager;

enum rescan_phase {
	RESCAN_RECHECK,
	RESCAN_SCAN,
	RESCAN_PRUNE,
};

struct rescan {
	sd_event_source *timer;		/* begins the next periodic rescan */
	struct steps steps;		/* continue the rescan in progress */
	bool running;
	enum rescan_phase phase;
	struct facts_needed need;	/* what the rules look at */
	pid_t cursor;			/* RECHECK: the next process to visit has a PID >= cursor */
	DIR *proc;			/* SCAN: /proc, open across steps */
	size_t prune_left;		/* PRUNE: untracked identities [0, prune_left) not yet checked */
	unsigned n_steps;		/* of the rescan in progress, or the last one */
	uint64_t begin_usec;		/* CLOCK_MONOTONIC when it began */
	uint64_t busy_usec;		/* time spent in its steps so far */
};

/* Adds the step source and the timer; the first rescan begins at once. */
int rescan_start(struct manager *m);
void rescan_stop(struct manager *m);

/*
 * Begins a rescan now, its steps scheduled on the event loop (if any). One
 * in progress starts over from its beginning (the rules changed: a reload).
 */
void rescan_begin(struct manager *m);
/* Runs one step of the rescan in progress, within budget_usec; 1 when the rescan ended with it. */
int rescan_step(struct manager *m, uint64_t budget_usec);
/* Begins a rescan and runs it to its end at once (without an event loop: tests). */
void rescan_run(struct manager *m);
