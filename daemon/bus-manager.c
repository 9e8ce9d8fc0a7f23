/* SPDX-License-Identifier: GPL-2.0-only */
/* org.dirtyrate1.Manager and the ObjectManager at /org/dirtyrate1. */
#include <limits.h>
#include <signal.h>

#include <systemd/sd-daemon.h>

#include "bus-authorize.h"
#include "bus-common.h"
#include "manager.h"
#include "util.h"

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
				sd_bus_message *reply, void *userdata, sd_bus_error *error) {
	return sd_bus_message_append(reply, "s", PROJECT_VERSION);
}

static int property_get_backend(sd_bus *bus, const char *path, const char *interface, const char *property,
				sd_bus_message *reply, void *userdata, sd_bus_error *error) {
	struct manager *m = userdata;

	return sd_bus_message_append(reply, "s", backend_to_string(m->default_backend));
}

static int property_get_features(sd_bus *bus, const char *path, const char *interface, const char *property,
				 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
	struct manager *m = userdata;
	int r;

	r = sd_bus_message_open_container(reply, 'a', "s");
	if (r < 0)
		return r;
	/* faults-only is always possible and is no feature of the kernel. */
	for (enum backend b = 0; b < BACKEND_FAULTS_ONLY; b++)
		if (m->support.available[b]) {
			r = sd_bus_message_append(reply, "s", backend_to_string(b));
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

static int property_get_tracked_processes(sd_bus *bus, const char *path, const char *interface,
					  const char *property, sd_bus_message *reply, void *userdata,
					  sd_bus_error *error) {
	struct manager *m = userdata;

	return sd_bus_message_append(reply, "u", (uint32_t) m->n_tracked);
}

static int property_get_cpu(sd_bus *bus, const char *path, const char *interface, const char *property,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
	return sd_bus_message_append(reply, "t", now_usec(CLOCK_PROCESS_CPUTIME_ID));
}

static int property_get_sample_interval(sd_bus *bus, const char *path, const char *interface,
					const char *property, sd_bus_message *reply, void *userdata,
					sd_bus_error *error) {
	struct manager *m = userdata;

	return sd_bus_message_append(reply, "t", m->sample_interval_usec);
}

static int sample_interval_authorized(sd_bus_message *value, struct manager *m, sd_bus_error *error) {
	uint64_t usec;
	int r;

	r = sd_bus_message_read(value, "t", &usec);
	if (r < 0)
		return r;
	r = manager_set_sample_interval(m, usec);
	if (r == -ERANGE)
		return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT,
					 "SampleIntervalUSec=%" PRIu64 " is out of range (%" PRIu64 "..%" PRIu64 ").",
					 usec, SAMPLE_INTERVAL_MIN_USEC, SAMPLE_INTERVAL_MAX_USEC);
	return r;
}

static int property_set_sample_interval(sd_bus *bus, const char *path, const char *interface,
					const char *property, sd_bus_message *value, void *userdata,
					sd_bus_error *error) {
	int r;

	/* 'value' is the Set() call itself: its sender is the caller. */
	r = bus_authorize_sync(value, ACTION_MANAGE, error);
	if (r < 0)
		return r;
	return sample_interval_authorized(value, userdata, error);
}

/* Reads the PID argument; pid 0 and values beyond pid_t are InvalidArgument. */
static int read_pid(sd_bus_message *m, pid_t *ret, sd_bus_error *error) {
	uint32_t pid;
	int r;

	r = sd_bus_message_read(m, "u", &pid);
	if (r < 0)
		return r;
	if (pid == 0 || pid > INT_MAX)
		return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "%" PRIu32 " is not a valid process ID.",
					 pid);
	*ret = (pid_t) pid;
	return 0;
}

static bool pid_exists(pid_t pid) {
	return kill(pid, 0) == 0 || errno == EPERM;
}

static int error_no_such_process(sd_bus_error *error, pid_t pid) {
	return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_PROCESS, "No process with PID %d.", (int) pid);
}

