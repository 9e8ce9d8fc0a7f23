/* SPDX-License-Identifier: GPL-2.0-only */
/* org.dirtyrate1.Process at /org/dirtyrate1/process/<pid>. */
#include <stddef.h>

#include "bus-common.h"
#include "manager.h"
#include "util.h"

static int property_get_pid(sd_bus *bus, const char *path, const char *interface, const char *property,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
	return sd_bus_message_append(reply, "u", (uint32_t) *(const pid_t *) userdata);
}

static int property_get_backend(sd_bus *bus, const char *path, const char *interface, const char *property,
				sd_bus_message *reply, void *userdata, sd_bus_error *error) {
	return sd_bus_message_append(reply, "s", backend_to_string(*(const enum backend *) userdata));
}

#define T(field) offsetof(struct tracked, field)
#define EMITS SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE
#define CONST SD_BUS_VTABLE_PROPERTY_CONST
#define NO_SIGNAL 0 /* EmitsChangedSignal=false: may change, read it when needed */

/* Everything a sample pass changes; announced together, once per pass. */
#define SAMPLED_PROPERTIES                                                                                  \
	"DirtyBytesPerSec", "DirtyBytesPerSecAvg10", "DirtyBytesPerSecAvg60", "DirtyBytesPerSecAvg300",     \
		"DirtiedBytesTotal", "WriteFaultsPerSec", "WriteFaultsTotal", "ForeignClears",              \
		"LastSampleDisturbed", "ResidentBytes", "TrackedBytes", "LastSampleUSec"

static const sd_bus_vtable process_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("PID", "u", property_get_pid, T(pid), CONST),
	SD_BUS_PROPERTY("StartTimeUSec", "t", bus_property_get_u64, T(start_usec), CONST),
	SD_BUS_PROPERTY("Comm", "s", bus_property_get_string_ptr, T(comm), NO_SIGNAL),
	SD_BUS_PROPERTY("Unit", "s", bus_property_get_string_ptr, T(unit), NO_SIGNAL),
	SD_BUS_PROPERTY("CGroup", "s", bus_property_get_string_ptr, T(cgroup), NO_SIGNAL),
	SD_BUS_PROPERTY("UID", "u", bus_property_get_u32, T(uid), NO_SIGNAL),
	SD_BUS_PROPERTY("Backend", "s", property_get_backend, T(backend), EMITS),
	SD_BUS_PROPERTY("DirtyBytesPerSec", "d", bus_property_get_double, T(stats.dirty_bytes_per_sec), EMITS),
	SD_BUS_PROPERTY("DirtyBytesPerSecAvg10", "d", bus_property_get_double, T(stats.dirty_avgs.avg10), EMITS),
	SD_BUS_PROPERTY("DirtyBytesPerSecAvg60", "d", bus_property_get_double, T(stats.dirty_avgs.avg60), EMITS),
	SD_BUS_PROPERTY("DirtyBytesPerSecAvg300", "d", bus_property_get_double, T(stats.dirty_avgs.avg300), EMITS),
	SD_BUS_PROPERTY("DirtiedBytesTotal", "t", bus_property_get_u64, T(stats.dirtied_bytes_total), EMITS),
	SD_BUS_PROPERTY("WriteFaultsPerSec", "d", bus_property_get_double, T(stats.write_faults_per_sec), EMITS),
	SD_BUS_PROPERTY("WriteFaultsTotal", "t", bus_property_get_u64, T(stats.write_faults_total), EMITS),
	SD_BUS_PROPERTY("ForeignClears", "t", bus_property_get_u64, T(stats.foreign_clears), EMITS),
	SD_BUS_PROPERTY("LastSampleDisturbed", "b", bus_property_get_bool, T(stats.last_sample_disturbed), EMITS),
	SD_BUS_PROPERTY("ResidentBytes", "t", bus_property_get_u64, T(resident_bytes), EMITS),
	SD_BUS_PROPERTY("TrackedBytes", "t", bus_property_get_u64, T(tracked_bytes), EMITS),
	SD_BUS_PROPERTY("LastSampleUSec", "t", bus_property_get_u64, T(last_sample_usec), EMITS),
	SD_BUS_VTABLE_END,
};

static int process_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
			sd_bus_error *error) {
	struct manager *m = userdata;
	struct tracked *t;
	pid_t pid;

	if (process_path_to_pid(path, &pid) < 0)
		return 0;
	t = manager_find(m, pid);
	if (!t)
		return 0;
	*found = t;
	return 1;
}

static int process_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
	struct manager *m = userdata;
	char **l;

	l = calloc(m->n_tracked + 1, sizeof(char *));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_tracked; i++) {
		l[i] = strdup(m->tracked[i]->path);
		if (!l[i]) {
			while (i > 0)
				free(l[--i]);
			free(l);
			return -ENOMEM;
		}
	}
	*nodes = l;
	return 1;
}

int bus_process_register(struct manager *m) {
	int r;

	r = sd_bus_add_fallback_vtable(m->bus, NULL, PROCESS_PATH_PREFIX, PROCESS_INTERFACE, process_vtable,
				       process_find, m);
	if (r < 0)
		return log_error_errno(r, "Cannot register the Process interface: %m");
	r = sd_bus_add_node_enumerator(m->bus, NULL, PROCESS_PATH_PREFIX, process_enumerate, m);
	if (r < 0)
		return log_error_errno(r, "Cannot register the Process enumerator: %m");
	return 0;
}

int bus_process_emit_sampled(struct tracked *t) {
	if (!t->manager->bus || !t->announced)
		return 0;
	return sd_bus_emit_properties_changed(t->manager->bus, t->path, PROCESS_INTERFACE, SAMPLED_PROPERTIES, NULL);
}

int bus_process_emit_backend_changed(struct tracked *t) {
	if (!t->manager->bus || !t->announced)
		return 0;
	return sd_bus_emit_properties_changed(t->manager->bus, t->path, PROCESS_INTERFACE, "Backend", NULL);
}

int bus_process_emit_added(struct tracked *t) {
	t->announced = true;
	if (!t->manager->bus)
		return 0;
	return sd_bus_emit_object_added(t->manager->bus, t->path);
}

int bus_process_emit_removed(struct tracked *t) {
	if (!t->manager->bus)
		return 0;
	return sd_bus_emit_object_removed(t->manager->bus, t->path);
}
