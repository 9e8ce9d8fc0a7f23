/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include <dirtyrate/bus.h>

#include "scrape.h"
#include "util.h"

enum call {
	CALL_MANAGER,	/* Properties.GetAll of the Manager */
	CALL_OBJECTS,	/* ObjectManager.GetManagedObjects */
	_CALL_MAX,
};

struct scrape_client {
	sd_event *event;
	sd_bus *bus;
	char *bus_address;

	/* The scrape in flight. */
	bool busy;
	scrape_done_t done;
	void *userdata;
	uint64_t timeout_usec;
	uint64_t start_usec;		/* CLOCK_MONOTONIC */
	sd_bus_slot *slot[_CALL_MAX];
	sd_bus_message *reply[_CALL_MAX];
	uint64_t reply_usec[_CALL_MAX];	/* when each reply arrived, for the debug log */
	sd_event_source *defer;		/* reports an error found before any call was sent */
	int error;
	char reason[256];
};

/* ---- properties into structs ---- */

enum field_type { FIELD_U32, FIELD_U64, FIELD_DOUBLE, FIELD_BOOL, FIELD_STRING, FIELD_STRV_JOINED };

struct field {
	const char *name;
	enum field_type type;
	size_t offset;
};

#define D(name, type, member) { name, type, offsetof(struct daemon_sample, member) }
static const struct field manager_fields[] = {
	D("Version", FIELD_STRING, version),
	D("Backend", FIELD_STRING, backend),
	D("ReadAccess", FIELD_STRING, read_access),
	D("Features", FIELD_STRV_JOINED, features),
	D("TrackedProcesses", FIELD_U32, tracked_processes),
	D("SampleIntervalUSec", FIELD_U64, sample_interval_usec),
	D("LastSampleTimestamp", FIELD_U64, last_sample_timestamp_usec),
	D("LastSampleDurationUSec", FIELD_U64, last_sample_duration_usec),
	D("DaemonCPUUSec", FIELD_U64, cpu_usec),
	D("SampledPagesPerSec", FIELD_DOUBLE, sampled_pages_per_sec),
};
#undef D

#define P(name, type, member) { name, type, offsetof(struct process_sample, member) }
static const struct field process_fields[] = {
	P("PID", FIELD_U32, pid),
	P("UID", FIELD_U32, uid),
	P("StartTimestamp", FIELD_U64, start_timestamp_usec),
	P("StartTimestampBoottime", FIELD_U64, start_boottime_usec),
	P("Comm", FIELD_STRING, comm),
	P("Unit", FIELD_STRING, unit),
	P("Backend", FIELD_STRING, backend),
	P("DirtyBytesPerSec", FIELD_DOUBLE, rate[WINDOW_SAMPLE]),
	P("DirtyBytesPerSecAvg10", FIELD_DOUBLE, rate[WINDOW_10S]),
	P("DirtyBytesPerSecAvg60", FIELD_DOUBLE, rate[WINDOW_60S]),
	P("DirtyBytesPerSecAvg300", FIELD_DOUBLE, rate[WINDOW_300S]),
	P("DirtyBytesPerSecStdError", FIELD_DOUBLE, rate_stderr[WINDOW_SAMPLE]),
	P("DirtyBytesPerSecAvg10StdError", FIELD_DOUBLE, rate_stderr[WINDOW_10S]),
	P("DirtyBytesPerSecAvg60StdError", FIELD_DOUBLE, rate_stderr[WINDOW_60S]),
	P("DirtyBytesPerSecAvg300StdError", FIELD_DOUBLE, rate_stderr[WINDOW_300S]),
	P("DirtiedBytesTotal", FIELD_U64, dirtied_bytes_total),
	P("WriteFaultsTotal", FIELD_U64, write_faults_total),
	P("ForeignClears", FIELD_U64, foreign_clears),
	P("LastSampleDisturbed", FIELD_BOOL, last_sample_disturbed),
	P("ResidentBytes", FIELD_U64, resident_bytes),
	P("ScannedBytes", FIELD_U64, scanned_bytes),
};
#undef P

static const char *const field_signature[] = {
	[FIELD_U32] = "u", [FIELD_U64] = "t", [FIELD_DOUBLE] = "d",
	[FIELD_BOOL] = "b", [FIELD_STRING] = "s", [FIELD_STRV_JOINED] = "as",
};