/* Reads the PID argument and finds its object, or NotTracked / NoSuchProcess. */
static int read_tracked(sd_bus_message *msg, struct manager *m, struct tracked **ret, sd_bus_error *error) {
	struct tracked *t;
	pid_t pid = 0;
	int r;

	r = read_pid(msg, &pid, error);
	if (r < 0)
		return r;
	t = manager_find(m, pid);
	if (t && !tracked_alive(t)) {
		/* Exited, its exit event not dispatched yet: never hand out a stale object. */
		manager_untrack(m, t, false, "exited");
		t = NULL;
	}
	if (!t) {
		if (!pid_exists(pid))
			return error_no_such_process(error, pid);
		return sd_bus_error_setf(error, BUS_ERROR_NOT_TRACKED, "Process %d is not tracked.", (int) pid);
	}
	*ret = t;
	return 0;
}

static int method_get_process(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	struct tracked *t;
	int r;

	r = read_tracked(msg, userdata, &t, error);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(msg, "o", t->path);
}

static int track_authorized(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	struct manager *m = userdata;
	struct tracked *t;
	pid_t pid = 0;
	int r;

	r = read_pid(msg, &pid, error);
	if (r < 0)
		return r;
	if (pid == getpid())
		return sd_bus_error_set(error, BUS_ERROR_NOT_SUPPORTED, "dirtyrated does not track itself.");

	r = manager_track(m, pid, TRACK_ORIGIN_API, &t);
	if (r == -ESRCH)
		return error_no_such_process(error, pid);
	if (r == -EOPNOTSUPP)
		return sd_bus_error_setf(error, BUS_ERROR_NOT_SUPPORTED,
					 "Process %d is a kernel thread: it has no user memory to measure.", (int) pid);
	if (r < 0)
		return sd_bus_error_set_errnof(error, r, "Cannot track process %d: %m", (int) pid);
	return sd_bus_reply_method_return(msg, "o", t->path);
}

static int method_track_process(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	return bus_authorize_async(msg, ACTION_MANAGE, track_authorized, userdata, error);
}

static int untrack_authorized(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	struct manager *m = userdata;
	struct tracked *t;
	int r;

	r = read_tracked(msg, m, &t, error);
	if (r < 0)
		return r;
	manager_untrack(m, t, true, "UntrackProcess() called");
	return sd_bus_reply_method_return(msg, NULL);
}

static int method_untrack_process(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	return bus_authorize_async(msg, ACTION_MANAGE, untrack_authorized, userdata, error);
}

