/* SPDX-License-Identifier: GPL-2.0-only */
/* `show PID`: every property of a tracked process's object. */
#include <inttypes.h>
#include <stdio.h>

#include <dirtyrate/bus.h>

#include "args.h"
#include "bus-util.h"
#include "json-output.h"
#include "util.h"
#include "verbs.h"

/* One variant as text: numbers plain (doubles exactly, NaN as "nan"),
 * booleans as yes/no, as systemctl show prints them. */
static int print_variant(sd_bus_message *m) {
	const char *contents;
	union { uint32_t u; uint64_t t; double d; int b; const char *s; } v;
	int r;

	r = sd_bus_message_peek_type(m, NULL, &contents);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(m, 'v', contents);
	if (r < 0)
		return r;
	switch (contents[0]) {
	case 's':
		r = sd_bus_message_read_basic(m, 's', &v.s);
		if (r >= 0)
			printf("%s", v.s);
		break;
	case 'u':
		r = sd_bus_message_read_basic(m, 'u', &v.u);
		if (r >= 0)
			printf("%" PRIu32, v.u);
		break;
	case 't':
		r = sd_bus_message_read_basic(m, 't', &v.t);
		if (r >= 0)
			printf("%" PRIu64, v.t);
		break;
	case 'd':
		r = sd_bus_message_read_basic(m, 'd', &v.d);
		if (r >= 0)
			printf("%.17g", v.d);
		break;
	case 'b':
		r = sd_bus_message_read_basic(m, 'b', &v.b);
		if (r >= 0)
			printf("%s", v.b ? "yes" : "no");
		break;
	default:
		r = sd_bus_message_skip(m, contents);
		if (r >= 0)
			printf("(%s)", contents);
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

static int print_properties(sd_bus_message *all) {
	const char *name;
	int r;

	r = sd_bus_message_enter_container(all, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(all, 'e', "sv")) > 0) {
		r = sd_bus_message_read_basic(all, 's', &name);
		if (r < 0)
			break;
		printf("%s=", name);
		r = print_variant(all);
		printf("\n");
		if (r >= 0)
			r = sd_bus_message_exit_container(all);
	}
	return r;
}

int verb_show(sd_bus *bus, int argc, char **argv) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *all = NULL;
	char what[64];
	const char *path;
	uint32_t pid;
	int r;

	r = parse_pid_arg(argv[1], &pid);
	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "get process %" PRIu32, pid);
	r = sd_bus_call_method(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE,
			       "GetProcess", &error, &reply, "u", pid);
	if (r < 0)
		return log_bus_error(r, &error, what);
	r = sd_bus_message_read_basic(reply, 'o', &path);
	if (r < 0)
		return log_error_errno(r, "Failed to parse the GetProcess reply: %m");
	r = sd_bus_call_method(bus, DIRTYRATE_BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll",
			       &error, &all, "s", DIRTYRATE_PROCESS_INTERFACE);
	if (r < 0)
		return log_bus_error(r, &error, what);

	if (arg_json != JSON_OFF) {
		_cleanup_json_ json_object *v = NULL;

		r = json_from_bus_value(all, &v);
		if (r < 0)
			return log_error_errno(r, "Failed to parse the properties of %s: %m", path);
		return json_print(v, arg_json);
	}
	r = print_properties(all);
	return r < 0 ? log_error_errno(r, "Failed to parse the properties of %s: %m", path) : 0;
}
