/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who may read what (ReadAccess= in the config, daemon/README.md "Who may
 * read what"). With "all" everyone sees every tracked process. With
 * "owner" a caller sees a process only if it is root, has the process's
 * UID, or polkit grants it org.dirtyrate1.read-all: what hidepid=2 grants
 * in /proc, with polkit in the place of its gid= exemption.
 *
 * Method calls (ListProcesses, GetProcess) and the reads sd-bus would
 * otherwise answer itself (Properties.Get/GetAll of a Process object,
 * ObjectManager.GetManagedObjects) are decided asynchronously: a filter
 * takes the latter over from sd-bus in owner mode, and GetManagedObjects in
 * every mode, to refuse a reply beyond MaxReplyBytes=. What sd-bus must answer
 * at once (Introspect of a Process object, the node list of `busctl tree`)
 * is decided on the UID alone.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>

struct manager_bus;
struct process;

/* What one caller may see. */
struct read_grant {
	bool all;		/* every process */
	uid_t uid;		/* else the processes of this UID */
};

bool read_grant_allows(const struct read_grant *g, const struct process *p);
/* The same for a process of this UID. */
bool read_grant_allows_uid(const struct read_grant *g, uid_t uid);

/*
 * Works out what the sender of m may see, then calls
 * handler(m, b, grant, error) and replies with its error if it fails.
 * Returns what a method handler returns.
 */
typedef int (*bus_read_handler_t)(sd_bus_message *m, struct manager_bus *b, const struct read_grant *g,
				  sd_bus_error *error);
int bus_read_access_async(sd_bus_message *m, struct manager_bus *b, bus_read_handler_t handler, sd_bus_error *error);

/* Whether the sender of the message being processed may see p, decided now (see above). */
bool bus_read_access_now(struct manager_bus *b, const struct process *p);

/* Whether per-process signals may be broadcast (not in owner mode). */
bool bus_read_access_broadcast(struct manager_bus *b);

/* Installs the filter that takes those reads over from sd-bus. */
int bus_read_access_register(struct manager_bus *b);
