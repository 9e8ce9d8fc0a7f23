/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Process object paths: /org/dirtyrate1/process/<pid>. A decimal PID is a
 * valid object path element as it is (D-Bus allows [A-Za-z0-9_], leading
 * digits included), so no label escaping is done; the reverse direction is
 * strict so that every PID has exactly one path.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include <dirtyrate/bus.h>

/* Enough for the prefix, '/', and a 10-digit PID. */
#define PROCESS_PATH_MAX (sizeof(DIRTYRATE_PROCESS_PATH_PREFIX) + 1 + 10)

/* Returns -EINVAL for pid <= 0. */
int process_path_from_pid(pid_t pid, char *buf, size_t size);

/*
 * Parses a path back: exactly the prefix, one element of decimal digits
 * without leading zeros, 1..INT_MAX. -EINVAL for anything else (other
 * prefixes, "_31", "01", "0", sub-paths, overflow).
 */
int process_path_to_pid(const char *path, pid_t *ret);
