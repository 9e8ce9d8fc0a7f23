/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who may change things: root, or a caller polkit authorizes for an action.
 * When polkit is not on the bus (not installed, or a private test bus),
 * only root is allowed.
 */
#pragma once

#include <systemd/sd-bus.h>

#define ACTION_MANAGE "org.dirtyrate1.manage"

/*
 * For method calls: runs 'handler' on m now if the sender is root, else asks
 * polkit asynchronously (honouring the caller's interactive-authorization
 * flag) and runs it, or replies AccessDenied, when polkit answers. Call it
 * before reading any argument. Returns what a method handler returns.
 */
int bus_authorize_async(sd_bus_message *m, const char *action, sd_bus_message_handler_t handler, void *userdata,
			sd_bus_error *error);

/*
 * For property setters, which cannot defer their reply: a synchronous,
 * non-interactive polkit check. Returns 0 when allowed, else a negative errno
 * with error set (AccessDenied).
 */
int bus_authorize_sync(sd_bus_message *m, const char *action, sd_bus_error *error);
