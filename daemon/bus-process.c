/* SPDX-License-Identifier: GPL-2.0-only */
/* org.dirtyrate1.Process at /org/dirtyrate1/process/<pid>. */
#include <assert.h>
#include <math.h>
#include <stddef.h>

#include "bus-common.h"
#include "bus-manager.h"
#include "bus-process.h"
#include "bus-read-access.h"
#include "manager.h"
#include "util.h"

static int property_get_pid(sd_bus *bus, const char *path, const char *interface, const char *property,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
	return sd_bus_message_append(reply, "u", (uint32_t) *(const pid_t *) userdata);
}

static int property_get_backend(sd_bus *bus, const char *path, const char *interface, const char *property,
				sd_bus_message *reply, void *userdata, sd_bus_error *error) {
	return sd_bus_message_append(reply, "s", process_backend_name(userdata));
}

/* A standard error from a variance. */
static int property_get_stderr(sd_bus *bus, const char *path, const char *interface, const char *property,
			       sd_bus_message *reply, void *userdata, sd_bus_error *error) {
	return sd_bus_message_append(reply, "d", sqrt(*(const double *) userdata));
}

#define P(field) offsetof(struct process, field)
#define EMITS SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE
#define CONST SD_BUS_VTABLE_PROPERTY_CONST
#define NO_SIGNAL 0 /* EmitsChangedSignal=false: may change, read it when needed */

/* What a sample pass changes, in the order of enum process_change. Each
 * pass announces those of a process that changed, in one signal. */
static const char *const sampled_properties[_PROCESS_CHANGED_COUNT] = {
	"DirtyBytesPerSec", "DirtyBytesPerSecAvg10", "DirtyBytesPerSecAvg60", "DirtyBytesPerSecAvg300",
	"DirtyBytesPerSecStdError", "DirtyBytesPerSecAvg10StdError", "DirtyBytesPerSecAvg60StdError",
	"DirtyBytesPerSecAvg300StdError", "DirtiedBytesTotal", "WriteFaultsPerSec", "WriteFaultsTotal",
	"ForeignClears", "LastSampleDisturbed", "ResidentBytes", "ScannedBytes", "SampledPages",
};

