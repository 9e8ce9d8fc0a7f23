/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <dirtyrate/bus.h>

#include "bus-properties.h"
#include "cache.h"
#include "object-path.h"
#include "util.h"

enum cache_state { CACHE_BUILDING, CACHE_LIVE, CACHE_BROKEN };

enum match {
	MATCH_PROPERTIES,	/* PropertiesChanged of the Manager and of every Process */
	MATCH_OBJECTS,		/* InterfacesAdded, InterfacesRemoved */
	MATCH_OWNER,		/* NameOwnerChanged of org.dirtyrate1 */
	_MATCH_MAX,
};

struct process_cache {
	sd_bus *bus;
	sd_event *event;
	enum cache_state state;
	char reason[256];		/* why it broke */
	char *owner;			/* the daemon's unique name, from the build's reply */
	sd_bus_slot *match[_MATCH_MAX];
	sd_bus_slot *reading;		/* the build's or a resync's GetManagedObjects */
	sd_event_source *resync_timer;
	uint64_t resync_usec, timeout_usec;

	/* The processes, each allocated on its own, sorted by PID. */
	struct process_sample **by_pid;
	size_t n, allocated;

	struct field_positions added_pos, changed_pos, objects_pos;
	uint64_t signals;
};

_printf_(2, 3) static void cache_break(struct process_cache *c, const char *fmt, ...) {
	va_list ap;

	if (c->state == CACHE_BROKEN)
		return;
	c->state = CACHE_BROKEN;
	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
	/* Nothing more to follow: stop receiving. */
	for (size_t i = 0; i < _MATCH_MAX; i++)
		c->match[i] = sd_bus_slot_unref(c->match[i]);
	c->reading = sd_bus_slot_unref(c->reading);
	(void) sd_event_source_set_enabled(c->resync_timer, SD_EVENT_OFF);
}

/* ---- the table ---- */

static void table_clear(struct process_sample **by_pid, size_t n) {
	for (size_t i = 0; i < n; i++)
		process_sample_free(by_pid[i]);
}

/* The index of pid, or where it would go (*found false). */
static size_t table_find(const struct process_cache *c, uint32_t pid, bool *found) {
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->by_pid[mid]->pid == pid) {
			*found = true;
			return mid;
		}
		if (c->by_pid[mid]->pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Puts p in (the cache owns it from here), replacing any process of the same PID. */
static int table_put(struct process_cache *c, struct process_sample *p) {
	bool found;
	size_t i = table_find(c, p->pid, &found);

	if (found) {
		process_sample_free(c->by_pid[i]);
		c->by_pid[i] = p;
		return 0;
	}
	if (c->n == c->allocated) {
		size_t n = c->allocated ? 2 * c->allocated : 64;
		struct process_sample **a = reallocarray(c->by_pid, n, sizeof(*a));

		if (!a) {
			process_sample_free(p);
			return -ENOMEM;
		}
		c->by_pid = a;
		c->allocated = n;
	}
	memmove(c->by_pid + i + 1, c->by_pid + i, (c->n - i) * sizeof(*c->by_pid));
	c->by_pid[i] = p;
	c->n++;
	return 0;
}

static void table_remove(struct process_cache *c, uint32_t pid) {
	bool found;
	size_t i = table_find(c, pid, &found);

	if (!found)
		return;
	process_sample_free(c->by_pid[i]);
	memmove(c->by_pid + i, c->by_pid + i + 1, (c->n - i - 1) * sizeof(*c->by_pid));
	c->n--;
}

static struct process_sample *new_sample(void) {
	struct process_sample *p = calloc(1, sizeof(*p));

	if (p)
		for (size_t w = 0; w < _WINDOW_MAX; w++)
			p->rate[w] = p->rate_stderr[w] = NAN;
	return p;
}

/* ---- signals ---- */

/* Whether m comes from the daemon this cache follows; while building, nothing does. */
static bool from_owner(const struct process_cache *c, sd_bus_message *m) {
	const char *sender = sd_bus_message_get_sender(m);

	return c->state == CACHE_LIVE && c->owner && sender && streq(sender, c->owner);
}

static int pid_of_path(const char *path, uint32_t *ret) {
	pid_t pid;
	int r = process_path_to_pid(path, &pid);

	if (r >= 0)
		*ret = (uint32_t) pid;
	return r;
}

/* An "as" of invalidated properties: dirtyrated sends values, never this; a name here would be a value we lack. */
static int read_invalidated(sd_bus_message *m, const char **first) {
	const char *s;
	int r;

	*first = NULL;
	r = sd_bus_message_enter_container(m, 'a', "s");
	while (r >= 0 && (r = sd_bus_message_read_basic(m, 's', &s)) > 0)
		if (!*first)
			*first = s;
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	return r;
}

static void on_manager_changed(struct process_cache *c, sd_bus_message *m) {
	const char *iface, *name, *invalidated;
	int r;

	r = sd_bus_message_read_basic(m, 's', &iface);
	if (r < 0 || !streq(iface, DIRTYRATE_MANAGER_INTERFACE))
		return;
	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		r = sd_bus_message_read_basic(m, 's', &name);
		if (r >= 0 && streq(name, "ReadAccess")) {
			/* With owner it sends no more per-process signals; back at all, it
			 * has not sent those of the meantime. Either way: read anew. */
			cache_break(c, "dirtyrated's ReadAccess changed");
			return;
		}
		if (r >= 0)
			r = sd_bus_message_skip(m, "v");
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r >= 0)
		r = read_invalidated(m, &invalidated);
	if (r < 0)
		cache_break(c, "cannot read a PropertiesChanged of the Manager: %s", strerror(-r));
	else if (invalidated && streq(invalidated, "ReadAccess"))
		cache_break(c, "dirtyrated's ReadAccess changed");
}

