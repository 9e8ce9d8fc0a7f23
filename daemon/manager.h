/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's core (the org.dirtyrate1.Manager object): event loop,
 * config, backends, fault counters and the tracked processes. It knows
 * nothing of D-Bus: whoever publishes it (bus-manager.c) registers a
 * struct manager_events and hears about every change through it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <systemd/sd-event.h>

#include "backend.h"
#include "config.h"
#include "fault-source.h"
#include "process.h"
#include "rescan.h"
#include "sampler.h"

/* A process the operator untracked: rules must not pick it up again. */
struct identity {
	pid_t pid;
	uint64_t start_ticks;
};

/* What changed on the manager itself (a bit mask). */
enum manager_change {
	MANAGER_CHANGED_BACKEND = 1 << 0,		/* the default backend */
	MANAGER_CHANGED_SAMPLE_INTERVAL = 1 << 1,
	MANAGER_CHANGED_TRACKED = 1 << 2,		/* the number of processes */
	MANAGER_CHANGED_LAST_SAMPLE = 1 << 3,		/* a pass over all of them ended */
	MANAGER_CHANGED_READ_ACCESS = 1 << 4,
};

/*
 * The core's events. Each may be NULL. A process is announced with
 * process_added once it is in the manager's list, and process_removed is
 * called while it still is (so its object still resolves).
 */
struct manager_events {
	void (*process_added)(struct process *p, void *userdata);
	void (*process_removed)(struct process *p, void *userdata);
	/* changes: what its sample changed (enum process_change), never 0. */
	void (*process_sampled)(struct process *p, unsigned changes, void *userdata);
	void (*process_backend_changed)(struct process *p, void *userdata);
	void (*manager_changed)(struct manager *m, unsigned changes, void *userdata);
	/* The rescan of a successful manager_reload() ended: the reload is done. */
	void (*reload_finished)(struct manager *m, void *userdata);
};

struct manager {
	sd_event *event;

	char *config_path;
	struct config config;
	uint64_t sample_interval_usec;	/* the config's, or SetSampleInterval()'s */

	const struct backend_ops *const *backends;	/* best first */
	size_t n_backends;
	bool *available;		/* per backend: this kernel has it */
	size_t default_backend;		/* the best available, or [Daemon] Backend= */
	struct fault_source *faults;	/* NULL: no fault counters */
	uint64_t page_size;
	long ticks_per_sec;
	/* The clock of samples and intervals; the sampler's test fakes it. */
	uint64_t (*now_usec)(clockid_t clock);

	/* Σ sampled_resident_pages of the processes: SampleBudgetPagesPerSec is
	 * shared in proportion to each one's part of it. */
	uint64_t sampled_resident_pages;

	struct process **processes;	/* sorted by pid */
	size_t n_processes;
	struct identity *untracked;
	size_t n_untracked;

	struct rescan rescan;
	struct sampler sampler;
	bool reload_pending;		/* a reload's rescan runs (READY=1 and reload_finished when it ends) */

	const struct manager_events *events;
	void *events_userdata;
};

/*
 * Probes the backends of the table (best first) and loads the config; a
 * bad config file is an error here (logged with FILE:LINE).
 */
int manager_new(const char *config_path, const struct backend_ops *const *backends, size_t n_backends,
		struct manager **ret);
struct manager *manager_free(struct manager *m);
static inline void manager_freep(struct manager **m) {
	manager_free(*m);
}

/* Opens the fault counters and sets up the event loop, signals and timers. */
int manager_start(struct manager *m);
int manager_run(struct manager *m);

void manager_set_events(struct manager *m, const struct manager_events *events, void *userdata);

/*
 * Rereads the config file; on failure the old one stays and *ret_error
 * says why. On success the new rules apply in a rescan that begins now
 * (one in progress starts over): the reload is done when it ends, with
 * READY=1 and the reload_finished event (before this returns if there is
 * no event loop). Until then m->reload_pending is set.
 */
int manager_reload(struct manager *m, char **ret_error);
/* -ERANGE outside SAMPLE_INTERVAL_MIN_USEC..SAMPLE_INTERVAL_MAX_USEC. */
int manager_set_sample_interval(struct manager *m, uint64_t usec);

/* The first available backend at index 'from' or after; n_backends if none. */
size_t manager_next_backend(const struct manager *m, size_t from);

/* The tracked process with this PID, also one whose exit is not handled yet. */
struct process *manager_find_process(struct manager *m, pid_t pid);
/*
 * The tracked process with the lowest PID >= pid, or NULL: a walk in PID
 * order from a cursor, which processes may join and leave between two
 * steps (steps.h), visits each process there throughout once.
 */
struct process *manager_first_process_from(struct manager *m, pid_t pid);
/*
 * The tracked process with this PID if it still runs. A process that has
 * exited but whose exit is not handled yet counts as gone; this is the only
 * liveness check, and it changes nothing, so read paths may use it.
 */
struct process *manager_get_process(struct manager *m, pid_t pid);
/*
 * Tracks pid (idempotent: an API call upgrades a rule-tracked process).
 * A new process is measured by backend_rule's Backend= if this kernel has
 * it, else (or with backend_rule NULL) by the default backend.
 */
int manager_track(struct manager *m, pid_t pid, enum track_origin origin, const struct track_rule *backend_rule,
		  struct process **ret);
/* by_operator: remember it so rules do not track it again. */
void manager_untrack(struct manager *m, struct process *p, bool by_operator, const char *why);

/* The rescan ended (rescan.c): finishes a reload that waits for it. */
void manager_rescan_finished(struct manager *m);

/* Events, for the core's own files. */
void manager_emit_sampled(struct manager *m, struct process *p, unsigned changes);
void manager_emit_backend_changed(struct manager *m, struct process *p);
void manager_emit_changed(struct manager *m, unsigned changes);
