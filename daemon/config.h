/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * /etc/dirtyrate/dirtyrated.conf: an INI file (format in README.md).
 *
 *   [Daemon]
 *   SampleIntervalSec=1s
 *   RescanIntervalSec=10s
 *   Backend=auto
 *   SampleBudgetPagesPerSec=1024
 *
 *   # One section per rule; a process matching every condition of any
 *   # rule is tracked. Backend= is not a condition: it says how the
 *   # processes the rule tracks are measured.
 *   [Track]
 *   Unit=postgresql*.service
 *   MinResidentBytes=64M
 *   Backend=faults-only
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "backend.h"
#include "util.h"

#ifndef CONFIG_DEFAULT_PATH /* meson passes $sysconfdir/dirtyrate/dirtyrated.conf */
#define CONFIG_DEFAULT_PATH "/etc/dirtyrate/dirtyrated.conf"
#endif

#define SAMPLE_INTERVAL_MIN_USEC (10 * USEC_PER_MSEC)
#define SAMPLE_INTERVAL_MAX_USEC (3600 * USEC_PER_SEC)

/*
 * page-sampling: pages read per second across all processes it measures.
 * Reading a page costs about 2.7 µs of daemon CPU here (pinning and copying
 * it), on top of about 0.6 % of a core for 50 tracked processes whatever the
 * backend does: 1024 costs 0.89 % for 50 × 256 MiB at 1 s, plus the
 * residency walk (2.5 % in all while it runs every pass;
 * bench/runs/2026-12-03/RESULTS.md).
 * The error depends on the pages a process
 * gets, not on its size: 1024 a second alone give Avg60 a standard error of
 * about 2 % at W = 5 %/s, 4 % at 1 %/s (daemon/README.md).
 */
#define SAMPLE_BUDGET_DEFAULT 1024
#define SAMPLE_BUDGET_MAX UINT64_C(1000000000)

/*
 * MaxReplyBytes=: the largest reply the daemon builds (GetManagedObjects is
 * the one that grows with the processes, about 1.1 KiB each). dbus-daemon
 * disconnects a peer that sends a message beyond its max_message_size, so a
 * reply past it would take the daemon off the bus; 32 MiB is that limit's
 * default on the system bus, 128 MiB the most D-Bus allows at all.
 */
#define MAX_REPLY_BYTES_DEFAULT (UINT64_C(32) << 20)
#define MAX_REPLY_BYTES_MIN (UINT64_C(4) << 10)
#define MAX_REPLY_BYTES_MAX (UINT64_C(128) << 20)

struct track_rule {
	unsigned line;		/* of the [Track] header, for logs */
	char *unit;		/* glob over the systemd unit */
	char *cgroup;		/* cgroup path prefix, on a component boundary */
	char *comm;		/* glob */
	char *exe;		/* glob */
	bool have_uid;
	uid_t uid;		/* effective UID */
	uint64_t min_resident_bytes;
	char *backend;		/* Backend=: a name of backend_table; NULL: the default */
};

/* Who may read a tracked process's object (ReadAccess=). */
enum read_access {
	READ_ACCESS_ALL,	/* every local user (the default) */
	READ_ACCESS_OWNER,	/* root, the process's UID, or polkit's org.dirtyrate1.read-all */
};

struct config {
	uint64_t sample_interval_usec;
	uint64_t rescan_interval_usec;
	char *backend;			/* a name of backend_table; NULL: auto */
	enum read_access read_access;
	uint64_t sample_budget_pages_per_sec;	/* SampleBudgetPagesPerSec= */
	uint64_t max_reply_bytes;		/* MaxReplyBytes= */
	struct track_rule *rules;
	size_t n_rules;
};

/* The built-in default: 1 s samples, 10 s rescans, best backend, no rules. */
void config_init_default(struct config *c);
void config_done(struct config *c);

/*
 * Parses config text; 'name' is used in messages. On failure returns
 * -EINVAL and *ret_error = "NAME:LINE: what is wrong"; *ret is untouched.
 */
int config_parse(const char *text, const char *name, struct config *ret, char **ret_error);

/*
 * Loads a file. A missing file yields the built-in default (returns 0 and
 * sets *ret_missing); an unreadable one is an error like a bad one.
 */
int config_load(const char *path, struct config *ret, bool *ret_missing, char **ret_error);