static void on_process_changed(struct process_cache *c, sd_bus_message *m, uint32_t pid) {
	char reason[256] = "";
	const char *iface, *invalidated;
	bool found;
	size_t i;
	int r;

	r = sd_bus_message_read_basic(m, 's', &iface);
	if (r < 0 || !streq(iface, DIRTYRATE_PROCESS_INTERFACE))
		return;
	i = table_find(c, pid, &found);
	if (!found) {
		/* Its InterfacesAdded came first, or it is not tracked: a signal was lost. */
		cache_break(c, "a PropertiesChanged of process %" PRIu32 ", which it does not have", pid);
		return;
	}
	r = read_process_properties(m, c->by_pid[i], false, &c->changed_pos, reason, sizeof(reason));
	if (r >= 0)
		r = read_invalidated(m, &invalidated);
	if (r < 0)
		cache_break(c, "cannot read a PropertiesChanged of process %" PRIu32 ": %s", pid,
			    reason[0] ? reason : strerror(-r));
	else if (invalidated)
		cache_break(c, "property %s of process %" PRIu32 " invalidated without a value", invalidated, pid);
	else if (c->by_pid[i]->pid != pid)
		cache_break(c, "process %" PRIu32 " changed its PID", pid);
	else
		c->signals++;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
	struct process_cache *c = userdata;
	const char *path = sd_bus_message_get_path(m);
	uint32_t pid;

	if (!from_owner(c, m) || !path)
		return 0;
	if (streq(path, DIRTYRATE_MANAGER_PATH))
		on_manager_changed(c, m);
	else if (pid_of_path(path, &pid) >= 0)
		on_process_changed(c, m, pid);
	return 0;
}

static void on_interfaces_added(struct process_cache *c, sd_bus_message *m) {
	char reason[256] = "";
	struct process_sample *p;
	const char *path;
	uint32_t pid;
	int r;

	r = sd_bus_message_read_basic(m, 'o', &path);
	if (r < 0 || pid_of_path(path, &pid) < 0)
		return;
	p = new_sample();
	if (!p) {
		cache_break(c, "out of memory");
		return;
	}
	r = read_process_interfaces(m, p, &c->added_pos, reason, sizeof(reason));
	if (r > 0 && p->pid != pid)
		r = -EBADMSG, snprintf(reason, sizeof(reason), "object %s announced with PID %" PRIu32, path, p->pid);
	if (r <= 0) {
		process_sample_free(p);
		if (r < 0)
			cache_break(c, "cannot read an InterfacesAdded of process %" PRIu32 ": %s", pid,
				    reason[0] ? reason : strerror(-r));
		return;
	}
	/* The same PID again, without a removal in between: the newer one is the process now. */
	if (table_put(c, p) < 0)
		cache_break(c, "out of memory");
	else
		c->signals++;
}

static void on_interfaces_removed(struct process_cache *c, sd_bus_message *m) {
	const char *path, *iface;
	bool process = false;
	uint32_t pid;
	int r;

	r = sd_bus_message_read_basic(m, 'o', &path);
	if (r < 0 || pid_of_path(path, &pid) < 0)
		return;
	r = sd_bus_message_enter_container(m, 'a', "s");
	while (r >= 0 && (r = sd_bus_message_read_basic(m, 's', &iface)) > 0)
		if (streq(iface, DIRTYRATE_PROCESS_INTERFACE))
			process = true;
	if (r < 0) {
		cache_break(c, "cannot read an InterfacesRemoved of process %" PRIu32 ": %s", pid, strerror(-r));
		return;
	}
	if (process) {
		table_remove(c, pid);
		c->signals++;
	}
}

