/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One tracked process (the org.dirtyrate1.Process object): its pinned
 * identity (pidfd + /proc/PID dir fd + start time), the backend measuring
 * it, and its published numbers. All access to the process goes through
 * fds opened via the pinned /proc/PID directory, so after the PID is reused
 * they fail instead of reading the new process.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "backend.h"
#include "object-path.h"
#include "process-stats.h"

struct manager;

enum track_origin {
	TRACK_ORIGIN_RULE,	/* selected by a [Track] rule; dropped when no rule matches */
	TRACK_ORIGIN_API,	/* TrackProcess(): stays until UntrackProcess() or exit */
};

struct process {
	struct manager *manager;

	pid_t pid;
	uint64_t start_ticks;		/* identity, with pid */
	uint64_t start_boottime_usec;	/* StartTimestampBoottime: CLOCK_BOOTTIME */
	uint64_t start_realtime_usec;	/* StartTimestamp: CLOCK_REALTIME */
	int pidfd, procfd;
	sd_event_source *exit_source;	/* the manager's watch on pidfd */
	char path[PROCESS_PATH_MAX];

	enum track_origin origin;
	size_t backend;			/* index in the manager's backends */
	const struct backend_ops *ops;	/* NULL until one is open */
	void *backend_state;
	bool faults_tracked;		/* registered with the fault source */

	char *comm, *unit, *cgroup;
	uid_t uid;
	uint64_t resident_bytes;
	uint64_t scanned_bytes;		/* ScannedBytes: writable mappings the last pass walked */
	uint64_t last_sample_realtime_usec;	/* LastSampleTimestamp, 0 before */
	uint64_t last_sample_monotonic_usec;	/* LastSampleTimestampMonotonic, 0 before */

	struct process_stats stats;
	struct sample pending;		/* between process_pass() and process_account() */
	bool has_pending;
};

/*
 * Pins the process, reads its facts, opens the first backend at or after
 * the manager's default that it permits, and takes the baseline pass.
 * -ESRCH: no such process; -EOPNOTSUPP: a kernel thread (no user memory to
 * measure).
 */
int process_new(struct manager *m, pid_t pid, enum track_origin origin, struct process **ret);
struct process *process_free(struct process *p);

/*
 * A sample is two steps, so that one fault-counter snapshot taken after
 * the passes of all processes serves them all (see sampler.c):
 *
 * process_pass(): one get+clear pass of the process's backend into
 * p->pending, stamped with the midpoint of its get+clear. Returns 1 when
 * there is a sample to account, 0 when the pass started a new interval
 * instead (exec, backend fallback, a failed pass), -ESRCH when the process
 * is gone. A fallback changes p->backend.
 *
 * process_account(): adds the fault counters from the fault source's last
 * snapshot (none if !faults_ok) and folds the pending sample into the
 * published numbers.
 */
int process_pass(struct process *p);
void process_account(struct process *p, bool faults_ok);

/* Rereads comm, owner, cgroup and unit (they may change at any time). */
int process_refresh_facts(struct process *p);

/* Whether the pinned process still runs (its pidfd is not readable). */
bool process_alive(const struct process *p);

const char *process_backend_name(const struct process *p);
