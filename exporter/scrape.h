/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reads dirtyrated: the Manager's properties (GetAll) and every Process
 * object this client may see (GetManagedObjects), two calls sent together
 * on one system bus connection, into a snapshot. A connection the bus
 * closed (dbus-daemon restarted, or gone) is replaced at the next scrape.
 *
 * One GetManagedObjects per scrape rather than a cache fed by signals:
 * exporter/README.md has the measurements. In short, with ReadAccess=owner
 * the daemon sends no per-process signals at all, a cache would process
 * every pass's signals (one per process per interval) between scrapes
 * that come far less often, and Comm, Unit and UID change without one.
 */
#pragma once

#include <stdint.h>

#include <systemd/sd-event.h>

#include "snapshot.h"

struct scrape_client;

/*
 * The end of a scrape: a snapshot (the callee's to free) and error 0, or
 * NULL, a negative errno and a one-line reason for the HTTP 503 body.
 * Always called from the event loop, never from scrape_client_start().
 */
typedef void (*scrape_done_t)(struct snapshot *snapshot, int error, const char *reason, void *userdata);

/* bus_address: NULL for the system bus (which honours DBUS_SYSTEM_BUS_ADDRESS). */
int scrape_client_new(sd_event *event, const char *bus_address, struct scrape_client **ret);
struct scrape_client *scrape_client_free(struct scrape_client *c);
static inline void scrape_client_freep(struct scrape_client **c) {
	scrape_client_free(*c);
}

/* Starts a scrape that ends within timeout_usec; -EBUSY while one runs. */
int scrape_client_start(struct scrape_client *c, uint64_t timeout_usec, scrape_done_t done, void *userdata);