static int on_objects_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
	struct process_cache *c = userdata;

	if (!from_owner(c, m))
		return 0;
	if (sd_bus_message_is_signal(m, "org.freedesktop.DBus.ObjectManager", "InterfacesAdded"))
		on_interfaces_added(c, m);
	else if (sd_bus_message_is_signal(m, "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved"))
		on_interfaces_removed(c, m);
	return 0;
}

static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
	struct process_cache *c = userdata;
	const char *sender = sd_bus_message_get_sender(m), *name, *old_owner, *new_owner;

	/* Only the bus itself says who owns a name. */
	if (!sender || !streq(sender, "org.freedesktop.DBus") ||
	    sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || !streq(name, DIRTYRATE_BUS_NAME))
		return 0;
	if (c->owner && streq(new_owner, c->owner))
		return 0;
	cache_break(c, isempty(new_owner) ? "dirtyrated left the bus" : "dirtyrated restarted");
	return 0;
}

/* ---- the readings: the build, then a resync every resync_usec ---- */

static int compare_pid(const void *a, const void *b) {
	const struct process_sample *x = *(const struct process_sample *const *) a;
	const struct process_sample *y = *(const struct process_sample *const *) b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* The snapshot's processes as a table sorted by PID, each allocated on its own (the strings move). */
static int table_from_snapshot(struct snapshot *s, struct process_sample ***ret) {
	struct process_sample **by_pid = calloc(s->n_processes ?: 1, sizeof(*by_pid));

	if (!by_pid)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_processes; i++) {
		by_pid[i] = malloc(sizeof(**by_pid));
		if (!by_pid[i]) {
			table_clear(by_pid, i);
			free(by_pid);
			return -ENOMEM;
		}
		*by_pid[i] = s->processes[i];
	}
	qsort(by_pid, s->n_processes, sizeof(*by_pid), compare_pid);
	s->n_processes = 0; /* the strings are the table's now */
	*ret = by_pid;
	return 0;
}

static int on_reading(sd_bus_message *m, void *userdata, sd_bus_error *error) {
	_cleanup_(snapshot_freep) struct snapshot *s = NULL;
	struct process_cache *c = userdata;
	struct process_sample **by_pid;
	const char *sender = sd_bus_message_get_sender(m);
	char reason[256] = "";
	size_t n;
	int r;

	c->reading = sd_bus_slot_unref(c->reading);
	if (sd_bus_message_is_method_error(m, NULL)) {
		const sd_bus_error *e = sd_bus_message_get_error(m);

		cache_break(c, "GetManagedObjects failed: %s", e->message ?: e->name);
		return 0;
	}
	/* A resync must come from the daemon the copy follows; the build names it. */
	if (!sender || (c->owner && !streq(sender, c->owner))) {
		cache_break(c, "dirtyrated restarted");
		return 0;
	}
	s = snapshot_new();
	r = s ? read_managed_objects(m, s, &c->objects_pos, reason, sizeof(reason)) : -ENOMEM;
	if (r < 0) {
		cache_break(c, "cannot read GetManagedObjects: %s", reason[0] ? reason : strerror(-r));
		return 0;
	}
	n = s->n_processes;
	r = table_from_snapshot(s, &by_pid);
	if (r < 0) {
		cache_break(c, "out of memory");
		return 0;
	}
	table_clear(c->by_pid, c->n);
	free(c->by_pid);
	c->by_pid = by_pid;
	c->n = c->allocated = n;
	if (c->state == CACHE_BUILDING) {
		c->owner = strdup(sender);
		if (!c->owner) {
			cache_break(c, "out of memory");
			return 0;
		}
		c->state = CACHE_LIVE;
		log_debug("Cache: built from %s, %zu processes.", c->owner, c->n);
	} else
		log_debug("Cache: resynced, %zu processes, %" PRIu64 " signals applied so far.", c->n, c->signals);
	r = sd_event_source_set_time_relative(c->resync_timer, c->resync_usec);
	if (r >= 0)
		r = sd_event_source_set_enabled(c->resync_timer, SD_EVENT_ONESHOT);
	if (r < 0)
		cache_break(c, "cannot arm the resync timer: %s", strerror(-r));
	return 0;
}

