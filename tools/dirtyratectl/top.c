/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `top`: keeps a copy of the daemon's objects current and tells the view
 * when there is something new to show.
 *
 * How the copy stays current, and why: the daemon already broadcasts a
 * PropertiesChanged per tracked process whose values a pass changed, with
 * the new values (none for an idle one), and one on the Manager
 * (LastSampleTimestamp) when the pass is over (daemon/README.md). Following
 * those costs the daemon nothing more, however many viewers there are; it
 * costs us a bsearch and a parse per signal. Reading all objects instead (GetManagedObjects, each update or each
 * SampleIntervalUSec) would be a little cheaper for us but would make the
 * daemon serialise every object again for every viewer at every update:
 * with a thousand processes, about as much of its CPU per call as its whole
 * budget allows per second (bench/dirtyratectl/run, bench/RESULTS.md). The
 * daemon is the shared, always-running part; a viewer is not. So: signals,
 * and the end of a pass (the Manager's signal; D-Bus keeps a sender's
 * messages in order, so every process's signal of that pass is in by then)
 * makes an update due. An update shows at most once per --delay, which
 * bounds what a slow terminal over SSH gets whatever the interval; it reads
 * the Manager's unsignalled properties (the pass's duration, the daemon's
 * CPU time) with one GetAll. Comm, Unit and UID change without a signal, so
 * every RESYNC_USEC an update rereads all objects with GetManagedObjects.
 * With ReadAccess=owner the daemon sends no per-process signal at all, and
 * every update reads all objects the caller may see: the poll that mode
 * asks for, paced by the daemon's passes and by --delay.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dirtyrate/bus.h>

#include "args.h"
#include "bus-util.h"
#include "object-path.h"
#include "top.h"
#include "util.h"
#include "verbs.h"

#define RESYNC_USEC (10 * USEC_PER_SEC)

static bool streq_ptr(const char *a, const char *b) {
	return a && b && streq(a, b);
}

void top_fail(Top *t, int r, const char *format, ...) {
	va_list ap;

	if (t->failure[0])
		return;	/* the first reason is the one to say */
	va_start(ap, format);
	vsnprintf(t->failure, sizeof(t->failure), format, ap);
	va_end(ap);
	sd_event_exit(t->event, r < 0 ? r : -EIO);
}

/* A failed call: the daemon gone is said in words, anything else as is. */
static void top_fail_call(Top *t, const sd_bus_error *error, const char *what) {
	if (bus_error_is_no_daemon(error))
		top_fail(t, -ESRCH, "dirtyrated is not running (nothing owns %s on the bus).", DIRTYRATE_BUS_NAME);
	else
		top_fail(t, -sd_bus_error_get_errno(error), "Failed to %s: %s", what,
			 error->message ?: error->name);
}

static void top_update_cpu(Top *t) {
	uint64_t now = now_usec(CLOCK_MONOTONIC);

	if (t->cpu_sample_at > 0 && now > t->cpu_sample_at && t->manager.daemon_cpu_usec >= t->cpu_sample_usec)
		t->daemon_cpu_percent = 100.0 * (double) (t->manager.daemon_cpu_usec - t->cpu_sample_usec) /
					(double) (now - t->cpu_sample_at);
	t->cpu_sample_usec = t->manager.daemon_cpu_usec;
	t->cpu_sample_at = now;
}

static void top_show(Top *t) {
	t->last_update_usec = now_usec(CLOCK_MONOTONIC);
	t->view->update(t);
	t->updates++;
	if (arg_iterations > 0 && t->updates >= arg_iterations)
		sd_event_exit(t->event, 0);
}

static int top_refresh(Top *t);

/* Both replies of an update are in: show it, and start the next if one
 * became due meanwhile. */
static void top_refresh_done(Top *t) {
	if (t->manager_call || t->objects_call)
		return;
	top_show(t);
	if (t->refresh_again) {
		t->refresh_again = false;
		(void) top_refresh(t);
	}
}

static int read_manager(Top *t, sd_bus_message *m) {
	int r = manager_info_read(&t->manager, m);

	if (r < 0)
		return r;
	t->process_signals = streq_ptr(t->manager.read_access, "all");
	top_update_cpu(t);
	return 0;
}

static int read_objects(Top *t, sd_bus_message *m) {
	return process_table_load(&t->processes, m);
}

/* One of an update's replies: read it, or end top saying why not. */
static void top_reply(Top *t, sd_bus_message *m, sd_bus_slot **slot, const char *what,
		      int (*read)(Top *t, sd_bus_message *m)) {
	char action[64];
	int r;

	*slot = sd_bus_slot_unref(*slot);
	if (sd_bus_message_is_method_error(m, NULL)) {
		snprintf(action, sizeof(action), "read %s", what);
		top_fail_call(t, sd_bus_message_get_error(m), action);
		return;
	}
	r = read(t, m);
	if (r < 0) {
		top_fail(t, r, "Failed to parse %s: %s", what, strerror(-r));
		return;
	}
	top_refresh_done(t);
}

static int on_manager_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	Top *t = userdata;

	top_reply(t, m, &t->manager_call, "the daemon's properties", read_manager);
	return 0;
}

