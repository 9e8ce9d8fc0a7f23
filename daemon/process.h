/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One tracked process (the org.dirtyrate1.Process object): its pinned
 * identity (a pidfd and the start time), the backend measuring it, and its
 * published numbers. Its /proc/PID directory is opened when needed and
 * trusted only if the pidfd says the process still runs once it is open:
 * until the process is gone its PID cannot be reused, and files opened
 * through that directory fail afterwards instead of reading a new owner of
 * the PID. One fd per process stays open (plus its backend's, if any).
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

/*
 * The values a sample pass publishes, one bit each: what changed since they
 * were last announced (process_take_changes()). Their order is that of the
 * Process object's properties (bus-process.c names them).
 */
enum process_change {
	PROCESS_CHANGED_DIRTY_RATE		= 1 << 0,
	PROCESS_CHANGED_DIRTY_AVG10		= 1 << 1,
	PROCESS_CHANGED_DIRTY_AVG60		= 1 << 2,
	PROCESS_CHANGED_DIRTY_AVG300		= 1 << 3,
	PROCESS_CHANGED_DIRTY_STDERR		= 1 << 4,
	PROCESS_CHANGED_DIRTY_AVG10_STDERR	= 1 << 5,
	PROCESS_CHANGED_DIRTY_AVG60_STDERR	= 1 << 6,
	PROCESS_CHANGED_DIRTY_AVG300_STDERR	= 1 << 7,
	PROCESS_CHANGED_DIRTIED_TOTAL		= 1 << 8,
	PROCESS_CHANGED_WRITE_FAULT_RATE	= 1 << 9,
	PROCESS_CHANGED_WRITE_FAULTS_TOTAL	= 1 << 10,
	PROCESS_CHANGED_FOREIGN_CLEARS		= 1 << 11,
	PROCESS_CHANGED_DISTURBED		= 1 << 12,
	PROCESS_CHANGED_RESIDENT		= 1 << 13,
	PROCESS_CHANGED_SCANNED			= 1 << 14,
	PROCESS_CHANGED_SAMPLED_PAGES		= 1 << 15,
	_PROCESS_CHANGED_COUNT			= 16,
};

/* Those values as last announced. */
struct process_announced {
	double dirty_rate, dirty_stderr, dirty_avg[3], dirty_avg_var[3], write_fault_rate;
	uint64_t dirtied_total, write_faults_total, foreign_clears, resident, scanned, sampled_pages;
	bool disturbed;
};

/* The three clocks at one instant. */
struct instant {
	uint64_t monotonic, boottime, realtime;
};

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
	int pidfd;
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
	/* An estimating backend's (page-sampling) resident writable pages, its
	 * weight in the sampling budget (summed in the manager), and the pages
	 * its last pass read (SampledPages). */
	uint64_t sampled_resident_pages;
	uint64_t sampled_pages;
	uint64_t page_faults;		/* minflt + majflt at the last /proc/PID/stat read */
	uint64_t last_sample_realtime_usec;	/* LastSampleTimestamp, 0 before */
	uint64_t last_sample_monotonic_usec;	/* LastSampleTimestampMonotonic, 0 before */

	struct process_stats stats;
	struct sample pending;		/* between process_pass() and process_account() */
	bool has_pending;
	struct process_announced announced;
};

/*
 * Pins the process, reads its facts, opens the first backend at or after
 * index 'backend' of the manager's that it permits, and takes the baseline
 * pass.
 * -ESRCH: no such process; -EOPNOTSUPP: a kernel thread (no user memory to
 * measure).
 */
int process_new(struct manager *m, pid_t pid, enum track_origin origin, size_t backend, struct process **ret);
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

/*
 * The whole sample of a process whose backend counts only faults
 * (backend_ops.counts_only_faults), after the fault counters' snapshot
 * taken at 'snapshot' (none if !faults_ok): the counters are its count and
 * that instant its time. When its write-fault counters did not move since
 * its last sample it is idle: nothing is read from /proc (its ResidentBytes
 * and ScannedBytes stay as they were; the rescan refreshes its facts and
 * RSS every RescanIntervalSec, its exit watch sees it go). Otherwise it
 * reads /proc/PID/stat and its maps as process_pass() does. Returns as
 * process_pass(), with the sample folded in when it returns 1.
 */
int process_sample_faults(struct process *p, bool faults_ok, const struct instant *snapshot);

/*
 * Which of the published values (enum process_change) differ from what
 * was last announced, and marks them announced. Two NaNs are the same
 * value.
 */
unsigned process_take_changes(struct process *p);

struct instant instant_now(const struct manager *m);

/* Rereads comm, owner, cgroup and unit (they may change at any time). */
int process_refresh_facts(struct process *p);
/* The target of /proc/PID/exe, for rules that match on it. */
int process_read_exe(struct process *p, char **ret);

/* /proc/PID of this process (see above), or -ESRCH once it is gone. */
int process_open_dir(const struct process *p);

/* Whether the pinned process still runs (its pidfd is not readable). */
bool process_alive(const struct process *p);

const char *process_backend_name(const struct process *p);