static int send_reading(struct process_cache *c) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r;

	r = sd_bus_message_new_method_call(c->bus, &m, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH,
					   "org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
	/* As the scrapes: never start a stopped daemon. */
	if (r >= 0)
		r = sd_bus_message_set_auto_start(m, false);
	if (r < 0)
		return r;
	return sd_bus_call_async(c->bus, &c->reading, m, on_reading, c, c->timeout_usec);
}

static int on_resync_timer(sd_event_source *source, uint64_t usec, void *userdata) {
	struct process_cache *c = userdata;
	int r;

	if (c->state != CACHE_LIVE || c->reading)
		return 0;
	r = send_reading(c);
	if (r < 0)
		cache_break(c, "cannot send the resync's GetManagedObjects: %s", strerror(-r));
	return 0;
}

static int on_match_installed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
	struct process_cache *c = userdata;

	if (sd_bus_message_is_method_error(m, NULL)) {
		const sd_bus_error *e = sd_bus_message_get_error(m);

		cache_break(c, "the bus refused a signal match: %s", e->message ?: e->name);
	}
	return 0;
}

int process_cache_new(sd_bus *bus, sd_event *event, uint64_t resync_usec, uint64_t timeout_usec,
		      struct process_cache **ret) {
	static const struct {
		const char *rule;
		sd_bus_message_handler_t callback;
	} matches[_MATCH_MAX] = {
		[MATCH_PROPERTIES] = { "type='signal',sender='" DIRTYRATE_BUS_NAME "',"
				       "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
				       "path_namespace='" DIRTYRATE_MANAGER_PATH "'", on_properties_changed },
		[MATCH_OBJECTS] = { "type='signal',sender='" DIRTYRATE_BUS_NAME "',"
				    "interface='org.freedesktop.DBus.ObjectManager',path='" DIRTYRATE_MANAGER_PATH "'",
				    on_objects_changed },
		[MATCH_OWNER] = { "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
				  "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
				  "arg0='" DIRTYRATE_BUS_NAME "'", on_owner_changed },
	};
	_cleanup_(process_cache_freep) struct process_cache *c = NULL;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->bus = sd_bus_ref(bus);
	c->event = sd_event_ref(event);
	c->resync_usec = resync_usec;
	c->timeout_usec = timeout_usec;
	c->state = CACHE_BUILDING;
	r = sd_event_add_time(event, &c->resync_timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_resync_timer, c);
	if (r < 0)
		return r;
	(void) sd_event_source_set_enabled(c->resync_timer, SD_EVENT_OFF);
	/* The matches first: the bus handles our messages in order, so they are in
	 * force before dirtyrated sees the GetManagedObjects. */
	for (size_t i = 0; i < _MATCH_MAX; i++) {
		r = sd_bus_add_match_async(bus, &c->match[i], matches[i].rule, matches[i].callback, on_match_installed,
					   c);
		if (r < 0)
			return r;
	}
	r = send_reading(c);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

struct process_cache *process_cache_free(struct process_cache *c) {
	if (!c)
		return NULL;
	for (size_t i = 0; i < _MATCH_MAX; i++)
		sd_bus_slot_unref(c->match[i]);
	sd_bus_slot_unref(c->reading);
	sd_event_source_disable_unref(c->resync_timer);
	table_clear(c->by_pid, c->n);
	free(c->by_pid);
	free(c->owner);
	sd_bus_unref(c->bus);
	sd_event_unref(c->event);
	free(c);
	return NULL;
}

bool process_cache_live(const struct process_cache *c) {
	return c && c->state == CACHE_LIVE;
}

bool process_cache_broken(const struct process_cache *c, const char **reason) {
	if (!c || c->state != CACHE_BROKEN)
		return false;
	if (reason)
		*reason = c->reason;
	return true;
}

const char *process_cache_owner(const struct process_cache *c) {
	return c->owner;
}

size_t process_cache_size(const struct process_cache *c) {
	return c->n;
}

uint64_t process_cache_signals(const struct process_cache *c) {
	return c->signals;
}

int process_cache_copy(const struct process_cache *c, struct snapshot *s) {
	for (size_t i = 0; i < c->n; i++) {
		struct process_sample *p = snapshot_add_process(s);

		if (!p || process_sample_copy(p, c->by_pid[i]) < 0) {
			if (p)
				snapshot_drop_last(s);
			return -ENOMEM;
		}
	}
	s->from_cache = true;
	return 0;
}
