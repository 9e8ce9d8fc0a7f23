/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdbool.h>
#include <stdlib.h>

#include "bus-authorize.h"
#include "util.h"

#define POLKIT_FLAG_ALLOW_USER_INTERACTION 1u
/* An interactive check waits for a human; it does not block the loop. */
#define POLKIT_ASYNC_TIMEOUT_USEC (120 * USEC_PER_SEC)
/* The setter's check blocks the event loop: keep it well under half of the
 * unit's WatchdogSec=30s. Without interaction polkit answers at once. */
#define POLKIT_SYNC_TIMEOUT_USEC (5 * USEC_PER_SEC)

/* 1: root; 0: someone else; <0: cannot tell. */
static int sender_is_root(sd_bus_message *m) {
	_cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
	uid_t euid;
	int r;

	/* The bus driver's word on the peer (SO_PEERCRED at connect), not /proc. */
	r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
	if (r < 0)
		return r;
	r = sd_bus_creds_get_euid(creds, &euid);
	if (r < 0)
		return r;
	return euid == 0;
}

static int new_check_authorization(sd_bus_message *m, const char *action, bool interactive,
				   sd_bus_message **ret) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
	const char *sender = sd_bus_message_get_sender(m);
	int r;

	if (!sender)
		return -EBADMSG;

	r = sd_bus_message_new_method_call(sd_bus_message_get_bus(m), &call, "org.freedesktop.PolicyKit1",
					   "/org/freedesktop/PolicyKit1/Authority",
					   "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
	if (r < 0)
		return r;
	/* Subject: the caller's unique bus name, which polkit resolves itself. */
	r = sd_bus_message_append(call, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", sender, action, 0,
				  interactive ? POLKIT_FLAG_ALLOW_USER_INTERACTION : 0u, "");
	if (r < 0)
		return r;
	*ret = TAKE_PTR(call);
	return 0;
}

/* polkit could not be asked: without it, only root is allowed. */
static int deny_on_call_error(const sd_bus_error *e, const char *action, sd_bus_error *error) {
	if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
		return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
					"Only root may do this (polkit is not available).");
	return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "Authorization check for %s failed: %s",
				 action, e->message ?: e->name);
}

/* 0: authorized; -EACCES with error set otherwise. */
static int check_reply(sd_bus_message *reply, const char *action, sd_bus_error *error) {
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	int authorized, challenge, r;

	if (e)
		return deny_on_call_error(e, action, error);

	r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
	if (r >= 0)
		r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
	if (r < 0)
		return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
					 "Malformed reply from polkit for %s.", action);
	if (authorized)
		return 0;
	if (challenge)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
					 "Interactive authentication required for %s.", action);
	return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "Not authorized for %s.", action);
}

struct pending_auth {
	sd_bus_message *message;
	char *action;
	sd_bus_message_handler_t handler;
	void *userdata;
};

static void pending_auth_free(void *p) {
	struct pending_auth *a = p;

	sd_bus_message_unref(a->message);
	free(a->action);
	free(a);
}

static int on_polkit_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
	struct pending_auth *a = userdata;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = check_reply(reply, a->action, &error);
	if (r >= 0)
		r = a->handler(a->message, a->userdata, &error);
	if (r < 0)
		(void) sd_bus_reply_method_errno(a->message, r, &error);
	return 0;
}

int bus_authorize_async(sd_bus_message *m, const char *action, sd_bus_message_handler_t handler, void *userdata,
			sd_bus_error *error) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
	_cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
	struct pending_auth *a;
	int r;

	r = sender_is_root(m);
	if (r < 0)
		return sd_bus_error_set_errnof(error, r, "Cannot identify the caller: %m");
	if (r > 0)
		return handler(m, userdata, error);

	r = new_check_authorization(m, action, sd_bus_message_get_allow_interactive_authorization(m), &call);
	if (r < 0)
		return r;

	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	*a = (struct pending_auth) {
		.message = sd_bus_message_ref(m),
		.action = strdup(action),
		.handler = handler,
		.userdata = userdata,
	};
	if (!a->action) {
		pending_auth_free(a);
		return -ENOMEM;
	}

	r = sd_bus_call_async(sd_bus_message_get_bus(m), &slot, call, on_polkit_reply, a, POLKIT_ASYNC_TIMEOUT_USEC);
	if (r < 0) {
		pending_auth_free(a);
		return r;
	}
	/* The slot owns 'a' now and lives on its own until the reply. */
	(void) sd_bus_slot_set_destroy_callback(slot, pending_auth_free);
	(void) sd_bus_slot_set_floating(slot, true);
	return 1;
}

int bus_authorize_sync(sd_bus_message *m, const char *action, sd_bus_error *error) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error call_error = SD_BUS_ERROR_NULL;
	int r;

	r = sender_is_root(m);
	if (r < 0)
		return sd_bus_error_set_errnof(error, r, "Cannot identify the caller: %m");
	if (r > 0)
		return 0;

	r = new_check_authorization(m, action, false, &call);
	if (r < 0)
		return r;
	r = sd_bus_call(sd_bus_message_get_bus(m), call, POLKIT_SYNC_TIMEOUT_USEC, &call_error, &reply);
	if (r < 0) {
		if (!sd_bus_error_is_set(&call_error))
			(void) sd_bus_error_set_errno(&call_error, r);
		return deny_on_call_error(&call_error, action, error);
	}
	return check_reply(reply, action, error);
}