/* A protocol problem, in the reason: what the exporter expected of the daemon. */
_printf_(4, 5) static int bad_reply(char *reason, size_t size, int error, const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, size, fmt, ap);
	va_end(ap);
	return error;
}

static int read_strv_joined(sd_bus_message *m, char **ret) {
	char *joined = NULL;
	size_t size = 0;
	const char *s;
	FILE *f;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "s");
	if (r < 0)
		return r;
	f = open_memstream(&joined, &size);
	if (!f)
		return -ENOMEM;
	for (bool first = true; (r = sd_bus_message_read_basic(m, 's', &s)) > 0; first = false)
		fprintf(f, "%s%s", first ? "" : ",", s);
	if (fclose(f) != 0 || r < 0) {
		free(joined);
		return r < 0 ? r : -ENOMEM;
	}
	*ret = joined;
	return sd_bus_message_exit_container(m);
}

static int read_field(sd_bus_message *m, const struct field *f, void *base) {
	void *p = (uint8_t *) base + f->offset;
	const char *s;
	int b, r;

	switch (f->type) {
	case FIELD_U32:
		return sd_bus_message_read_basic(m, 'u', p);
	case FIELD_U64:
		return sd_bus_message_read_basic(m, 't', p);
	case FIELD_DOUBLE:
		return sd_bus_message_read_basic(m, 'd', p);
	case FIELD_BOOL:
		r = sd_bus_message_read_basic(m, 'b', &b);
		if (r >= 0)
			*(bool *) p = b;
		return r;
	case FIELD_STRING:
		r = sd_bus_message_read_basic(m, 's', &s);
		if (r < 0)
			return r;
		free(*(char **) p);
		*(char **) p = strdup(s);
		return *(char **) p ? 0 : -ENOMEM;
	case FIELD_STRV_JOINED:
		free(*(char **) p);
		*(char **) p = NULL;
		return read_strv_joined(m, p);
	}
	return -EINVAL;
}

/* An a{sv} of properties into the struct at base; every field of the table must be there. */
static int read_properties(sd_bus_message *m, const struct field *fields, size_t n, void *base, char *reason,
			   size_t reason_size) {
	uint64_t seen = 0;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const struct field *f = NULL;
		const char *name;

		r = sd_bus_message_read_basic(m, 's', &name);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n && !f; i++)
			if (streq(fields[i].name, name)) {
				f = &fields[i];
				seen |= UINT64_C(1) << i;
			}
		if (!f)
			r = sd_bus_message_skip(m, "v");
		else {
			r = sd_bus_message_enter_container(m, 'v', field_signature[f->type]);
			if (r == -ENXIO)
				return bad_reply(reason, reason_size, -EBADMSG,
						 "unexpected reply from dirtyrated: property %s has another type", name);
			if (r >= 0)
				r = read_field(m, f, base);
			if (r >= 0)
				r = sd_bus_message_exit_container(m);
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (!(seen & (UINT64_C(1) << i)))
			return bad_reply(reason, reason_size, -EBADMSG,
					 "unexpected reply from dirtyrated: no property %s", fields[i].name);
	return sd_bus_message_exit_container(m);
}

static int read_manager(sd_bus_message *m, struct snapshot *s, char *reason, size_t size) {
	return read_properties(m, manager_fields, ELEMENTSOF(manager_fields), &s->daemon, reason, size);
}

