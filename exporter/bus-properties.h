/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dirtyrated's properties, as D-Bus sends them, into the snapshot's plain
 * structs: the one place that names the Manager's and the Process
 * interface's properties, for the replies to GetAll and GetManagedObjects
 * and for the signals that carry the same dictionaries.
 *
 * Each function reads one container from the message's current position.
 * A protocol problem (a property missing or of another type) is -EBADMSG
 * with a one-line reason; other errors are sd-bus's.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "snapshot.h"

/*
 * Where each property of an a{sv} was the last time: dirtyrated sends them
 * in the same order every time, so that a name is checked against one
 * remembered name instead of searched for in the table. Only a hint: a
 * miss falls back to the search.
 */
#define FIELD_POSITIONS 48
struct field_positions {
	struct {
		char name[40];
		int8_t field;		/* index in the table, -1: not one we read */
		bool set;
	} at[FIELD_POSITIONS];
};

/* The Manager's GetAll a{sv}; every property we export must be there. */
int read_manager_properties(sd_bus_message *m, struct daemon_sample *d, char *reason, size_t reason_size);

/*
 * A Process interface's a{sv}: with all, every property we export must be
 * there (GetManagedObjects, InterfacesAdded); without, those present are
 * updated and the others left as they are (PropertiesChanged).
 */
int read_process_properties(sd_bus_message *m, struct process_sample *p, bool all, struct field_positions *pos,
			    char *reason, size_t reason_size);

/*
 * An object's a{sa{sv}} (GetManagedObjects' entries, InterfacesAdded): the
 * Process interface's properties into *p. 1 if it had that interface, 0
 * if not (nothing read into *p).
 */
int read_process_interfaces(sd_bus_message *m, struct process_sample *p, struct field_positions *pos, char *reason,
			    size_t reason_size);

/* GetManagedObjects' a{oa{sa{sv}}}: every Process object, appended to s. */
int read_managed_objects(sd_bus_message *m, struct snapshot *s, struct field_positions *pos, char *reason,
			 size_t reason_size);
