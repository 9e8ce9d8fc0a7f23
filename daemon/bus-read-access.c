/* SPDX-License-Identifier: GPL-2.0-only */
#include "bus-authorize.h"
#include "bus-common.h"
#include "bus-manager.h"
#include "bus-process.h"
#include "bus-read-access.h"
#include "manager.h"
#include "object-path.h"
#include "util.h"

static bool owner_mode(struct manager_bus *b) {
	return b->manager->config.read_access == READ_ACCESS_OWNER;
}

bool read_grant_allows_uid(const struct read_grant *g, uid_t uid) {
	return g->all || g->uid == uid;
}

bool read_grant_allows(const struct read_grant *g, const struct process *p) {
	return read_grant_allows_uid(g, p->uid);
}

bool bus_read_access_broadcast(struct manager_bus *b) {
	return !owner_mode(b);
}

struct read_call {
	struct manager_bus *bus;
	bus_read_handler_t handler;
	uid_t uid;
};

static int on_read_all_answer(sd_bus_message *m, void *userdata, int allowed, const sd_bus_error *why) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	struct read_call *c = userdata;
	const struct read_grant g = { .all = allowed > 0, .uid = c->uid };
	int r;

	/* No grant is no error: the caller sees its own processes. */
	r = c->handler(m, c->bus, &g, &error);
	if (r < 0)
		r = sd_bus_reply_method_errno(m, r, &error);
	free(c);
	return r;
}

int bus_read_access_async(sd_bus_message *m, struct manager_bus *b, bus_read_handler_t handler, sd_bus_error *error) {
	struct read_call *c;
	uid_t uid;
	int r;

	if (!owner_mode(b)) {
		const struct read_grant all = { .all = true };

		return handler(m, b, &all, error);
	}

	r = bus_sender_uid(m, &uid);
	if (r < 0)
		return sd_bus_error_set_errnof(error, r, "Cannot identify the caller: %m");
	if (uid == 0) {
		const struct read_grant all = { .all = true };

		return handler(m, b, &all, error);
	}

	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = (struct read_call) { .bus = b, .handler = handler, .uid = uid };
	/* Never interactive: a read does not prompt anyone. */
	r = bus_polkit_check_async(m, DIRTYRATE_ACTION_READ_ALL, false, on_read_all_answer, c);
	if (r < 0) {
		free(c);
		return sd_bus_error_set_errnof(error, r, "Cannot check the caller's authorization: %m");
	}
	return 1;
}

bool bus_read_access_now(struct manager_bus *b, const struct process *p) {
	sd_bus_message *m;
	uid_t uid;

	if (!owner_mode(b))
		return true;
	m = sd_bus_get_current_message(b->bus);
	if (!m)
		return true; /* our own doing (signals), not a caller's */
	if (bus_sender_uid(m, &uid) < 0)
		return false;
	return uid == 0 || uid == p->uid;
}

static int error_unknown_object(sd_bus_error *error, const char *path) {
	return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_OBJECT, "Unknown object '%s'.", path);
}

/* Properties.Get and GetAll of a Process object, as sd-bus would answer them. */
static int reply_properties(sd_bus_message *m, struct manager_bus *b, const struct read_grant *g,
			    sd_bus_error *error) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *path = sd_bus_message_get_path(m), *iface, *name = NULL;
	bool get = sd_bus_message_is_method_call(m, NULL, "Get");
	struct process *p;
	pid_t pid;
	int r;

	if (process_path_to_pid(path, &pid) < 0 || !(p = manager_get_process(b->manager, pid)) ||
	    !read_grant_allows(g, p))
		return error_unknown_object(error, path);

	r = get ? sd_bus_message_read(m, "ss", &iface, &name) : sd_bus_message_read(m, "s", &iface);
	if (r < 0)
		return r;
	if (!isempty(iface) && !streq(iface, DIRTYRATE_PROCESS_INTERFACE))
		return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_INTERFACE, "Unknown interface '%s'.", iface);

	r = sd_bus_message_new_method_return(m, &reply);
	if (r < 0)
		return r;
	r = get ? bus_process_append_property(reply, p, name) : bus_process_append_properties(reply, p);
	if (r == -ENOENT)
		return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY, "Unknown property '%s'.", name);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

static const char *const standard_interfaces[] = {
	"org.freedesktop.DBus.Peer", "org.freedesktop.DBus.Introspectable", "org.freedesktop.DBus.Properties",
};

/* The most a reply's header takes: serial, reply serial, destination, sender, signature. */
#define REPLY_HEADER_SIZE_MAX 512