static int on_objects_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	Top *t = userdata;

	top_reply(t, m, &t->objects_call, "the tracked processes", read_objects);
	return 0;
}

/* Starts the calls an update needs; it shows when their replies are in. */
static int top_refresh(Top *t) {
	uint64_t now = now_usec(CLOCK_MONOTONIC);
	int r;

	if (t->manager_call || t->objects_call) {
		t->refresh_again = true;
		return 0;
	}
	r = sd_bus_call_method_async(t->bus, &t->manager_call, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH,
				     "org.freedesktop.DBus.Properties", "GetAll", on_manager_reply, t,
				     "s", DIRTYRATE_MANAGER_INTERFACE);
	if (r < 0)
		goto fail;
	if (!t->process_signals || t->resync_wanted || now >= t->last_resync_usec + RESYNC_USEC) {
		r = sd_bus_call_method_async(t->bus, &t->objects_call, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH,
					     "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
					     on_objects_reply, t, NULL);
		if (r < 0)
			goto fail;
		t->resync_wanted = false;
		t->last_resync_usec = now;
	}
	return 0;
fail:
	top_fail(t, r, "Failed to send a call to the daemon: %s", strerror(-r));
	return r;
}

static int on_update_timer(sd_event_source *s, uint64_t usec, void *userdata) {
	Top *t = userdata;

	if (t->update_wanted) {
		t->update_wanted = false;
		(void) top_refresh(t);
	}
	return 0;
}

/* Something changed: an update is due, at most one per --delay. */
static void top_want_update(Top *t) {
	uint64_t at = MAX(now_usec(CLOCK_MONOTONIC), t->last_update_usec + arg_delay_usec);
	int enabled = SD_EVENT_OFF;
	int r;

	t->update_wanted = true;
	(void) sd_event_source_get_enabled(t->update_timer, &enabled);
	if (enabled != SD_EVENT_OFF)
		return;
	r = sd_event_source_set_time(t->update_timer, at);
	if (r >= 0)
		r = sd_event_source_set_enabled(t->update_timer, SD_EVENT_ONESHOT);
	if (r < 0)
		top_fail(t, r, "Failed to arm the update timer: %s", strerror(-r));
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	Top *t = userdata;
	const char *path = sd_bus_message_get_path(m), *interface;
	uint64_t last_pass = t->manager.last_sample_timestamp;
	_cleanup_(strv_freep) char **invalidated = NULL;
	ProcessInfo *p;
	pid_t pid;
	int r;

	r = sd_bus_message_read_basic(m, 's', &interface);
	if (r < 0)
		goto bad;
	if (streq(path, DIRTYRATE_MANAGER_PATH) && streq(interface, DIRTYRATE_MANAGER_INTERFACE)) {
		r = manager_info_read(&t->manager, m);
		if (r < 0)
			goto bad;
		t->process_signals = streq_ptr(t->manager.read_access, "all");
		/* The end of a pass: all of its process signals came before. */
		if (t->manager.last_sample_timestamp != last_pass)
			top_want_update(t);
	} else if (streq(interface, DIRTYRATE_PROCESS_INTERFACE) && process_path_to_pid(path, &pid) >= 0) {
		r = process_table_ensure(&t->processes, pid, &p);
		if (r < 0)
			goto bad;
		r = prop_map_read_dict(m, process_info_map, process_info_map_size, p);
		if (r < 0)
			goto bad;
	} else
		return 0;

	/* A property announced without its value: read them all again. */
	r = sd_bus_message_read_strv(m, &invalidated);
	if (r < 0)
		goto bad;
	if (invalidated && invalidated[0]) {
		t->resync_wanted = true;
		top_want_update(t);
	}
	return 0;
bad:
	/* A malformed signal is the daemon's bug, not a reason to stop. */
	t->resync_wanted = true;
	return 0;
}

static int on_interfaces_added(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	Top *t = userdata;

	if (process_table_read_interfaces(&t->processes, m) < 0)
		t->resync_wanted = true;
	top_want_update(t);
	return 0;
}

static int on_interfaces_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	_cleanup_(strv_freep) char **interfaces = NULL;
	Top *t = userdata;
	const char *path;
	pid_t pid;

	if (sd_bus_message_read_basic(m, 'o', &path) < 0 || sd_bus_message_read_strv(m, &interfaces) < 0) {
		t->resync_wanted = true;
		return 0;
	}
	if (process_path_to_pid(path, &pid) >= 0)
		for (char **i = interfaces; i && *i; i++)
			if (streq(*i, DIRTYRATE_PROCESS_INTERFACE))
				process_table_remove(&t->processes, pid);
	top_want_update(t);
	return 0;
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	const char *name, *old_owner, *new_owner;
	Top *t = userdata;

	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
		return 0;
	if (streq(name, DIRTYRATE_BUS_NAME) && isempty(new_owner))
		top_fail(t, -ESRCH, "dirtyrated left the bus (nothing owns %s any more).", DIRTYRATE_BUS_NAME);
	return 0;
}

