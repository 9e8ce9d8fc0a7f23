/* SPDX-License-Identifier: GPL-2.0-only */
/* `list` and `watch`: the tracked processes, once or again and again. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <dirtyrate/bus.h>

#include "args.h"
#include "bus-util.h"
#include "json-output.h"
#include "process-table.h"
#include "table-print.h"
#include "util.h"
#include "verbs.h"

static int get_managed_objects(sd_bus *bus, sd_bus_message **ret) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_call_method(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
			       "GetManagedObjects", &error, ret, NULL);
	return r < 0 ? log_bus_error(r, &error, "list the tracked processes") : 0;
}

static int compare_pid_member(const void *x, const void *y) {
	json_object *a = *(json_object *const *) x, *b = *(json_object *const *) y, *pa = NULL, *pb = NULL;
	int64_t ia, ib;

	json_object_object_get_ex(a, "PID", &pa);
	json_object_object_get_ex(b, "PID", &pb);
	ia = json_object_get_int64(pa);
	ib = json_object_get_int64(pb);
	return ia < ib ? -1 : ia > ib;
}

static int add_json(pid_t pid, sd_bus_message *props, void *userdata) {
	_cleanup_json_ json_object *v = NULL;
	int r;

	r = json_from_bus_value(props, &v);
	if (r < 0)
		return r;
	return json_object_array_add(userdata, TAKE_PTR(v)) < 0 ? -ENOMEM : 0;
}

/* An array of the Process objects' properties, by PID: each element is
 * what `show --json` prints for that process. */
static int list_json(sd_bus_message *reply) {
	_cleanup_json_ json_object *list = json_object_new_array();
	int r;

	if (!list)
		return log_oom();
	r = managed_objects_foreach_process(reply, add_json, list);
	if (r < 0)
		return log_error_errno(r, "Failed to parse the list of tracked processes: %m");
	json_object_array_sort(list, compare_pid_member);
	return json_print(list, arg_json);
}

/* The processes of a GetManagedObjects reply as a table, in --order. */
static int list_table(sd_bus_message *reply, TableStyle *style, bool *ret_empty) {
	_cleanup_(process_table_done) ProcessTable t = {};
	_cleanup_free_ ProcessInfo **rows = NULL;
	int r;

	r = process_table_load(&t, reply);
	if (r < 0)
		return log_error_errno(r, "Failed to parse the list of tracked processes: %m");
	rows = calloc(MAX(t.n, (size_t) 1), sizeof(*rows));
	if (!rows)
		return log_oom();
	memcpy(rows, t.items, t.n * sizeof(*rows));
	style->sort = arg_order == _COLUMN_INVALID ? COLUMN_PID : arg_order;
	columns_sort(rows, t.n, style->sort, column_descending_first(style->sort));
	*ret_empty = t.n == 0;
	if (t.n > 0)
		table_print(stdout, rows, t.n, style);
	return 0;
}

int verb_list(sd_bus *bus, int argc, char **argv) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	TableStyle style;
	bool empty;
	int r;

	r = get_managed_objects(bus, &reply);
	if (r < 0)
		return r;
	if (arg_json != JSON_OFF)
		return list_json(reply);

	table_style_init(&style);
	style.legend = arg_legend;
	r = list_table(reply, &style, &empty);
	if (r >= 0 && empty && arg_legend)
		printf("No processes are tracked.\n");
	return r;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
	interrupted = 1;
}

int verb_watch(sd_bus *bus, int argc, char **argv) {
	struct timespec delay = {
		.tv_sec = arg_interval_usec / USEC_PER_SEC,
		.tv_nsec = (arg_interval_usec % USEC_PER_SEC) * NSEC_PER_USEC,
	};
	TableHistory history = {};
	TableStyle style;
	int r;

	table_style_init(&style);
	style.legend = arg_legend;
	style.history = &history;
	style.prefix_heading = "TIME";
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (unsigned i = 0; !interrupted && (arg_iterations == 0 || i < arg_iterations); i++) {
		_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
		char now[16];
		time_t t;
		bool empty;

		if (i > 0)
			nanosleep(&delay, NULL);
		if (interrupted)
			break;
		r = get_managed_objects(bus, &reply);
		if (r < 0)
			return r;
		t = time(NULL);
		strftime(now, sizeof(now), "%H:%M:%S", localtime(&t));
		style.prefix = now;
		r = list_table(reply, &style, &empty);
		if (r < 0)
			return r;
		if (empty && arg_legend)
			printf("%s (no tracked processes)\n", now);
		fflush(stdout);
	}
	return 0;
}
