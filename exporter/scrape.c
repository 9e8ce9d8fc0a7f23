/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include <dirtyrate/bus.h>

#include "bus-properties.h"
#include "cache.h"
#include "scrape.h"
#include "util.h"

const char *const cache_mode_name[_CACHE_MODE_MAX] = {
	[CACHE_NO] = "no",
	[CACHE_AUTO] = "auto",
	[CACHE_YES] = "yes",
};

enum call {
	CALL_MANAGER,	/* Properties.GetAll of the Manager */
	CALL_OBJECTS,	/* ObjectManager.GetManagedObjects */
	_CALL_MAX,
};

struct scrape_client {
	sd_event *event;
	sd_bus *bus;
	struct scrape_options options;
	char *bus_address;
	struct process_cache *cache;
	struct field_positions positions;	/* GetManagedObjects' property order */

	/* The scrape in flight. */
	bool busy;
	bool from_cache;		/* only the GetAll was sent: the processes come from the cache */
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

/* ---- the scrape ---- */

static void scrape_reset(struct scrape_client *c) {
	c->from_cache = false;
	for (size_t i = 0; i < _CALL_MAX; i++) {
		c->slot[i] = sd_bus_slot_unref(c->slot[i]);
		c->reply[i] = sd_bus_message_unref(c->reply[i]);
	}
	c->defer = sd_event_source_disable_unref(c->defer);
	c->busy = false;
	c->error = 0;
	c->reason[0] = 0;
}

static void cache_drop(struct scrape_client *c, const char *why) {
	if (!c->cache)
		return;
	log_info("Not reading from the cache any more (%s): every scrape reads all processes.", why);
	c->cache = process_cache_free(c->cache);
}

/* After a reading: build the cache, or drop it, as --cache says. */
static void cache_update(struct scrape_client *c, const struct snapshot *s) {
	const struct daemon_sample *d = &s->daemon;
	bool all = d->read_access && streq(d->read_access, "all");
	size_t n = d->tracked_processes;
	int r;

	if (c->cache && c->options.cache == CACHE_AUTO && n < c->options.cache_min_processes / 4 * 3) {
		char why[128];

		snprintf(why, sizeof(why), "%zu tracked processes, fewer than %zu", n,
			 c->options.cache_min_processes / 4 * 3);
		cache_drop(c, why);
	}
	if (c->cache || !all || c->options.cache == CACHE_NO ||
	    (c->options.cache == CACHE_AUTO && n < c->options.cache_min_processes))
		return;
	r = process_cache_new(c->bus, c->event, c->options.cache_resync_usec, c->timeout_usec, &c->cache);
	if (r < 0)
		log_warning_errno(r, "Cannot start the cache, reading every process per scrape: %m");
	else
		log_info("%zu tracked processes: building a cache from dirtyrated's signals, resynced every %.0f s%s.",
			 n, (double) c->options.cache_resync_usec / USEC_PER_SEC,
			 c->options.cache == CACHE_AUTO ? " (--cache=auto)" : "");
}

/*
 * Whether the cache can answer the scrape whose GetAll is s, from sender:
 * it follows this daemon, which broadcasts, and has every process.
 */
static bool cache_usable(struct scrape_client *c, const struct snapshot *s, const char *sender) {
	const char *reason = NULL;
	char why[128];

	if (process_cache_broken(c->cache, &reason))
		cache_drop(c, reason);
	else if (!process_cache_live(c->cache))
		cache_drop(c, "it was not ready");
	else if (!sender || !streq(sender, process_cache_owner(c->cache)))
		cache_drop(c, "dirtyrated restarted");
	else if (!s->daemon.read_access || !streq(s->daemon.read_access, "all"))
		cache_drop(c, "dirtyrated's ReadAccess is not all");
	else if (process_cache_size(c->cache) != s->daemon.tracked_processes) {
		snprintf(why, sizeof(why), "it has %zu processes, dirtyrated tracks %" PRIu32,
			 process_cache_size(c->cache), s->daemon.tracked_processes);
		cache_drop(c, why);
	} else
		return true;
	return false;
}

/* The cache could not answer after all: read the processes now, in the same scrape. */
static int send_objects_call(struct scrape_client *c);
_printf_(3, 4) static void scrape_fail(struct scrape_client *c, int error, const char *fmt, ...);

static void scrape_finish(struct scrape_client *c) {
	_cleanup_(snapshot_freep) struct snapshot *s = NULL;
	scrape_done_t done = c->done;
	void *userdata = c->userdata;
	char reason[sizeof(c->reason)];
	const char *sender = NULL;
	int r = c->error;

	strcpy(reason, c->reason);
	if (r == 0) {
		sender = sd_bus_message_get_sender(c->reply[CALL_MANAGER]);
		if (!c->from_cache) {
			const char *b = sd_bus_message_get_sender(c->reply[CALL_OBJECTS]);

			/* Both must come from one daemon: a restart between them would mix two. */
			if (!sender || !b || !streq(sender, b)) {
				r = -EAGAIN;
				snprintf(reason, sizeof(reason), "dirtyrated restarted during the scrape");
			}
		}
	}
	if (r == 0) {
		uint64_t t = now_usec(CLOCK_MONOTONIC);

		s = snapshot_new();
		/* Read again from its start when the cache sent us back for the processes. */
		r = s ? sd_bus_message_rewind(c->reply[CALL_MANAGER], true) : -ENOMEM;
		if (r >= 0)
			r = read_manager_properties(c->reply[CALL_MANAGER], &s->daemon, reason, sizeof(reason));
		if (r >= 0 && c->from_cache && !cache_usable(c, s, sender)) {
			/* Read per scrape instead, within what is left of the budget. */
			c->from_cache = false;
			r = send_objects_call(c);
			if (r >= 0)
				return; /* back here with its reply */
			scrape_fail(c, r, "cannot send to the system bus: %s", strerror(-r));
			strcpy(reason, c->reason);
		}
		if (r >= 0 && c->from_cache)
			r = process_cache_copy(c->cache, s);
		else if (r >= 0)
			r = read_managed_objects(c->reply[CALL_OBJECTS], s, &c->positions, reason, sizeof(reason));
		if (r < 0 && !reason[0])
			snprintf(reason, sizeof(reason), "cannot read dirtyrated's reply: %s", strerror(-r));
		if (r >= 0 && c->from_cache)
			log_debug("Scrape: GetAll answered after %.1f ms; %zu processes copied from the cache in %.1f ms "
				  "(%" PRIu64 " signals applied so far).",
				  (double) (c->reply_usec[CALL_MANAGER] - c->start_usec) / USEC_PER_MSEC, s->n_processes,
				  (double) (now_usec(CLOCK_MONOTONIC) - t) / USEC_PER_MSEC, process_cache_signals(c->cache));
		else if (r >= 0)
			log_debug("Scrape: GetAll answered after %.1f ms, GetManagedObjects after %.1f ms; "
				  "%zu processes parsed in %.1f ms.",
				  (double) (c->reply_usec[CALL_MANAGER] - c->start_usec) / USEC_PER_MSEC,
				  (double) (c->reply_usec[CALL_OBJECTS] - c->start_usec) / USEC_PER_MSEC,
				  s->n_processes, (double) (now_usec(CLOCK_MONOTONIC) - t) / USEC_PER_MSEC);
		if (r >= 0)
			cache_update(c, s);
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

static int send_call(struct scrape_client *c, enum call i, uint64_t timeout_usec) {
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
	return sd_bus_call_async(c->bus, &c->slot[i], m, on_reply, c, timeout_usec);
}

static int send_objects_call(struct scrape_client *c) {
	uint64_t spent = now_usec(CLOCK_MONOTONIC) - c->start_usec;

	return send_call(c, CALL_OBJECTS, spent < c->timeout_usec ? c->timeout_usec - spent : 1);
}

int scrape_client_start(struct scrape_client *c, uint64_t timeout_usec, scrape_done_t done, void *userdata) {
	const char *reason;
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
		cache_drop(c, "the bus connection was closed");
		c->bus = sd_bus_flush_close_unref(c->bus);
	}
	if (process_cache_broken(c->cache, &reason))
		cache_drop(c, reason);
	/* While it builds, per scrape. */
	c->from_cache = process_cache_live(c->cache);

	r = c->bus ? 0 : connect_bus(c);
	if (r < 0)
		scrape_fail(c, r, "cannot connect to the system bus: %s", strerror(-r));
	for (size_t i = 0; r >= 0 && i < (c->from_cache ? 1 : _CALL_MAX); i++) {
		r = send_call(c, i, timeout_usec);
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

int scrape_client_new(sd_event *event, const struct scrape_options *options, struct scrape_client **ret) {
	struct scrape_client *c;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->event = sd_event_ref(event);
	c->options = *options;
	if (options->bus_address && !(c->bus_address = strdup(options->bus_address))) {
		scrape_client_free(c);
		return -ENOMEM;
	}
	c->options.bus_address = c->bus_address;
	*ret = c;
	return 0;
}

struct scrape_client *scrape_client_free(struct scrape_client *c) {
	if (!c)
		return NULL;
	scrape_reset(c);
	process_cache_free(c->cache);
	sd_bus_flush_close_unref(c->bus);
	sd_event_unref(c->event);
	free(c->bus_address);
	free(c);
	return NULL;
}
