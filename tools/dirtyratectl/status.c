/* SPDX-License-Identifier: GPL-2.0-only */
/* `status`: the Manager's properties. */
#include <inttypes.h>
#include <stdio.h>

#include <dirtyrate/bus.h>

#include "args.h"
#include "bus-util.h"
#include "daemon-info.h"
#include "json-output.h"
#include "util.h"
#include "verbs.h"

static int get_all(sd_bus *bus, sd_bus_message **ret) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_call_method(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, "org.freedesktop.DBus.Properties",
			       "GetAll", &error, ret, "s", DIRTYRATE_MANAGER_INTERFACE);
	return r < 0 ? log_bus_error(r, &error, "read the daemon's status") : 0;
}

int verb_status(sd_bus *bus, int argc, char **argv) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(manager_info_done) ManagerInfo m = {};
	int r;

	r = get_all(bus, &reply);
	if (r < 0)
		return r;

	if (arg_json != JSON_OFF) {
		_cleanup_json_ json_object *v = NULL;

		r = json_from_bus_value(reply, &v);
		if (r < 0)
			return log_error_errno(r, "Failed to parse the Manager's properties: %m");
		return json_print(v, arg_json);
	}

	r = manager_info_read(&m, reply);
	if (r < 0)
		return log_error_errno(r, "Failed to parse the Manager's properties: %m");
	/* One "Name: value" per line, aligned: scripts (the VM checks) read these. */
	printf("Version:  %s\nBackend:  %s\nFeatures:", m.version ?: "", m.backend ?: "");
	for (char **f = m.features; f && *f; f++)
		printf(" %s", *f);
	printf("\nInterval: %.3f s\nPageSize: %" PRIu64 "\nTracked:  %" PRIu32 "\n",
	       m.sample_interval_usec / 1e6, m.page_size, m.tracked_processes);
	return 0;
}
