/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The tracked processes a client knows of, by PID: an array kept sorted by
 * PID, so that a PropertiesChanged signal finds its process in O(log n) and
 * a view sorts pointers, not records. Thousands of processes cost a few
 * hundred kilobytes.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "daemon-info.h"

typedef struct ProcessTable {
	ProcessInfo **items;	/* sorted by pid */
	size_t n, allocated;
	uint64_t generation;
} ProcessTable;

void process_table_done(ProcessTable *t);
ProcessInfo *process_table_get(const ProcessTable *t, uint32_t pid);
/* The process with this PID, added (unmeasured) if it was not there. */
int process_table_ensure(ProcessTable *t, uint32_t pid, ProcessInfo **ret);
void process_table_remove(ProcessTable *t, uint32_t pid);
int process_table_copy(const ProcessTable *src, ProcessTable *dst);

/* Replaces the table's content by a GetManagedObjects reply's processes
 * (a{oa{sa{sv}}}), keeping nothing the reply lacks. */
int process_table_load(ProcessTable *t, sd_bus_message *reply);

/* Reads an InterfacesAdded signal's (oa{sa{sv}}) Process object, if it has one. */
int process_table_read_interfaces(ProcessTable *t, sd_bus_message *m);

/* Calls object() with the PID and the properties (the a{sv}, to read or
 * skip) of each Process object of a GetManagedObjects reply, in its order. */
typedef int (*ProcessObjectFunc)(pid_t pid, sd_bus_message *props, void *userdata);
int managed_objects_foreach_process(sd_bus_message *reply, ProcessObjectFunc object, void *userdata);
