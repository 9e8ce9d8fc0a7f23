/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the dirtyrated benchmarks share: starting dirtyrate-workload, CPU
 * time of a process, percentiles, and the machine's load. Failures exit
 * with a message (tests.h's FAIL), as in the bus tests whose helpers the
 * benchmarks also use.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Starts BINDIR/dirtyrate-workload with the given options (NULL-terminated)
 * and returns once it printed its truth line, i.e. its region is populated.
 * It dies with the caller.
 */
pid_t workload_start(const char *bindir, ...);

/* utime + stime of a process (/proc/PID/stat), in microseconds. */
uint64_t proc_cpu_usec(pid_t pid);

/* Sorts v and returns the value at fraction q (0..1) by nearest rank. */
double percentile(double *v, size_t n, double q);

/* "1.23 0.98 0.75": the machine is shared; say how busy it was. */
const char *loadavg(char *buf, size_t size);

uint64_t now_nsec(void);	/* CLOCK_MONOTONIC */

/*
 * "1000,10000" into at most max numbers (a benchmark's --processes,
 * --clients); returns how many. Anything but positive whole numbers fails
 * with a message naming OPTION.
 */
unsigned parse_count_list(const char *option, char *arg, unsigned *counts, unsigned max);