static int on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	top_fail(userdata, -ECONNRESET, "Lost the connection to the bus.");
	return 0;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
	Top *t = userdata;

	sd_event_exit(t->event, 0);
	return 0;
}

/* The matches come first, then the first reading: a change between the two
 * then arrives after the reading and is applied on top of it. */
static int top_subscribe(Top *t) {
	static const char process_match[] =
		"type='signal',sender='" DIRTYRATE_BUS_NAME "',interface='org.freedesktop.DBus.Properties',"
		"member='PropertiesChanged',path_namespace='" DIRTYRATE_MANAGER_PATH "'";
	int r;

	r = sd_bus_add_match(t->bus, NULL, process_match, on_properties_changed, t);
	if (r >= 0)
		r = sd_bus_match_signal(t->bus, NULL, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH,
					"org.freedesktop.DBus.ObjectManager", "InterfacesAdded", on_interfaces_added, t);
	if (r >= 0)
		r = sd_bus_match_signal(t->bus, NULL, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH,
					"org.freedesktop.DBus.ObjectManager", "InterfacesRemoved", on_interfaces_removed, t);
	if (r >= 0)
		r = sd_bus_add_match(t->bus, NULL,
				     "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
				     "member='NameOwnerChanged',arg0='" DIRTYRATE_BUS_NAME "'",
				     on_name_owner_changed, t);
	if (r >= 0)
		r = sd_bus_match_signal(t->bus, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
					"org.freedesktop.DBus.Local", "Disconnected", on_disconnected, t);
	return r < 0 ? log_error_errno(r, "Failed to subscribe to the daemon's signals: %m") : 0;
}

/* The first reading, before the view takes the terminal: its errors are
 * printed as any command's. */
static int top_load(Top *t) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *manager = NULL, *objects = NULL;
	int r;

	r = sd_bus_call_method(t->bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, "org.freedesktop.DBus.Properties",
			       "GetAll", &error, &manager, "s", DIRTYRATE_MANAGER_INTERFACE);
	if (r < 0)
		return log_bus_error(r, &error, "read the daemon's properties");
	r = read_manager(t, manager);
	if (r < 0)
		return log_error_errno(r, "Failed to parse the daemon's properties: %m");

	r = sd_bus_call_method(t->bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
			       "GetManagedObjects", &error, &objects, NULL);
	if (r < 0)
		return log_bus_error(r, &error, "list the tracked processes");
	r = read_objects(t, objects);
	if (r < 0)
		return log_error_errno(r, "Failed to parse the tracked processes: %m");
	t->last_resync_usec = now_usec(CLOCK_MONOTONIC);
	return 0;
}

static int top_setup_event(Top *t) {
	sigset_t mask;
	int r;

	/* sd-event takes these through a signalfd: block them first. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGWINCH);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return log_error_errno(errno, "Failed to block signals: %m");

	r = sd_event_default(&t->event);
	if (r >= 0)
		r = sd_event_add_signal(t->event, NULL, SIGINT, on_exit_signal, t);
	if (r >= 0)
		r = sd_event_add_signal(t->event, NULL, SIGTERM, on_exit_signal, t);
	if (r >= 0)
		r = sd_event_add_signal(t->event, NULL, SIGHUP, on_exit_signal, t);
	if (r >= 0)
		r = sd_event_add_time(t->event, &t->update_timer, CLOCK_MONOTONIC, 0, USEC_PER_MSEC,
				      on_update_timer, t);
	if (r >= 0)
		r = sd_event_source_set_enabled(t->update_timer, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_bus_attach_event(t->bus, t->event, SD_EVENT_PRIORITY_NORMAL);
	return r < 0 ? log_error_errno(r, "Failed to set up the event loop: %m") : 0;
}

static void top_done(Top *t) {
	sd_bus_slot_unref(t->manager_call);
	sd_bus_slot_unref(t->objects_call);
	sd_event_source_unref(t->update_timer);
	if (t->bus)
		sd_bus_detach_event(t->bus);
	sd_event_unref(t->event);
	manager_info_done(&t->manager);
	process_table_done(&t->processes);
}

int verb_top(sd_bus *bus, int argc, char **argv) {
	_cleanup_(top_done) Top t = {
		.bus = bus,
		.daemon_cpu_percent = NAN,
		.order = arg_order == _COLUMN_INVALID ? COLUMN_RATE : arg_order,
	};
	bool interactive = !arg_batch && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	int r;

	t.descending = column_descending_first(t.order);
	t.view = interactive ? &top_screen_view : &top_batch_view;

	/* Signals that come during the first reading wait in the connection
	 * until the event loop takes it; until then Ctrl-C works as usual. */
	r = top_subscribe(&t);
	if (r < 0)
		return r;
	r = top_load(&t);
	if (r < 0)
		return r;
	r = top_setup_event(&t);
	if (r < 0)
		return r;

	r = t.view->open(&t);
	if (r < 0)
		return r;
	top_show(&t);
	r = sd_event_loop(t.event);
	t.view->close(&t);

	if (t.failure[0])
		return log_error_errno(r, "%s", t.failure);
	if (r < 0)
		return log_error_errno(r, "Event loop failed: %m");
	return 0;
}
