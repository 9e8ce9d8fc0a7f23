/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The manager on the bus: the connection, org.dirtyrate1.Manager and the
 * ObjectManager at /org/dirtyrate1, and the core's events turned into
 * signals (as systemd's oomd-manager-bus.h does for oomd's Manager).
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "bus-list-cache.h"

struct manager;
struct sd_bus;

struct manager_bus {
	struct manager *manager;
	struct sd_bus *bus;
	/* Reload() calls whose rescan runs: answered when it ends. */
	struct sd_bus_message **reloads;
	size_t n_reloads;
	struct list_cache list_cache;	/* ListProcesses' rows until the next change */
};

/*
 * Connects (to address, else the system bus), publishes the objects,
 * subscribes to the manager's events and requests the name; READY=1
 * follows once the name is ours.
 */
int bus_manager_new(struct manager *m, const char *address, struct manager_bus **ret);
struct manager_bus *bus_manager_free(struct manager_bus *b);
