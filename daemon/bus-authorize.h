/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who may do what: root, or a caller polkit authorizes for an action
 * (include/dirtyrate/bus.h names them). Every check is asynchronous, as
 * hostnamed's Set*() methods are: the event loop never waits for polkit.
 * When polkit is not on the bus (not installed, or a private test bus),
 * only root is allowed.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>

/* The caller's effective UID, as the bus driver saw it at connect time. */
int bus_sender_uid(sd_bus_message *m, uid_t *ret);

/*
 * Asks polkit whether the sender of m may do action. Calls
 * done(m, userdata, allowed, why) once the answer is in: allowed is 1 or 0,
 * and why (never NULL) is the error to reply with when it is 0. Root is
 * allowed without asking (done runs before this returns). interactive:
 * polkit may ask the caller's user (also when m allows interactive
 * authorization). Returns 0, or -errno if polkit could not be asked at all.
 */
typedef int (*bus_authorized_t)(sd_bus_message *m, void *userdata, int allowed, const sd_bus_error *why);
int bus_polkit_check_async(sd_bus_message *m, const char *action, bool interactive, bus_authorized_t done,
			   void *userdata);

/*
 * For mutating methods: runs handler(m, userdata, error) once the sender is
 * authorized for action, or replies AccessDenied (or
 * InteractiveAuthorizationRequired) for it. Returns what a method handler
 * returns. The handler reads the message from its start.
 */
int bus_authorize_async(sd_bus_message *m, const char *action, bool interactive, sd_bus_message_handler_t handler,
			void *userdata, sd_bus_error *error);