static const sd_bus_vtable process_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("PID", "u", property_get_pid, P(pid), CONST),
	SD_BUS_PROPERTY("StartTimestamp", "t", bus_property_get_u64, P(start_realtime_usec), CONST),
	SD_BUS_PROPERTY("StartTimestampBoottime", "t", bus_property_get_u64, P(start_boottime_usec), CONST),
	SD_BUS_PROPERTY("Comm", "s", bus_property_get_string_ptr, P(comm), NO_SIGNAL),
	SD_BUS_PROPERTY("Unit", "s", bus_property_get_string_ptr, P(unit), NO_SIGNAL),
	SD_BUS_PROPERTY("CGroup", "s", bus_property_get_string_ptr, P(cgroup), NO_SIGNAL),
	SD_BUS_PROPERTY("UID", "u", bus_property_get_u32, P(uid), NO_SIGNAL),
	SD_BUS_PROPERTY("Backend", "s", property_get_backend, 0, EMITS),
	SD_BUS_PROPERTY("DirtyBytesPerSec", "d", bus_property_get_double, P(stats.dirty_bytes_per_sec), EMITS),
	SD_BUS_PROPERTY("DirtyBytesPerSecAvg10", "d", bus_property_get_double, P(stats.dirty_avgs.avg10), EMITS),
	SD_BUS_PROPERTY("DirtyBytesPerSecAvg60", "d", bus_property_get_double, P(stats.dirty_avgs.avg60), EMITS),
	SD_BUS_PROPERTY("DirtyBytesPerSecAvg300", "d", bus_property_get_double, P(stats.dirty_avgs.avg300), EMITS),
	SD_BUS_PROPERTY("DirtyBytesPerSecStdError", "d", bus_property_get_double, P(stats.dirty_bytes_per_sec_stderr),
			EMITS),
	SD_BUS_PROPERTY("DirtyBytesPerSecAvg10StdError", "d", property_get_stderr, P(stats.dirty_avgs.var10), EMITS),
	SD_BUS_PROPERTY("DirtyBytesPerSecAvg60StdError", "d", property_get_stderr, P(stats.dirty_avgs.var60), EMITS),
	SD_BUS_PROPERTY("DirtyBytesPerSecAvg300StdError", "d", property_get_stderr, P(stats.dirty_avgs.var300), EMITS),
	SD_BUS_PROPERTY("DirtiedBytesTotal", "t", bus_property_get_u64, P(stats.dirtied_bytes_total), EMITS),
	SD_BUS_PROPERTY("WriteFaultsPerSec", "d", bus_property_get_double, P(stats.write_faults_per_sec), EMITS),
	SD_BUS_PROPERTY("WriteFaultsTotal", "t", bus_property_get_u64, P(stats.write_faults_total), EMITS),
	SD_BUS_PROPERTY("ForeignClears", "t", bus_property_get_u64, P(stats.foreign_clears), EMITS),
	SD_BUS_PROPERTY("LastSampleDisturbed", "b", bus_property_get_bool, P(stats.last_sample_disturbed), EMITS),
	SD_BUS_PROPERTY("ResidentBytes", "t", bus_property_get_u64, P(resident_bytes), EMITS),
	SD_BUS_PROPERTY("ScannedBytes", "t", bus_property_get_u64, P(scanned_bytes), EMITS),
	SD_BUS_PROPERTY("SampledPages", "t", bus_property_get_u64, P(sampled_pages), EMITS),
	/* Every pass moves them: a signal of their own would cost every idle
	 * process one per pass. The Manager's LastSampleTimestamp says when a
	 * pass ended; read these when needed. */
	SD_BUS_PROPERTY("LastSampleTimestamp", "t", bus_property_get_u64, P(last_sample_realtime_usec), NO_SIGNAL),
	SD_BUS_PROPERTY("LastSampleTimestampMonotonic", "t", bus_property_get_u64, P(last_sample_monotonic_usec),
			NO_SIGNAL),
	SD_BUS_VTABLE_END,
};

/* One property of the vtable, for the replies bus-read-access.c builds itself. */
static int append_entry(sd_bus_message *m, struct process *p, const sd_bus_vtable *v) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_message_open_container(m, 'v', v->x.property.signature);
	if (r < 0)
		return r;
	r = v->x.property.get(sd_bus_message_get_bus(m), p->path, DIRTYRATE_PROCESS_INTERFACE, v->x.property.member,
			      m, (uint8_t *) p + v->x.property.offset, &error);
	if (r < 0)
		return r;
	return sd_bus_message_close_container(m);
}

static bool is_property(const sd_bus_vtable *v) {
	return v->type == _SD_BUS_VTABLE_PROPERTY || v->type == _SD_BUS_VTABLE_WRITABLE_PROPERTY;
}

int bus_process_append_property(sd_bus_message *m, struct process *p, const char *name) {
	for (const sd_bus_vtable *v = process_vtable; v->type != _SD_BUS_VTABLE_END; v++)
		if (is_property(v) && streq(v->x.property.member, name))
			return append_entry(m, p, v);
	return -ENOENT;
}

size_t bus_process_properties_size_fixed(void) {
	size_t size = 3 + 4 + 4; /* the array's padding and length, the padding to its first entry */

	for (const sd_bus_vtable *v = process_vtable; v->type != _SD_BUS_VTABLE_END; v++) {
		const char *sig = v->x.property.signature;

		if (!is_property(v))
			continue;
		/* The entry's padding, the name, the variant's signature. */
		size += 7 + bus_string_size_max(v->x.property.member) + 1 + strlen(sig) + 1;
		/* Any basic type but a string: padding and at most 8 bytes. */
		if (!streq(sig, "s"))
			size += 7 + 8;
	}
	return size;
}