/* GetManagedObjects: a{oa{sa{sv}}}, of which the org.dirtyrate1.Process interfaces. */
static int read_processes(sd_bus_message *m, struct snapshot *s, char *reason, size_t size) {
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
		r = sd_bus_message_skip(m, "o");
		if (r >= 0)
			r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
		while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
			const char *iface;

			r = sd_bus_message_read_basic(m, 's', &iface);
			if (r >= 0 && streq(iface, DIRTYRATE_PROCESS_INTERFACE)) {
				struct process_sample *p = snapshot_add_process(s);

				r = p ? read_properties(m, process_fields, ELEMENTSOF(process_fields), p, reason, size)
				      : -ENOMEM;
			} else if (r >= 0)
				r = sd_bus_message_skip(m, "a{sv}");
			if (r >= 0)
				r = sd_bus_message_exit_container(m);
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

/* ---- the scrape ---- */

static void scrape_reset(struct scrape_client *c) {
	for (size_t i = 0; i < _CALL_MAX; i++) {
		c->slot[i] = sd_bus_slot_unref(c->slot[i]);
		c->reply[i] = sd_bus_message_unref(c->reply[i]);
	}
	c->defer = sd_event_source_disable_unref(c->defer);
	c->busy = false;
	c->error = 0;
	c->reason[0] = 0;
}

static void scrape_finish(struct scrape_client *c) {
	_cleanup_(snapshot_freep) struct snapshot *s = NULL;
	scrape_done_t done = c->done;
	void *userdata = c->userdata;
	char reason[sizeof(c->reason)];
	int r = c->error;

	strcpy(reason, c->reason);
	if (r == 0) {
		const char *a = sd_bus_message_get_sender(c->reply[CALL_MANAGER]);
		const char *b = sd_bus_message_get_sender(c->reply[CALL_OBJECTS]);

		/* Both must come from one daemon: a restart between them would mix two. */
		if (!a || !b || !streq(a, b)) {
			r = -EAGAIN;
			snprintf(reason, sizeof(reason), "dirtyrated restarted during the scrape");
		}
	}
	if (r == 0) {
		uint64_t t = now_usec(CLOCK_MONOTONIC);

		s = snapshot_new();
		r = s ? read_manager(c->reply[CALL_MANAGER], s, reason, sizeof(reason)) : -ENOMEM;
		if (r >= 0)
			r = read_processes(c->reply[CALL_OBJECTS], s, reason, sizeof(reason));
		if (r < 0 && !reason[0])
			snprintf(reason, sizeof(reason), "cannot read dirtyrated's reply: %s", strerror(-r));
		if (r >= 0)
			log_debug("Scrape: GetAll answered after %.1f ms, GetManagedObjects after %.1f ms; "
				  "%zu processes parsed in %.1f ms.",
				  (double) (c->reply_usec[CALL_MANAGER] - c->start_usec) / USEC_PER_MSEC,
				  (double) (c->reply_usec[CALL_OBJECTS] - c->start_usec) / USEC_PER_MSEC,
				  s->n_processes, (double) (now_usec(CLOCK_MONOTONIC) - t) / USEC_PER_MSEC);
	}
	/* done() may start the next scrape. */
	scrape_reset(c);
	if (r < 0)
		done(NULL, r, reason, userdata);
	else
		done(TAKE_PTR(s), 0, NULL, userdata);
}

_printf_(3, 4) static void scrape_fail(struct scrape_client *c, int error, const char *fmt, ...) {
	va_list ap;

	if (c->error != 0)
		return; /* the first failure says it best */
	c->error = error;
	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
}

static void fail_from_error(struct scrape_client *c, const sd_bus_error *e) {
	if (sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
		scrape_fail(c, -EHOSTDOWN, "dirtyrated is not running (%s has no owner on the system bus)",
			    DIRTYRATE_BUS_NAME);
	else if (sd_bus_is_open(c->bus) <= 0)
		scrape_fail(c, -ECONNRESET, "the connection to the system bus was lost: %s", e->message ?: e->name);
	else if (sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY) || sd_bus_error_has_name(e, SD_BUS_ERROR_TIMEOUT)) {
		/* NoReply is both sd-bus's own timeout and dbus-daemon's word that the
		 * daemon left without answering: the clock tells them apart. */
		if (now_usec(CLOCK_MONOTONIC) - c->start_usec >= c->timeout_usec)
			scrape_fail(c, -ETIMEDOUT, "dirtyrated did not answer within %.1f s",
				    (double) c->timeout_usec / USEC_PER_SEC);
		else
			scrape_fail(c, -ECONNRESET, "dirtyrated went away before answering (%s)", e->message ?: e->name);
	} else {
		int error = sd_bus_error_get_errno(e);

		scrape_fail(c, error > 0 ? -error : -EIO, "dirtyrated answered with an error, %s: %s", e->name,
			    e->message ?: "");
	}
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	struct scrape_client *c = userdata;
	size_t i = sd_bus_get_current_slot(c->bus) == c->slot[CALL_MANAGER] ? CALL_MANAGER : CALL_OBJECTS;

	c->slot[i] = sd_bus_slot_unref(c->slot[i]);
	if (sd_bus_message_is_method_error(m, NULL)) {
		fail_from_error(c, sd_bus_message_get_error(m));
		/* The other call is of no use any more. */
		for (size_t k = 0; k < _CALL_MAX; k++)
			c->slot[k] = sd_bus_slot_unref(c->slot[k]);
	} else {
		c->reply[i] = sd_bus_message_ref(m);
		c->reply_usec[i] = now_usec(CLOCK_MONOTONIC);
	}

	if (!c->slot[CALL_MANAGER] && !c->slot[CALL_OBJECTS])
		scrape_finish(c);
	return 0;
}

static int on_defer(sd_event_source *s, void *userdata) {
	scrape_finish(userdata);
	return 0;
}

static int connect_bus(struct scrape_client *c) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	int r;

	if (c->bus_address) {
		r = sd_bus_new(&bus);
		if (r >= 0)
			r = sd_bus_set_address(bus, c->bus_address);
		if (r >= 0)
			r = sd_bus_set_bus_client(bus, true);
		if (r >= 0)
			r = sd_bus_start(bus);
	} else
		r = sd_bus_open_system_with_description(&bus, "dirtyrate-exporter");
	if (r < 0)
		return r;
	r = sd_bus_attach_event(bus, c->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		return r;
	c->bus = TAKE_PTR(bus);
	return 0;
}

static int send_call(struct scrape_client *c, enum call i) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r;

	if (i == CALL_MANAGER)
		r = sd_bus_message_new_method_call(c->bus, &m, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH,
						   "org.freedesktop.DBus.Properties", "GetAll");
	else
		r = sd_bus_message_new_method_call(c->bus, &m, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH,
						   "org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
	if (r >= 0 && i == CALL_MANAGER)
		r = sd_bus_message_append(m, "s", DIRTYRATE_MANAGER_INTERFACE);
	/* A scrape must not start the daemon by bus activation: a `systemctl stop
	 * dirtyrated` would be undone by the next scrape. Stopped is a 503. */
	if (r >= 0)
		r = sd_bus_message_set_auto_start(m, false);
	if (r < 0)
		return r;
	return sd_bus_call_async(c->bus, &c->slot[i], m, on_reply, c, c->timeout_usec);
}

int scrape_client_start(struct scrape_client *c, uint64_t timeout_usec, scrape_done_t done, void *userdata) {
	int r;

	if (c->busy)
		return -EBUSY;
	c->busy = true;
	c->done = done;
	c->userdata = userdata;
	c->timeout_usec = timeout_usec;
	c->start_usec = now_usec(CLOCK_MONOTONIC);

	/* A connection the bus closed (dbus-daemon restarted, or gone) does not come back: replace it. */
	if (c->bus && sd_bus_is_open(c->bus) <= 0) {
		log_info("The system bus connection was closed; connecting again.");
		c->bus = sd_bus_flush_close_unref(c->bus);
	}
	r = c->bus ? 0 : connect_bus(c);
	if (r < 0)
		scrape_fail(c, r, "cannot connect to the system bus: %s", strerror(-r));
	for (size_t i = 0; r >= 0 && i < _CALL_MAX; i++) {
		r = send_call(c, i);
		if (r < 0)
			scrape_fail(c, r, "cannot send to the system bus: %s", strerror(-r));
	}
	if (r < 0) {
		for (size_t i = 0; i < _CALL_MAX; i++)
			c->slot[i] = sd_bus_slot_unref(c->slot[i]);
		/* Reported from the loop, like every other end of a scrape. */
		r = sd_event_add_defer(c->event, &c->defer, on_defer, c);
		if (r < 0) {
			scrape_reset(c);
			return r;
		}
	}
	return 0;
}

int scrape_client_new(sd_event *event, const char *bus_address, struct scrape_client **ret) {
	struct scrape_client *c;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->event = sd_event_ref(event);
	if (bus_address && !(c->bus_address = strdup(bus_address))) {
		scrape_client_free(c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

struct scrape_client *scrape_client_free(struct scrape_client *c) {
	if (!c)
		return NULL;
	scrape_reset(c);
	sd_bus_flush_close_unref(c->bus);
	sd_event_unref(c->event);
	free(c->bus_address);
	free(c);
	return NULL;
}
