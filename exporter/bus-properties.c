/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <dirtyrate/bus.h>

#include "bus-properties.h"
#include "util.h"

enum field_type { FIELD_U32, FIELD_U64, FIELD_DOUBLE, FIELD_BOOL, FIELD_STRING, FIELD_STRV_JOINED };

struct field {
	const char *name;
	enum field_type type;
	size_t offset;
};

#define D(name, type, member) { name, type, offsetof(struct daemon_sample, member) }
static const struct field manager_fields[] = {
	D("Version", FIELD_STRING, version),
	D("Backend", FIELD_STRING, backend),
	D("ReadAccess", FIELD_STRING, read_access),
	D("Features", FIELD_STRV_JOINED, features),
	D("TrackedProcesses", FIELD_U32, tracked_processes),
	D("SampleIntervalUSec", FIELD_U64, sample_interval_usec),
	D("LastSampleTimestamp", FIELD_U64, last_sample_timestamp_usec),
	D("LastSampleDurationUSec", FIELD_U64, last_sample_duration_usec),
	D("DaemonCPUUSec", FIELD_U64, cpu_usec),
	D("SampledPagesPerSec", FIELD_DOUBLE, sampled_pages_per_sec),
};
#undef D

#define P(name, type, member) { name, type, offsetof(struct process_sample, member) }
static const struct field process_fields[] = {
	P("PID", FIELD_U32, pid),
	P("UID", FIELD_U32, uid),
	P("StartTimestamp", FIELD_U64, start_timestamp_usec),
	P("StartTimestampBoottime", FIELD_U64, start_boottime_usec),
	P("Comm", FIELD_STRING, comm),
	P("Unit", FIELD_STRING, unit),
	P("Backend", FIELD_STRING, backend),
	P("DirtyBytesPerSec", FIELD_DOUBLE, rate[WINDOW_SAMPLE]),
	P("DirtyBytesPerSecAvg10", FIELD_DOUBLE, rate[WINDOW_10S]),
	P("DirtyBytesPerSecAvg60", FIELD_DOUBLE, rate[WINDOW_60S]),
	P("DirtyBytesPerSecAvg300", FIELD_DOUBLE, rate[WINDOW_300S]),
	P("DirtyBytesPerSecStdError", FIELD_DOUBLE, rate_stderr[WINDOW_SAMPLE]),
	P("DirtyBytesPerSecAvg10StdError", FIELD_DOUBLE, rate_stderr[WINDOW_10S]),
	P("DirtyBytesPerSecAvg60StdError", FIELD_DOUBLE, rate_stderr[WINDOW_60S]),
	P("DirtyBytesPerSecAvg300StdError", FIELD_DOUBLE, rate_stderr[WINDOW_300S]),
	P("DirtiedBytesTotal", FIELD_U64, dirtied_bytes_total),
	P("WriteFaultsTotal", FIELD_U64, write_faults_total),
	P("ForeignClears", FIELD_U64, foreign_clears),
	P("LastSampleDisturbed", FIELD_BOOL, last_sample_disturbed),
	P("ResidentBytes", FIELD_U64, resident_bytes),
	P("ScannedBytes", FIELD_U64, scanned_bytes),
};
#undef P

static const char *const field_signature[] = {
	[FIELD_U32] = "u", [FIELD_U64] = "t", [FIELD_DOUBLE] = "d",
	[FIELD_BOOL] = "b", [FIELD_STRING] = "s", [FIELD_STRV_JOINED] = "as",
};

/* A protocol problem, in the reason: what the exporter expected of the daemon. */
_printf_(4, 5) static int bad_reply(char *reason, size_t size, int error, const char *fmt, ...) {
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, size, fmt, ap);
	va_end(ap);
	return error;
}

static int read_strv_joined(sd_bus_message *m, char **ret) {
	char *joined = NULL;
	size_t size = 0;
	const char *s;
	FILE *f;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "s");
	if (r < 0)
		return r;
	f = open_memstream(&joined, &size);
	if (!f)
		return -ENOMEM;
	for (bool first = true; (r = sd_bus_message_read_basic(m, 's', &s)) > 0; first = false)
		fprintf(f, "%s%s", first ? "" : ",", s);
	if (fclose(f) != 0 || r < 0) {
		free(joined);
		return r < 0 ? r : -ENOMEM;
	}
	*ret = joined;
	return sd_bus_message_exit_container(m);
}

