/* SPDX-License-Identifier: GPL-2.0-only */
/* What the daemon's errors mean to a person. */
#pragma once

#include <systemd/sd-bus.h>

/* Says what failed ("Failed to <what>: <why>"), in words for the errors a
 * person meets: the daemon not running, access denied. Returns r. */
int log_bus_error(int r, const sd_bus_error *error, const char *what);

/* Whether error says org.dirtyrate1 has no owner (the daemon is not running). */
bool bus_error_is_no_daemon(const sd_bus_error *error);
