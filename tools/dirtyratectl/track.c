/* SPDX-License-Identifier: GPL-2.0-only */
/* `track PID` and `untrack PID`. */
#include <inttypes.h>
#include <stdio.h>

#include <dirtyrate/bus.h>

#include "args.h"
#include "bus-util.h"
#include "util.h"
#include "verbs.h"

int verb_track(sd_bus *bus, int argc, char **argv) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	bool track = streq(argv[0], "track");
	const char *path;
	char what[64];
	uint32_t pid;
	int r;

	r = parse_pid_arg(argv[1], &pid);
	if (r < 0)
		return r;
	r = sd_bus_call_method(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE,
			       track ? "TrackProcess" : "UntrackProcess", &error, &reply, "u", pid);
	if (r < 0) {
		snprintf(what, sizeof(what), "%s process %" PRIu32, argv[0], pid);
		return log_bus_error(r, &error, what);
	}
	if (track && sd_bus_message_read_basic(reply, 'o', &path) > 0)
		printf("%s\n", path);
	return 0;
}
