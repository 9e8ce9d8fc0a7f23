/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers for the sd-bus client tests (test-bus-client.c, test-bus-faults.c)
 * that run against a dirtyrated on a private bus (bus-harness.py). Every
 * failure exits the test with a message (tests.h's FAIL); waits are for
 * signals or replies, bounded by a timeout that only turns a hang into a
 * failure.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>

#include <dirtyrate/bus.h>

#include "object-path.h"

#define WAIT_TIMEOUT_USEC (30 * USEC_PER_SEC)

/* The Process properties a pass announces (those it changed) in one PropertiesChanged. */
extern const char *const sampled_properties[];
extern const size_t n_sampled_properties;

/* Children die with the test, even if it fails half-way. */
void prctl_set_pdeathsig(void);
void kill_and_reap(pid_t pid);
/* A child that sleeps until it is killed. */
pid_t spawn_sleeper(void);
/* A kernel thread to name in calls, or 0 (none visible, e.g. in a container). */
pid_t find_kernel_thread(void);

sd_bus *bus_open(void);
/* Calls a Manager method; returns "Error.Name: message" (to free) or NULL on success. */
char *manager_call(sd_bus *bus, const char *method, sd_bus_message **reply, const char *types, ...);
void expect_ok(char *err, const char *what);
void expect_error(char *err, const char *name, const char *what);
/* TrackProcess(pid); checks the object path and copies it to path_buf. */
const char *track(sd_bus *bus, pid_t pid, char *path_buf);

uint64_t get_u64(sd_bus *bus, const char *path, const char *iface, const char *prop);
uint32_t get_u32(sd_bus *bus, const char *path, const char *iface, const char *prop);
double get_double(sd_bus *bus, const char *path, const char *prop); /* a Process property */
char *get_string(sd_bus *bus, const char *path, const char *iface, const char *prop);
bool has_feature(sd_bus *bus, const char *feature);

/* A repeatable random number below n from *state (splitmix64): fixed seeds, fixed runs. */
unsigned test_random(uint64_t *state, unsigned n);

/* The daemon under test ($DIRTYRATED_PID): the open fds it keeps (not those a pass or rescan holds for a moment) and its VmRSS in KiB. */
pid_t daemon_pid(void);
unsigned daemon_fd_count(void);
unsigned long daemon_rss_kib(void);

/* Runs the bus until done() holds; a timeout is a failure, not a sync point. */
void wait_until(sd_bus *bus, bool (*done)(void *), void *userdata, const char *what);

/*
 * ---- One Process object as a signal-fed client sees it, pass by pass ----
 *
 * The daemon signals a process's sampled properties when a pass changed
 * them, at most once per pass, and the Manager's LastSampleTimestamp when
 * a pass ended (after the processes' signals of that pass). A struct
 * changes keeps what the signals said of one object and, at each pass's
 * end from its first signal on, records it as one entry.
 */

/* The object's values as known after one pass (NAN or 0 for what no signal said yet). */
struct pass_values {
	uint64_t last_sample_usec;	/* the pass's end: the Manager's LastSampleTimestamp */
	unsigned signals;		/* PropertiesChanged of the object in this pass */
	unsigned carried;		/* bit i: sampled_properties[i] was in one of them */
	uint64_t write_faults_total;
	uint64_t dirtied_bytes_total;
	uint64_t foreign_clears;
	double write_faults_per_sec;
	double dirty_bytes_per_sec;
	bool disturbed;
};

#define MAX_PASSES 256

struct changes {
	const char *path;		/* the object to record; may change between waits */
	unsigned count;			/* passes recorded; the first MAX_PASSES are kept */
	unsigned signals;		/* PropertiesChanged of the object, in all */
	unsigned foreign;		/* ... carrying a property that is not a sampled one */
	struct pass_values now;		/* the pass in progress */
	struct pass_values pass[MAX_PASSES];
};

void watch_changes(sd_bus *bus, struct changes *c);
/* Waits until c has recorded at least n passes. */
void wait_for_changes(sd_bus *bus, struct changes *c, unsigned n, const char *what);
