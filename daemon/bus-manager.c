/* SPDX-License-Identifier: GPL-2.0-only */
/* org.dirtyrate1.Manager and the ObjectManager at /org/dirtyrate1. */
#include <limits.h>
#include <signal.h>

#include <systemd/sd-daemon.h>

#include "bus-authorize.h"
#include "bus-common.h"
#include "bus-connect.h"
#include "bus-manager.h"
#include "bus-process.h"
#include "bus-read-access.h"
#include "manager.h"
#include "util.h"

static struct manager *manager_of(void *userdata) {
	return ((struct manager_bus *) userdata)->manager;
}

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
				sd_bus_message *reply, void *userdata, sd_bus_error *error) {
	return sd_bus_message_append(reply, "s", PROJECT_VERSION);
}

static int property_get_backend(sd_bus *bus, const char *path, const char *interface, const char *property,
				sd_bus_message *reply, void *userdata, sd_bus_error *error) {
	struct manager *m = manager_of(userdata);

	return sd_bus_message_append(reply, "s", m->backends[m->default_backend]->name);
}

static int property_get_features(sd_bus *bus, const char *path, const char *interface, const char *property,
				 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
	struct manager *m = manager_of(userdata);
	int r;

	r = sd_bus_message_open_container(reply, 'a', "s");
	if (r < 0)
		return r;
	/* A backend that needs nothing of the kernel is no feature of it. */
	for (size_t b = 0; b < m->n_backends; b++)
		if (m->available[b] && m->backends[b]->kernel_feature) {
			r = sd_bus_message_append(reply, "s", m->backends[b]->name);
			if (r < 0)
				return r;
		}
	if (fault_source_counts_writes(m->faults)) {
		r = sd_bus_message_append(reply, "s", "bpf-faults");
		if (r < 0)
			return r;
	}
	if (fault_source_sees_clears(m->faults)) {
		r = sd_bus_message_append(reply, "s", "softdirty-tracepoint");
		if (r < 0)
			return r;
	}
	return sd_bus_message_close_container(reply);
}

static int property_get_page_size(sd_bus *bus, const char *path, const char *interface, const char *property,
				  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
	return sd_bus_message_append(reply, "t", manager_of(userdata)->page_size);
}

static int property_get_tracked_processes(sd_bus *bus, const char *path, const char *interface,
					  const char *property, sd_bus_message *reply, void *userdata,
					  sd_bus_error *error) {
	return sd_bus_message_append(reply, "u", (uint32_t) manager_of(userdata)->n_processes);
}

static int property_get_cpu(sd_bus *bus, const char *path, const char *interface, const char *property,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
	return sd_bus_message_append(reply, "t", now_usec(CLOCK_PROCESS_CPUTIME_ID));
}

static int property_get_sample_interval(sd_bus *bus, const char *path, const char *interface,
					const char *property, sd_bus_message *reply, void *userdata,
					sd_bus_error *error) {
	return sd_bus_message_append(reply, "t", manager_of(userdata)->sample_interval_usec);
}

static int property_get_last_sample_duration(sd_bus *bus, const char *path, const char *interface,
					     const char *property, sd_bus_message *reply, void *userdata,
					     sd_bus_error *error) {
	return sd_bus_message_append(reply, "t", manager_of(userdata)->sampler.last_duration_usec);
}

static int property_get_sampled_pages_per_sec(sd_bus *bus, const char *path, const char *interface,
					      const char *property, sd_bus_message *reply, void *userdata,
					      sd_bus_error *error) {
	const struct sampler *s = &manager_of(userdata)->sampler;

	return sd_bus_message_append(reply, "d",
				     s->last_period_usec ? s->last_pages_read * 1e6 / s->last_period_usec : 0.0);
}

static int property_get_last_sample_timestamp(sd_bus *bus, const char *path, const char *interface,
					      const char *property, sd_bus_message *reply, void *userdata,
					      sd_bus_error *error) {
	return sd_bus_message_append(reply, "t", manager_of(userdata)->sampler.last_end_realtime_usec);
}

static int property_get_read_access(sd_bus *bus, const char *path, const char *interface, const char *property,
				    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
	return sd_bus_message_append(reply, "s",
				     manager_of(userdata)->config.read_access == READ_ACCESS_OWNER ? "owner" : "all");
}

/* Reads the PID argument; pid 0 and values beyond pid_t are InvalidArgument. */
static int read_pid(sd_bus_message *m, pid_t *ret, sd_bus_error *error) {
	uint32_t pid;
	int r;

	r = sd_bus_message_read(m, "u", &pid);
	if (r < 0)
		return r;
	if (pid == 0 || pid > INT_MAX)
		return sd_bus_error_setf(error, DIRTYRATE_ERROR_INVALID_ARGUMENT, "%" PRIu32 " is not a valid process ID.",
					 pid);
	*ret = (pid_t) pid;
	return 0;
}

