/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdbool.h>

#include <dirtyrate/bus.h>

#include "bus-util.h"
#include "util.h"

bool bus_error_is_no_daemon(const sd_bus_error *error) {
	return sd_bus_error_has_names(error, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER);
}

int log_bus_error(int r, const sd_bus_error *error, const char *what) {
	if (bus_error_is_no_daemon(error))
		return log_error_errno(r, "Failed to %s: dirtyrated is not running (nothing owns %s on the bus).",
				       what, DIRTYRATE_BUS_NAME);
	if (sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED))
		return log_error_errno(r, "Failed to %s: access denied (%s). Run it as root, or get the "
				       "polkit authorization %s.", what, error->message ?: "no reason given",
				       DIRTYRATE_ACTION_MANAGE);
	if (error && sd_bus_error_is_set(error))
		return log_error_errno(r, "Failed to %s: %s", what, error->message ?: error->name);
	return log_error_errno(r, "Failed to %s: %m", what);
}
