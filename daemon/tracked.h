/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One tracked process: its pinned identity (pidfd + /proc/PID dir fd + start
 * time), the backend measuring it, and its published numbers. All access to
 * the process goes through fds opened via the pinned /proc/PID directory, so
 * after the PID is reused they fail instead of reading the new process.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "accounting.h"
#include "backend.h"
#include "object-path.h"

struct manager;

enum track_origin {
	TRACK_ORIGIN_RULE,	/* selected by a [Track] rule; dropped when no rule matches */
	TRACK_ORIGIN_API,	/* TrackProcess(): stays until UntrackProcess() or exit */
};

struct tracked {
	struct manager *manager;

	pid_t pid;
	uint64_t start_ticks;		/* identity, with pid */
	uint64_t start_usec;		/* StartTimeUSec: CLOCK_BOOTTIME */
	int pidfd, procfd;
	sd_event_source *exit_source;
	char path[PROCESS_PATH_MAX];
	bool announced;			/* InterfacesAdded sent: signals may follow */

	enum track_origin origin;
	enum backend backend;
	int pagemap_fd, clear_refs_fd;	/* per backend; -EBADF when unused */
	bool faults_tracked;		/* registered with the fault source */

	char *comm, *unit, *cgroup;
	uid_t uid;
	uint64_t resident_bytes;
	uint64_t tracked_bytes;		/* writable mappings walked by the last pass */
	uint64_t last_sample_usec;	/* CLOCK_REALTIME of the last pass, 0 before */

	struct proc_stats stats;
	struct sample pending;		/* between tracked_pass() and tracked_account() */
	bool has_pending;
};

/*
 * Pins the process, reads its facts, opens the best backend it permits and
 * takes the baseline pass. -ESRCH: no such process; -EOPNOTSUPP: a kernel
 * thread (no user memory to measure).
 */
int tracked_new(struct manager *m, pid_t pid, enum track_origin origin, struct tracked **ret);
struct tracked *tracked_free(struct tracked *t);

/*
 * A sample is two steps, so that one fault-counter snapshot taken after
 * the passes of all processes serves them all (see manager.c):
 *
 * tracked_pass(): one get+clear pass of the process's soft-dirty backend
 * (none for faults-only) into t->pending. Returns 1 when there is a sample
 * to account, 0 when the pass started a new interval instead (exec, backend
 * fallback, a failed pass), -ESRCH when the process is gone.
 *
 * tracked_account(): adds the fault counters from the fault source's last
 * snapshot (none if !faults_ok) and folds the pending sample into the
 * published numbers.
 */
int tracked_pass(struct tracked *t);
void tracked_account(struct tracked *t, bool faults_ok);

/* Rereads comm, owner, cgroup and unit (they may change at any time). */
int tracked_refresh_facts(struct tracked *t);

/* Whether the pinned process still runs (its pidfd is not readable). */
bool tracked_alive(const struct tracked *t);