static bool pid_exists(pid_t pid) {
	return kill(pid, 0) == 0 || errno == EPERM;
}

static int error_no_such_process(sd_bus_error *error, pid_t pid) {
	return sd_bus_error_setf(error, DIRTYRATE_ERROR_NO_SUCH_PROCESS, "No process with PID %d.", (int) pid);
}

/* NotTracked or NoSuchProcess, for a PID without a (visible) object. */
static int error_not_tracked(sd_bus_error *error, pid_t pid) {
	if (!pid_exists(pid))
		return error_no_such_process(error, pid);
	return sd_bus_error_setf(error, DIRTYRATE_ERROR_NOT_TRACKED, "Process %d is not tracked.", (int) pid);
}

static int get_process_visible(sd_bus_message *msg, struct manager_bus *b, const struct read_grant *g,
			       sd_bus_error *error) {
	struct process *p;
	pid_t pid = 0;
	int r;

	r = read_pid(msg, &pid, error);
	if (r < 0)
		return r;
	/* Read only: an exited process is reported gone, not untracked here. */
	p = manager_get_process(b->manager, pid);
	if (!p || !read_grant_allows(g, p))
		return error_not_tracked(error, pid);
	return sd_bus_reply_method_return(msg, "o", p->path);
}

static int method_get_process(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	return bus_read_access_async(msg, userdata, get_process_visible, error);
}

static int list_processes_visible(sd_bus_message *msg, struct manager_bus *b, const struct read_grant *g,
				  sd_bus_error *error) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int r;

	r = sd_bus_message_new_method_return(msg, &reply);
	if (r < 0)
		return r;
	r = list_cache_append(&b->list_cache, b->manager, g, reply);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

static int method_list_processes(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	return bus_read_access_async(msg, userdata, list_processes_visible, error);
}

static int track_authorized(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	struct manager *m = manager_of(userdata);
	struct process *p;
	pid_t pid = 0;
	int r;

	r = read_pid(msg, &pid, error);
	if (r < 0)
		return r;
	if (pid == getpid())
		return sd_bus_error_set(error, DIRTYRATE_ERROR_NOT_SUPPORTED, "dirtyrated does not track itself.");

	r = manager_track(m, pid, TRACK_ORIGIN_API, NULL, &p);
	if (r == -ESRCH)
		return error_no_such_process(error, pid);
	if (r == -EOPNOTSUPP)
		return sd_bus_error_setf(error, DIRTYRATE_ERROR_NOT_SUPPORTED,
					 "Process %d is a kernel thread: it has no user memory to measure.", (int) pid);
	if (r < 0)
		return sd_bus_error_set_errnof(error, r, "Cannot track process %d: %m", (int) pid);
	return sd_bus_reply_method_return(msg, "o", p->path);
}

static int method_track_process(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	return bus_authorize_async(msg, DIRTYRATE_ACTION_MANAGE, false, track_authorized, userdata, error);
}

static int untrack_authorized(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	struct manager *m = manager_of(userdata);
	struct process *p;
	pid_t pid = 0;
	int r;

	r = read_pid(msg, &pid, error);
	if (r < 0)
		return r;
	p = manager_get_process(m, pid);
	if (!p)
		return error_not_tracked(error, pid);
	manager_untrack(m, p, true, "UntrackProcess() called");
	return sd_bus_reply_method_return(msg, NULL);
}

static int method_untrack_process(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	return bus_authorize_async(msg, DIRTYRATE_ACTION_MANAGE, false, untrack_authorized, userdata, error);
}

