/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reads dirtyrated into a snapshot, on one system bus connection (replaced
 * at the next scrape when the bus closed it: dbus-daemon restarted, or
 * gone). Two ways, chosen per scrape (exporter/README.md has the figures
 * behind them):
 *
 *   per scrape   the Manager's GetAll and GetManagedObjects, sent
 *                together: one consistent reading, or a 503;
 *   from the     the Manager's GetAll, and the processes from a copy kept
 *   cache        up to date from dirtyrated's signals (cache.c): a scrape
 *                of many processes does not wait for a GetManagedObjects,
 *                which costs dirtyrated, dbus-daemon and the exporter
 *                about 40 us of CPU per process, in series; the copy costs
 *                the exporter and dbus-daemon about 20 us per process per
 *                pass instead, scraped or not.
 *
 * The cache (--cache) is used with "yes" whenever it can be, with "auto"
 * from min_processes tracked processes on (and until fewer than three
 * quarters of that), with "no" never. It can only be with ReadAccess=all:
 * owner mode sends no per-process signals. A scrape reads per scrape while
 * it builds, and whenever it is not sure of it: its daemon is not the one
 * that answers the GetAll, the ReadAccess is not all, or it does not have
 * as many processes as the daemon tracks; then it is dropped and built
 * again at a later scrape.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "snapshot.h"

enum cache_mode { CACHE_NO, CACHE_AUTO, CACHE_YES, _CACHE_MODE_MAX };

extern const char *const cache_mode_name[_CACHE_MODE_MAX];

struct scrape_options {
	const char *bus_address;	/* NULL: the system bus (which honours DBUS_SYSTEM_BUS_ADDRESS) */
	enum cache_mode cache;
	size_t cache_min_processes;	/* for CACHE_AUTO */
	uint64_t cache_resync_usec;	/* how often the cache reads everything again */
};

struct scrape_client;

/*
 * The end of a scrape: a snapshot (the callee's to free) and error 0, or
 * NULL, a negative errno and a one-line reason for the HTTP 503 body.
 * Always called from the event loop, never from scrape_client_start().
 */
typedef void (*scrape_done_t)(struct snapshot *snapshot, int error, const char *reason, void *userdata);

int scrape_client_new(sd_event *event, const struct scrape_options *options, struct scrape_client **ret);
struct scrape_client *scrape_client_free(struct scrape_client *c);
static inline void scrape_client_freep(struct scrape_client **c) {
	scrape_client_free(*c);
}

/* Starts a scrape that ends within timeout_usec; -EBUSY while one runs. */
int scrape_client_start(struct scrape_client *c, uint64_t timeout_usec, scrape_done_t done, void *userdata);
