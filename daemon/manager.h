/* SPDX-License-Identifier: GPL-2.0-only */
/* The daemon's state: event loop, bus, config, backends and tracked processes. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <dirtyrate/pagemap-sd.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "backend.h"
#include "config.h"
#include "fault-source.h"
#include "tracked.h"

#define MANAGER_IOCTL_VEC_LEN 4096 /* 32 KiB of offsets per PAGEMAP_SD call */

/* A process the operator untracked: rules must not pick it up again. */
struct identity {
	pid_t pid;
	uint64_t start_ticks;
};

struct manager {
	sd_event *event;
	sd_bus *bus;
	const char *bus_address;	/* NULL: the system bus */

	char *config_path;
	struct config config;
	uint64_t sample_interval_usec;	/* config's, or SampleIntervalUSec set at runtime */

	struct backend_support support;
	enum backend default_backend;	/* the best available, or the configured one */
	struct fault_source *faults;	/* NULL: no fault counters */
	uint64_t page_size;
	long ticks_per_sec;
	loff_t *ioctl_vec;

	struct tracked **tracked;	/* sorted by pid */
	size_t n_tracked;
	struct identity *untracked;
	size_t n_untracked;

	sd_event_source *sample_timer, *rescan_timer;
	uint64_t last_sample_duration_usec;
};

int manager_new(const char *config_path, const char *bus_address, struct manager **ret);
struct manager *manager_free(struct manager *m);
static inline void manager_freep(struct manager **m) { manager_free(*m); }

/* Probes, connects, registers objects and requests the name; READY=1 follows
 * from the name-acquired callback. */
int manager_start(struct manager *m);
int manager_run(struct manager *m);

/* Rereads the config file; on failure the old one stays and *ret_error says why. */
int manager_reload(struct manager *m, char **ret_error);
int manager_set_sample_interval(struct manager *m, uint64_t usec);

struct tracked *manager_find(struct manager *m, pid_t pid);
/* Tracks pid (idempotent: an API call upgrades a rule-tracked process). */
int manager_track(struct manager *m, pid_t pid, enum track_origin origin, struct tracked **ret);
/* by_operator: remember it so rules do not track it again. */
void manager_untrack(struct manager *m, struct tracked *t, bool by_operator, const char *why);

/* Signals: the bus side lives in bus-manager.c and bus-process.c. */
int bus_manager_register(struct manager *m);
int bus_process_register(struct manager *m);
int bus_manager_emit_changed(struct manager *m, const char *property);
int bus_process_emit_sampled(struct tracked *t);
int bus_process_emit_added(struct tracked *t);
int bus_process_emit_removed(struct tracked *t);
int bus_process_emit_backend_changed(struct tracked *t);