static int reload_authorized(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	struct manager_bus *b = userdata;
	_cleanup_free_ char *why = NULL;
	sd_bus_message **a;
	int r;

	r = manager_reload(b->manager, &why);
	if (r < 0)
		return sd_bus_error_setf(error, DIRTYRATE_ERROR_BAD_CONFIG,
					 "%s; the previous configuration stays in effect.", why ?: strerror(-r));
	if (!b->manager->reload_pending)
		return sd_bus_reply_method_return(msg, NULL);
	/* The reply waits for the rescan, as the config's rules are part of the reload. */
	a = reallocarray(b->reloads, b->n_reloads + 1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	b->reloads = a;
	b->reloads[b->n_reloads++] = sd_bus_message_ref(msg);
	return 1;
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	return bus_authorize_async(msg, DIRTYRATE_ACTION_MANAGE, false, reload_authorized, userdata, error);
}

/* SetSampleInterval(t usec, b interactive): the arguments, checked before anyone is asked. */
static int read_sample_interval(sd_bus_message *msg, uint64_t *ret_usec, int *ret_interactive, sd_bus_error *error) {
	int r;

	r = sd_bus_message_read(msg, "tb", ret_usec, ret_interactive);
	if (r < 0)
		return r;
	if (*ret_usec < SAMPLE_INTERVAL_MIN_USEC || *ret_usec > SAMPLE_INTERVAL_MAX_USEC)
		return sd_bus_error_setf(error, DIRTYRATE_ERROR_INVALID_ARGUMENT,
					 "A sample interval of %" PRIu64 " us is out of range (%" PRIu64 "..%" PRIu64 ").",
					 *ret_usec, SAMPLE_INTERVAL_MIN_USEC, SAMPLE_INTERVAL_MAX_USEC);
	return 0;
}

static int set_sample_interval_authorized(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	uint64_t usec;
	int interactive, r;

	r = read_sample_interval(msg, &usec, &interactive, error);
	if (r < 0)
		return r;
	r = manager_set_sample_interval(manager_of(userdata), usec);
	if (r < 0)
		return sd_bus_error_set_errnof(error, r, "Cannot set the sample interval: %m");
	return sd_bus_reply_method_return(msg, NULL);
}

static int method_set_sample_interval(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	uint64_t usec;
	int interactive, r;

	r = read_sample_interval(msg, &usec, &interactive, error);
	if (r < 0)
		return r;
	return bus_authorize_async(msg, DIRTYRATE_ACTION_MANAGE, interactive, set_sample_interval_authorized, userdata,
				   error);
}

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Backend", "s", property_get_backend, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Features", "as", property_get_features, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("SampleIntervalUSec", "t", property_get_sample_interval, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("ReadAccess", "s", property_get_read_access, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("PageSize", "t", property_get_page_size, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("TrackedProcesses", "u", property_get_tracked_processes, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	/* One signal per pass, with no process in it: a cheap tick to poll on. */
	SD_BUS_PROPERTY("LastSampleTimestamp", "t", property_get_last_sample_timestamp, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	/* Self-metrics change every interval: no signal, read them when needed. */
	SD_BUS_PROPERTY("LastSampleDurationUSec", "t", property_get_last_sample_duration, 0, 0),
	SD_BUS_PROPERTY("SampledPagesPerSec", "d", property_get_sampled_pages_per_sec, 0, 0),
	SD_BUS_PROPERTY("DaemonCPUUSec", "t", property_get_cpu, 0, 0),
	SD_BUS_METHOD_WITH_ARGS("TrackProcess", SD_BUS_ARGS("u", pid), SD_BUS_RESULT("o", process),
				method_track_process, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("UntrackProcess", SD_BUS_ARGS("u", pid), SD_BUS_NO_RESULT, method_untrack_process,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetProcess", SD_BUS_ARGS("u", pid), SD_BUS_RESULT("o", process),
				method_get_process, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("ListProcesses", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(uosddt)", processes),
				method_list_processes, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SetSampleInterval", SD_BUS_ARGS("t", usec, "b", interactive), SD_BUS_NO_RESULT,
				method_set_sample_interval, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_reload,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

/* ---- the core's events, as signals ---- */

static void on_process_added(struct process *p, void *userdata) {
	struct manager_bus *b = userdata;

	list_cache_invalidate(&b->list_cache);
	(void) bus_process_emit_added(b, p);
}

static void on_process_removed(struct process *p, void *userdata) {
	struct manager_bus *b = userdata;

	list_cache_invalidate(&b->list_cache);
	(void) bus_process_emit_removed(b, p);
}

static void on_process_sampled(struct process *p, unsigned changes, void *userdata) {
	(void) bus_process_emit_sampled(userdata, p, changes);
}

static void on_process_backend_changed(struct process *p, void *userdata) {
	(void) bus_process_emit_backend_changed(userdata, p);
}

static void on_reload_finished(struct manager *m, void *userdata) {
	struct manager_bus *b = userdata;

	for (size_t i = 0; i < b->n_reloads; i++) {
		(void) sd_bus_reply_method_return(b->reloads[i], NULL);
		sd_bus_message_unref(b->reloads[i]);
	}
	free(b->reloads);
	b->reloads = NULL;
	b->n_reloads = 0;
}

static void on_manager_changed(struct manager *m, unsigned changes, void *userdata) {
	static const struct {
		unsigned change;
		const char *property;
	} map[] = {
		{ MANAGER_CHANGED_BACKEND, "Backend" },
		{ MANAGER_CHANGED_SAMPLE_INTERVAL, "SampleIntervalUSec" },
		{ MANAGER_CHANGED_TRACKED, "TrackedProcesses" },
		{ MANAGER_CHANGED_LAST_SAMPLE, "LastSampleTimestamp" },
		{ MANAGER_CHANGED_READ_ACCESS, "ReadAccess" },
	};
	struct manager_bus *b = userdata;
	char *properties[ELEMENTSOF(map) + 1];
	size_t n = 0;

	/* ListProcesses' rows are those of the last pass. */
	if (changes & (MANAGER_CHANGED_LAST_SAMPLE | MANAGER_CHANGED_TRACKED))
		list_cache_invalidate(&b->list_cache);
	for (size_t i = 0; i < ELEMENTSOF(map); i++)
		if (changes & map[i].change)
			properties[n++] = (char *) map[i].property;
	properties[n] = NULL;
	if (n > 0)
		(void) sd_bus_emit_properties_changed_strv(b->bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE,
							   properties);
}

static const struct manager_events bus_events = {
	.process_added = on_process_added,
	.process_removed = on_process_removed,
	.process_sampled = on_process_sampled,
	.process_backend_changed = on_process_backend_changed,
	.manager_changed = on_manager_changed,
	.reload_finished = on_reload_finished,
};

/* ---- the connection ---- */

static int on_name_request(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	struct manager *m = manager_of(userdata);
	uint32_t result;
	int r;

	if (e) {
		r = sd_bus_error_get_errno(e);
		log_error("Cannot own %s: %s", DIRTYRATE_BUS_NAME, e->message ?: e->name);
		return sd_event_exit(m->event, r > 0 ? -r : -EACCES);
	}
	r = sd_bus_message_read(reply, "u", &result);
	if (r < 0 || result != 1 /* DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER */) {
		log_error("Cannot own %s: it is already taken.", DIRTYRATE_BUS_NAME);
		return sd_event_exit(m->event, -EEXIST);
	}

	/* Name owned and backends probed: now we are ready. */
	log_info("Serving %s; default backend %s.", DIRTYRATE_BUS_NAME, m->backends[m->default_backend]->name);
	(void) sd_notifyf(false, "READY=1\nSTATUS=Tracking %zu process%s; backend %s.", m->n_processes,
			  m->n_processes == 1 ? "" : "es", m->backends[m->default_backend]->name);
	return 0;
}

static int on_disconnected(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
	log_error("Lost the bus connection; exiting.");
	return sd_event_exit(manager_of(userdata)->event, -ECONNRESET);
}

static void manager_bus_freep(struct manager_bus **b) {
	bus_manager_free(*b);
}

int bus_manager_new(struct manager *m, const char *address, struct manager_bus **ret) {
	_cleanup_(manager_bus_freep) struct manager_bus *b = NULL;
	sd_bus *bus = NULL;
	int r;

	b = calloc(1, sizeof(*b));
	if (!b)
		return log_oom();
	b->manager = m;
	r = bus_connect(address, &bus);
	if (r < 0)
		return r;
	b->bus = bus;

	r = sd_bus_add_object_vtable(bus, NULL, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, manager_vtable, b);
	if (r < 0)
		return log_error_errno(r, "Cannot register the Manager interface: %m");
	r = sd_bus_add_object_manager(bus, NULL, DIRTYRATE_MANAGER_PATH);
	if (r < 0)
		return log_error_errno(r, "Cannot register the object manager: %m");
	r = bus_process_register(b);
	if (r < 0)
		return r;
	r = bus_read_access_register(b);
	if (r < 0)
		return r;

	r = sd_bus_match_signal(bus, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
				"org.freedesktop.DBus.Local", "Disconnected", on_disconnected, b);
	if (r < 0)
		return log_error_errno(r, "Cannot watch for disconnection: %m");

	r = sd_bus_attach_event(bus, m->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		return log_error_errno(r, "Cannot attach the bus to the event loop: %m");

	r = sd_bus_request_name_async(bus, NULL, DIRTYRATE_BUS_NAME, 0, on_name_request, b);
	if (r < 0)
		return log_error_errno(r, "Cannot request %s: %m", DIRTYRATE_BUS_NAME);

	manager_set_events(m, &bus_events, b);
	*ret = TAKE_PTR(b);
	return 0;
}

struct manager_bus *bus_manager_free(struct manager_bus *b) {
	if (!b)
		return NULL;
	if (b->manager->events_userdata == b)
		manager_set_events(b->manager, NULL, NULL);
	/* Exiting during a reload's rescan: those callers get no reply. */
	for (size_t i = 0; i < b->n_reloads; i++)
		sd_bus_message_unref(b->reloads[i]);
	free(b->reloads);
	list_cache_done(&b->list_cache);
	sd_bus_flush_close_unref(b->bus);
	free(b);
	return NULL;
}