static int read_field(sd_bus_message *m, const struct field *f, void *base) {
	void *p = (uint8_t *) base + f->offset;
	const char *s;
	int b, r;

	switch (f->type) {
	case FIELD_U32:
		return sd_bus_message_read_basic(m, 'u', p);
	case FIELD_U64:
		return sd_bus_message_read_basic(m, 't', p);
	case FIELD_DOUBLE:
		return sd_bus_message_read_basic(m, 'd', p);
	case FIELD_BOOL:
		r = sd_bus_message_read_basic(m, 'b', &b);
		if (r >= 0)
			*(bool *) p = b;
		return r;
	case FIELD_STRING:
		r = sd_bus_message_read_basic(m, 's', &s);
		if (r < 0)
			return r;
		/* The same string again (a Comm, a Unit, every pass): keep ours. */
		if (*(char **) p && streq(*(char **) p, s))
			return 0;
		free(*(char **) p);
		*(char **) p = strdup(s);
		return *(char **) p ? 0 : -ENOMEM;
	case FIELD_STRV_JOINED:
		free(*(char **) p);
		*(char **) p = NULL;
		return read_strv_joined(m, p);
	}
	return -EINVAL;
}

static int find_field(const struct field *fields, size_t n, const char *name) {
	for (size_t i = 0; i < n; i++)
		if (streq(fields[i].name, name))
			return (int) i;
	return -1;
}

/* The field at position k of an a{sv}, by the remembered name there, else by a search. */
static int lookup_field(const struct field *fields, size_t n, struct field_positions *pos, size_t k,
			const char *name) {
	int i;

	if (pos && k < FIELD_POSITIONS && pos->at[k].set && streq(pos->at[k].name, name))
		return pos->at[k].field;
	i = find_field(fields, n, name);
	if (pos && k < FIELD_POSITIONS && strlen(name) < sizeof(pos->at[k].name)) {
		strcpy(pos->at[k].name, name);
		pos->at[k].field = (int8_t) i;
		pos->at[k].set = true;
	}
	return i;
}

/* An a{sv} of properties into the struct at base; with all, every field of the table must be there. */
static int read_properties(sd_bus_message *m, const struct field *fields, size_t n, void *base, bool all,
			   struct field_positions *pos, char *reason, size_t reason_size) {
	uint64_t seen = 0;
	size_t k = 0;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	for (; (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0; k++) {
		const char *name;
		int i;

		r = sd_bus_message_read_basic(m, 's', &name);
		if (r < 0)
			return r;
		i = lookup_field(fields, n, pos, k, name);
		if (i < 0)
			r = sd_bus_message_skip(m, "v");
		else {
			seen |= UINT64_C(1) << i;
			r = sd_bus_message_enter_container(m, 'v', field_signature[fields[i].type]);
			if (r == -ENXIO)
				return bad_reply(reason, reason_size, -EBADMSG,
						 "unexpected reply from dirtyrated: property %s has another type", name);
			if (r >= 0)
				r = read_field(m, &fields[i], base);
			if (r >= 0)
				r = sd_bus_message_exit_container(m);
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	for (size_t i = 0; all && i < n; i++)
		if (!(seen & (UINT64_C(1) << i)))
			return bad_reply(reason, reason_size, -EBADMSG, "unexpected reply from dirtyrated: no property %s",
					 fields[i].name);
	return sd_bus_message_exit_container(m);
}

int read_manager_properties(sd_bus_message *m, struct daemon_sample *d, char *reason, size_t reason_size) {
	return read_properties(m, manager_fields, ELEMENTSOF(manager_fields), d, true, NULL, reason, reason_size);
}

int read_process_properties(sd_bus_message *m, struct process_sample *p, bool all, struct field_positions *pos,
			    char *reason, size_t reason_size) {
	return read_properties(m, process_fields, ELEMENTSOF(process_fields), p, all, pos, reason, reason_size);
}

int read_process_interfaces(sd_bus_message *m, struct process_sample *p, struct field_positions *pos, char *reason,
			    size_t reason_size) {
	bool found = false;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
		const char *iface;

		r = sd_bus_message_read_basic(m, 's', &iface);
		if (r >= 0 && !found && streq(iface, DIRTYRATE_PROCESS_INTERFACE)) {
			r = read_process_properties(m, p, true, pos, reason, reason_size);
			found = true;
		} else if (r >= 0)
			r = sd_bus_message_skip(m, "a{sv}");
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	return r < 0 ? r : found;
}

int read_managed_objects(sd_bus_message *m, struct snapshot *s, struct field_positions *pos, char *reason,
			 size_t reason_size) {
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
		struct process_sample *p;

		r = sd_bus_message_skip(m, "o");
		if (r < 0)
			return r;
		p = snapshot_add_process(s);
		if (!p)
			return -ENOMEM;
		r = read_process_interfaces(m, p, pos, reason, reason_size);
		if (r == 0)
			snapshot_drop_last(s); /* an object without the Process interface */
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}
