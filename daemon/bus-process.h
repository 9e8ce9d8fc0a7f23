/* SPDX-License-Identifier: GPL-2.0-only */
/* org.dirtyrate1.Process objects at /org/dirtyrate1/process/<pid>. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct manager_bus;
struct process;
struct sd_bus_message;

int bus_process_register(struct manager_bus *b);

/* Signals of one object; in ReadAccess=owner mode none are sent (see bus-read-access.h). */
int bus_process_emit_added(struct manager_bus *b, struct process *p);
int bus_process_emit_removed(struct manager_bus *b, struct process *p);
/* One PropertiesChanged with the properties in changes (enum process_change). */
int bus_process_emit_sampled(struct manager_bus *b, struct process *p, unsigned changes);
int bus_process_emit_backend_changed(struct manager_bus *b, struct process *p);

/* Appends the a{sv} of every org.dirtyrate1.Process property of p (for replies we build). */
int bus_process_append_properties(struct sd_bus_message *m, struct process *p);
/*
 * At most how many bytes bus_process_append_properties() adds for p
 * (bus_string_size_max()): the part every process shares (names,
 * signatures, values other than strings), plus that of p's strings.
 */
size_t bus_process_properties_size_fixed(void);
size_t bus_process_strings_size_max(const struct process *p);
/* Appends one property's value as a variant; -ENOENT if there is no such property. */
int bus_process_append_property(struct sd_bus_message *m, struct process *p, const char *name);
