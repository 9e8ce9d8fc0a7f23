/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ListProcesses' rows, kept between passes. They change only when a pass
 * ends (the rates, RSS) or a process comes or goes, while dashboards may
 * ask for them many times a second from many connections: a call then
 * costs the marshalling of the rows it may see and nothing more (no UTF-8
 * check of each comm, no walk through the processes). The rows are built
 * at the first call after a change, for all processes with their UIDs, so
 * that one set serves every caller's view (bus-read-access.h).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>

struct manager;
struct read_grant;

struct list_row {
	uint32_t pid;
	uid_t uid;
	char *path;			/* owned, as comm: a process may go before the next call */
	char *comm;			/* valid UTF-8 (bus_string_utf8()) */
	double dirty_avg10, write_faults_per_sec;
	uint64_t resident_bytes;
};

struct list_cache {
	struct list_row *rows;		/* in PID order */
	size_t n;
	bool valid;
	unsigned builds;		/* how many times the rows were built (tests) */
};

/* The rows are stale: a pass ended, or a process came or went. */
void list_cache_invalidate(struct list_cache *c);
void list_cache_done(struct list_cache *c);

/* Appends a(uosddt): the rows g may see, built first if stale. */
int list_cache_append(struct list_cache *c, struct manager *m, const struct read_grant *g, sd_bus_message *reply);
