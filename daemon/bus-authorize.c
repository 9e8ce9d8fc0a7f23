/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdbool.h>
#include <stdlib.h>

#include "bus-authorize.h"
#include "util.h"

#define POLKIT_FLAG_ALLOW_USER_INTERACTION 1u
/* An interactive check waits for a human; it does not block the loop. */
#define POLKIT_TIMEOUT_USEC (120 * USEC_PER_SEC)

int bus_sender_uid(sd_bus_message *m, uid_t *ret) {
	_cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
	int r;

	/* The bus driver's word on the peer (SO_PEERCRED at connect), not /proc. */
	r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
	if (r < 0)
		return r;
	return sd_bus_creds_get_euid(creds, ret);
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

/* 1: authorized; 0 with why set otherwise. */
static int check_reply(sd_bus_message *reply, const char *action, sd_bus_error *why) {
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	int authorized, challenge, r;

	if (e) {
		/* polkit could not be asked: without it, only root is allowed. */
		if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
			(void) sd_bus_error_set(why, SD_BUS_ERROR_ACCESS_DENIED,
						"Only root may do this (polkit is not available).");
		else
			(void) sd_bus_error_setf(why, SD_BUS_ERROR_ACCESS_DENIED, "Authorization check for %s failed: %s",
						 action, e->message ?: e->name);
		return 0;
	}

	r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
	if (r >= 0)
		r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
	if (r < 0) {
		(void) sd_bus_error_setf(why, SD_BUS_ERROR_ACCESS_DENIED, "Malformed reply from polkit for %s.", action);
		return 0;
	}
	if (authorized)
		return 1;
	if (challenge)
		(void) sd_bus_error_setf(why, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
					 "Interactive authentication required for %s.", action);
	else
		(void) sd_bus_error_setf(why, SD_BUS_ERROR_ACCESS_DENIED, "Not authorized for %s.", action);
	return 0;
}

struct pending_check {
	sd_bus_message *message;
	char *action;
	bus_authorized_t done;
	void *userdata;
};

static void pending_check_free(void *p) {
	struct pending_check *c = p;

	sd_bus_message_unref(c->message);
	free(c->action);
	free(c);
}

static int on_polkit_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
	_cleanup_(sd_bus_error_free) sd_bus_error why = SD_BUS_ERROR_NULL;
	struct pending_check *c = userdata;
	int allowed = check_reply(reply, c->action, &why);

	(void) c->done(c->message, c->userdata, allowed, &why);
	return 0;
}

int bus_polkit_check_async(sd_bus_message *m, const char *action, bool interactive, bus_authorized_t done,
			   void *userdata) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
	_cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
	struct pending_check *c;
	uid_t uid;
	int r;

	r = bus_sender_uid(m, &uid);
	if (r < 0)
		return r;
	if (uid == 0) {
		const sd_bus_error none = SD_BUS_ERROR_NULL;

		(void) done(m, userdata, 1, &none);
		return 0;
	}

	interactive = interactive || sd_bus_message_get_allow_interactive_authorization(m);
	r = new_check_authorization(m, action, interactive, &call);
	if (r < 0)
		return r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = (struct pending_check) {
		.message = sd_bus_message_ref(m),
		.action = strdup(action),
		.done = done,
		.userdata = userdata,
	};
	if (!c->action) {
		pending_check_free(c);
		return -ENOMEM;
	}

	r = sd_bus_call_async(sd_bus_message_get_bus(m), &slot, call, on_polkit_reply, c, POLKIT_TIMEOUT_USEC);
	if (r < 0) {
		pending_check_free(c);
		return r;
	}
	/* The slot owns c now and lives on its own until the reply. */
	(void) sd_bus_slot_set_destroy_callback(slot, pending_check_free);
	(void) sd_bus_slot_set_floating(slot, true);
	return 0;
}

struct authorized_call {
	sd_bus_message_handler_t handler;
	void *userdata;
};

static int on_authorized(sd_bus_message *m, void *userdata, int allowed, const sd_bus_error *why) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	struct authorized_call *a = userdata;
	int r;

	if (!allowed)
		r = sd_bus_reply_method_error(m, why);
	else {
		(void) sd_bus_message_rewind(m, true);
		r = a->handler(m, a->userdata, &error);
		if (r < 0)
			r = sd_bus_reply_method_errno(m, r, &error);
	}
	free(a);
	return r;
}

int bus_authorize_async(sd_bus_message *m, const char *action, bool interactive, sd_bus_message_handler_t handler,
			void *userdata, sd_bus_error *error) {
	struct authorized_call *a = malloc(sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	*a = (struct authorized_call) { handler, userdata };
	r = bus_polkit_check_async(m, action, interactive, on_authorized, a);
	if (r < 0) {
		free(a);
		return sd_bus_error_set_errnof(error, r, "Cannot check the caller's authorization: %m");
	}
	return 1;
}
