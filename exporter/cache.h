/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A copy of dirtyrated's Process objects kept up to date from its signals,
 * so that a scrape of many processes needs no GetManagedObjects (only the
 * Manager's GetAll). exporter/README.md says when it is used and what it
 * costs; scrape.c decides.
 *
 * It is built with one GetManagedObjects sent after its signal matches:
 * every signal dirtyrated sent before that reply was built is in the
 * reply, every one after it arrives after the reply (one sender, one
 * order), so signals that arrive before the reply are dropped and the
 * others applied. From then on:
 *   InterfacesAdded, InterfacesRemoved   the set of processes, exactly;
 *   PropertiesChanged of a Process       its rates, counters, sizes and
 *                                        backend, once per pass;
 *   a resync every resync_usec           a GetManagedObjects in the
 *                                        background (never in a scrape's
 *                                        path) that replaces the copy: what
 *                                        changes without a signal (Comm,
 *                                        Unit, UID) is at most that old,
 *                                        and a lost signal is repaired.
 * Only signals from the daemon that answered the build count. The cache
 * breaks for good (the scrape client drops it) when dirtyrated's name
 * changes owner (a restart, a stop), when its ReadAccess changes (owner
 * mode sends no per-process signals), on a signal it cannot read or that
 * names a process it does not have, and when a resync fails. A broken or
 * building cache is never read: scrapes read per scrape meanwhile.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "snapshot.h"

struct process_cache;

/* Adds the matches and sends the build's GetManagedObjects, with at most timeout_usec for each reading. */
int process_cache_new(sd_bus *bus, sd_event *event, uint64_t resync_usec, uint64_t timeout_usec,
		      struct process_cache **ret);
struct process_cache *process_cache_free(struct process_cache *c);
static inline void process_cache_freep(struct process_cache **c) {
	process_cache_free(*c);
}

/* Built, and not broken since: its processes may be read. */
bool process_cache_live(const struct process_cache *c);
/* Broken: drop it. *reason says why (for the log). */
bool process_cache_broken(const struct process_cache *c, const char **reason);
/* The unique bus name of the daemon it follows (NULL while building). */
const char *process_cache_owner(const struct process_cache *c);
size_t process_cache_size(const struct process_cache *c);
/* Signals applied since it was built (for the log and the benchmark). */
uint64_t process_cache_signals(const struct process_cache *c);

/* Copies every process, in PID order, into s (which has none yet). */
int process_cache_copy(const struct process_cache *c, struct snapshot *s);