/* At most how many bytes reply_managed_objects() sends for the processes g sees, and how many. */
static size_t managed_objects_size_max(const struct manager *mgr, const struct read_grant *g, size_t *ret_n) {
	size_t size = REPLY_HEADER_SIZE_MAX + 3 + 4 + 4, n = 0, each;

	/* What every process's entry has: the array's padding and length, the
	 * standard interfaces with an empty a{sv} each, ours with the fixed
	 * part of its properties. */
	each = 3 + 4 + 4;
	for (size_t k = 0; k < ELEMENTSOF(standard_interfaces); k++)
		each += 7 + bus_string_size_max(standard_interfaces[k]) + 3 + 4 + 4;
	each += 7 + bus_string_size_max(DIRTYRATE_PROCESS_INTERFACE) + bus_process_properties_size_fixed();

	for (size_t i = 0; i < mgr->n_processes; i++) {
		const struct process *p = mgr->processes[i];

		if (!process_alive(p) || !read_grant_allows(g, p))
			continue;
		n++;
		/* {o a{s a{sv}}}: padding, path, then the above and the strings. */
		size += 7 + bus_string_size_max(p->path) + each + bus_process_strings_size_max(p);
	}
	*ret_n = n;
	return size;
}

/*
 * ObjectManager.GetManagedObjects: the visible processes, with what sd-bus
 * lists for each. Refused with LimitsExceeded when the reply could exceed
 * MaxReplyBytes=: dbus-daemon disconnects a peer that sends a message
 * beyond its max_message_size, which would take the daemon off the bus.
 */
static int reply_managed_objects(sd_bus_message *m, struct manager_bus *b, const struct read_grant *g,
				 sd_bus_error *error) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct manager *mgr = b->manager;
	size_t size, n;
	int r;

	size = managed_objects_size_max(mgr, g, &n);
	if (size > mgr->config.max_reply_bytes)
		return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
					 "GetManagedObjects() would return up to %zu bytes for %zu processes, more than "
					 "MaxReplyBytes=%" PRIu64 ": read ListProcesses() and the Process objects instead.",
					 size, n, mgr->config.max_reply_bytes);

	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "{oa{sa{sv}}}");
	for (size_t i = 0; r >= 0 && i < mgr->n_processes; i++) {
		struct process *p = mgr->processes[i];

		if (!process_alive(p) || !read_grant_allows(g, p))
			continue;
		r = sd_bus_message_open_container(reply, 'e', "oa{sa{sv}}");
		if (r >= 0)
			r = sd_bus_message_append(reply, "o", p->path);
		if (r >= 0)
			r = sd_bus_message_open_container(reply, 'a', "{sa{sv}}");
		for (size_t k = 0; r >= 0 && k < ELEMENTSOF(standard_interfaces); k++)
			r = sd_bus_message_append(reply, "{sa{sv}}", standard_interfaces[k], 0);
		if (r >= 0)
			r = sd_bus_message_open_container(reply, 'e', "sa{sv}");
		if (r >= 0)
			r = sd_bus_message_append(reply, "s", DIRTYRATE_PROCESS_INTERFACE);
		if (r >= 0)
			r = bus_process_append_properties(reply, p);
		if (r >= 0)
			r = sd_bus_message_close_container(reply);
		if (r >= 0)
			r = sd_bus_message_close_container(reply);
		if (r >= 0)
			r = sd_bus_message_close_container(reply);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

static int read_filter(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	struct manager_bus *b = userdata;
	const char *path = sd_bus_message_get_path(m);
	bus_read_handler_t handler = NULL;
	pid_t pid;
	int r;

	uint8_t type = 0;

	if (sd_bus_message_get_type(m, &type) < 0 || type != SD_BUS_MESSAGE_METHOD_CALL || !path)
		return 0;
	/* Only well-formed calls: sd-bus answers the rest with its usual
	 * errors. GetManagedObjects in every mode, so that its size is
	 * checked (MaxReplyBytes=); the rest only in owner mode. */
	if (owner_mode(b) && process_path_to_pid(path, &pid) >= 0 &&
	    ((sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", "Get") &&
	      sd_bus_message_has_signature(m, "ss")) ||
	     (sd_bus_message_is_method_call(m, "org.freedesktop.DBus.Properties", "GetAll") &&
	      sd_bus_message_has_signature(m, "s"))))
		handler = reply_properties;
	else if (streq(path, DIRTYRATE_MANAGER_PATH) &&
		 sd_bus_message_is_method_call(m, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects") &&
		 sd_bus_message_has_signature(m, ""))
		handler = reply_managed_objects;
	if (!handler)
		return 0;

	r = bus_read_access_async(m, b, handler, &error);
	if (r < 0)
		(void) sd_bus_reply_method_errno(m, r, &error);
	return 1; /* ours: sd-bus must not answer it too */
}

int bus_read_access_register(struct manager_bus *b) {
	int r = sd_bus_add_filter(b->bus, NULL, read_filter, b);

	return r < 0 ? log_error_errno(r, "Cannot install the read access filter: %m") : 0;
}