size_t bus_process_strings_size_max(const struct process *p) {
	size_t size = 0;

	for (const sd_bus_vtable *v = process_vtable; v->type != _SD_BUS_VTABLE_END; v++) {
		const char *value;

		if (!is_property(v) || !streq(v->x.property.signature, "s"))
			continue;
		if (v->x.property.get == property_get_backend)
			value = process_backend_name(p);
		else {
			/* Every other string property is a char * of the process. */
			assert(v->x.property.get == bus_property_get_string_ptr);
			value = *(char *const *) ((const uint8_t *) p + v->x.property.offset);
		}
		size += bus_string_size_max(value);
	}
	return size;
}

int bus_process_append_properties(sd_bus_message *m, struct process *p) {
	int r;

	r = sd_bus_message_open_container(m, 'a', "{sv}");
	for (const sd_bus_vtable *v = process_vtable; r >= 0 && v->type != _SD_BUS_VTABLE_END; v++) {
		if (!is_property(v))
			continue;
		r = sd_bus_message_open_container(m, 'e', "sv");
		if (r >= 0)
			r = sd_bus_message_append(m, "s", v->x.property.member);
		if (r >= 0)
			r = append_entry(m, p, v);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
	}
	if (r < 0)
		return r;
	return sd_bus_message_close_container(m);
}

static int process_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
			sd_bus_error *error) {
	struct manager_bus *b = userdata;
	struct process *p;
	pid_t pid;

	if (process_path_to_pid(path, &pid) < 0)
		return 0;
	/* Not manager_get_process(): the object of a process that just exited
	 * must still resolve for its InterfacesRemoved. */
	p = manager_find_process(b->manager, pid);
	if (!p || !bus_read_access_now(b, p))
		return 0;
	*found = p;
	return 1;
}

static int process_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
	struct manager_bus *b = userdata;
	struct manager *m = b->manager;
	size_t n = 0;
	char **l;

	l = calloc(m->n_processes + 1, sizeof(char *));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_processes; i++) {
		if (!bus_read_access_now(b, m->processes[i]))
			continue;
		l[n] = strdup(m->processes[i]->path);
		if (!l[n]) {
			while (n > 0)
				free(l[--n]);
			free(l);
			return -ENOMEM;
		}
		n++;
	}
	*nodes = l;
	return 1;
}

int bus_process_register(struct manager_bus *b) {
	int r;

	r = sd_bus_add_fallback_vtable(b->bus, NULL, DIRTYRATE_PROCESS_PATH_PREFIX, DIRTYRATE_PROCESS_INTERFACE,
				       process_vtable, process_find, b);
	if (r < 0)
		return log_error_errno(r, "Cannot register the Process interface: %m");
	r = sd_bus_add_node_enumerator(b->bus, NULL, DIRTYRATE_PROCESS_PATH_PREFIX, process_enumerate, b);
	if (r < 0)
		return log_error_errno(r, "Cannot register the Process enumerator: %m");
	return 0;
}

int bus_process_emit_sampled(struct manager_bus *b, struct process *p, unsigned changes) {
	const char *names[_PROCESS_CHANGED_COUNT + 1];
	size_t n = 0;

	if (!bus_read_access_broadcast(b))
		return 0;
	for (unsigned i = 0; i < _PROCESS_CHANGED_COUNT; i++)
		if (changes & (1u << i))
			names[n++] = sampled_properties[i];
	if (n == 0)
		return 0;
	names[n] = NULL;
	return sd_bus_emit_properties_changed_strv(b->bus, p->path, DIRTYRATE_PROCESS_INTERFACE, (char **) names);
}

int bus_process_emit_backend_changed(struct manager_bus *b, struct process *p) {
	if (!bus_read_access_broadcast(b))
		return 0;
	return sd_bus_emit_properties_changed(b->bus, p->path, DIRTYRATE_PROCESS_INTERFACE, "Backend", NULL);
}

int bus_process_emit_added(struct manager_bus *b, struct process *p) {
	if (!bus_read_access_broadcast(b))
		return 0;
	return sd_bus_emit_object_added(b->bus, p->path);
}

int bus_process_emit_removed(struct manager_bus *b, struct process *p) {
	if (!bus_read_access_broadcast(b))
		return 0;
	return sd_bus_emit_object_removed(b->bus, p->path);
}
