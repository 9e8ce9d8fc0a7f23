/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Long work in short steps, with the event loop served in between: the
 * sample pass (sampler.c) and the [Track] rescan (rescan.c). A job is a
 * step function that does at most about STEP_BUDGET_USEC of work from
 * where the previous step left off and says whether the job is done; the
 * job's struct steps runs it, one step per event-loop iteration, until it
 * is.
 *
 * A step is a timer due at once, at the bus's priority. sd-event
 * dispatches one source per iteration, the longest pending first among
 * equals: a call that arrived during a step goes before the next step, and
 * under a stream of calls steps and calls take turns, so neither starves
 * the other. (A defer source would stay pending, the oldest, and run every
 * step back to back.) Two jobs in progress take turns the same way, and
 * the watchdog is fed between any two steps.
 */
#pragma once

#include <stdint.h>

#include <systemd/sd-event.h>

struct manager;

/* Long enough for a few dozen processes, short next to a bus round trip's tail. */
#define STEP_BUDGET_USEC UINT64_C(2000)

/* One step of a job, within budget_usec: 1 when the job is done, 0 when more remains. */
typedef int (*step_fn_t)(struct manager *m, uint64_t budget_usec);

struct steps {
	sd_event_source *source;	/* a timer due at once while the job runs; NULL without a loop */
	step_fn_t step;
	struct manager *manager;
	const char *what;		/* for the log: "sample pass", "rescan" */
};

/* Adds the (disabled) step source of a job. */
int steps_add(struct steps *s, struct manager *m, step_fn_t step, const char *what);
void steps_remove(struct steps *s);
/* The next step is due now. */
int steps_schedule(struct steps *s);
/* No further step (the job ended, or was abandoned). */
void steps_cancel(struct steps *s);