static int method_list_processes(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct manager *m = userdata;
	int r;

	r = sd_bus_message_new_method_return(msg, &reply);
	if (r < 0)
		return r;
	r = sd_bus_message_open_container(reply, 'a', "(uosddt)");
	if (r < 0)
		return r;
	for (size_t i = 0; i < m->n_tracked; i++) {
		const struct tracked *t = m->tracked[i];

		r = sd_bus_message_append(reply, "(uosddt)", (uint32_t) t->pid, t->path, t->comm ?: "",
					  t->stats.dirty_avgs.avg10, t->stats.write_faults_per_sec, t->resident_bytes);
		if (r < 0)
			return r;
	}
	r = sd_bus_message_close_container(reply);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

static int reload_authorized(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	_cleanup_free_ char *why = NULL;
	struct manager *m = userdata;
	int r;

	r = manager_reload(m, &why);
	if (r < 0)
		return sd_bus_error_setf(error, BUS_ERROR_BAD_CONFIG, "%s; the previous configuration stays in effect.",
					 why ?: strerror(-r));
	return sd_bus_reply_method_return(msg, NULL);
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
	return bus_authorize_async(msg, ACTION_MANAGE, reload_authorized, userdata, error);
}

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Backend", "s", property_get_backend, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Features", "as", property_get_features, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	/* Offset 0: the setter needs the manager, not the field. */
	SD_BUS_WRITABLE_PROPERTY("SampleIntervalUSec", "t", property_get_sample_interval, property_set_sample_interval, 0,
				 SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE | SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_PROPERTY("PageSize", "t", bus_property_get_u64, offsetof(struct manager, page_size),
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("TrackedProcesses", "u", property_get_tracked_processes, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	/* Self-metrics change every interval: no signal, read them when needed. */
	SD_BUS_PROPERTY("LastSampleDurationUSec", "t", bus_property_get_u64,
			offsetof(struct manager, last_sample_duration_usec), 0),
	SD_BUS_PROPERTY("DaemonCPUUSec", "t", property_get_cpu, 0, 0),
	SD_BUS_METHOD_WITH_ARGS("TrackProcess", SD_BUS_ARGS("u", pid), SD_BUS_RESULT("o", process),
				method_track_process, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("UntrackProcess", SD_BUS_ARGS("u", pid), SD_BUS_NO_RESULT, method_untrack_process,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetProcess", SD_BUS_ARGS("u", pid), SD_BUS_RESULT("o", process),
				method_get_process, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("ListProcesses", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(uosddt)", processes),
				method_list_processes, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_reload,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

int bus_manager_emit_changed(struct manager *m, const char *property) {
	if (!m->bus)
		return 0;
	return sd_bus_emit_properties_changed(m->bus, MANAGER_PATH, MANAGER_INTERFACE, property, NULL);
}

static int on_name_request(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	struct manager *m = userdata;
	uint32_t result;
	int r;

	if (e) {
		r = sd_bus_error_get_errno(e);
		log_error("Cannot own %s: %s", BUS_NAME, e->message ?: e->name);
		return sd_event_exit(m->event, r > 0 ? -r : -EACCES);
	}
	r = sd_bus_message_read(reply, "u", &result);
	if (r < 0 || result != 1 /* DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER */) {
		log_error("Cannot own %s: it is already taken.", BUS_NAME);
		return sd_event_exit(m->event, -EEXIST);
	}

	/* Name owned and backends probed: now we are ready. */
	log_info("Serving %s; default backend %s.", BUS_NAME, backend_to_string(m->default_backend));
	(void) sd_notifyf(false, "READY=1\nSTATUS=Tracking %zu process%s; backend %s.", m->n_tracked,
			  m->n_tracked == 1 ? "" : "es", backend_to_string(m->default_backend));
	return 0;
}

static int on_disconnected(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
	struct manager *m = userdata;

	log_error("Lost the bus connection; exiting.");
	return sd_event_exit(m->event, -ECONNRESET);
}

static int bus_connect(struct manager *m) {
	_cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
	int r;

	if (!m->bus_address) {
		/* Honours DBUS_SYSTEM_BUS_ADDRESS. */
		r = sd_bus_open_system(&bus);
		if (r < 0)
			return log_error_errno(r, "Cannot connect to the system bus: %m");
	} else {
		r = sd_bus_new(&bus);
		if (r >= 0)
			r = sd_bus_set_address(bus, m->bus_address);
		if (r >= 0)
			r = sd_bus_set_bus_client(bus, true);
		if (r >= 0)
			r = sd_bus_start(bus);
		if (r < 0)
			return log_error_errno(r, "Cannot connect to the bus at %s: %m", m->bus_address);
	}
	m->bus = TAKE_PTR(bus);
	return 0;
}

int bus_manager_register(struct manager *m) {
	int r;

	r = bus_connect(m);
	if (r < 0)
		return r;

	r = sd_bus_add_object_vtable(m->bus, NULL, MANAGER_PATH, MANAGER_INTERFACE, manager_vtable, m);
	if (r < 0)
		return log_error_errno(r, "Cannot register the Manager interface: %m");
	r = sd_bus_add_object_manager(m->bus, NULL, MANAGER_PATH);
	if (r < 0)
		return log_error_errno(r, "Cannot register the object manager: %m");
	r = bus_process_register(m);
	if (r < 0)
		return r;

	r = sd_bus_match_signal(m->bus, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
				"org.freedesktop.DBus.Local", "Disconnected", on_disconnected, m);
	if (r < 0)
		return log_error_errno(r, "Cannot watch for disconnection: %m");

	r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		return log_error_errno(r, "Cannot attach the bus to the event loop: %m");

	r = sd_bus_request_name_async(m->bus, NULL, BUS_NAME, 0, on_name_request, m);
	if (r < 0)
		return log_error_errno(r, "Cannot request %s: %m", BUS_NAME);
	return 0;
}
