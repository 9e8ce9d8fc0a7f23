/* SPDX-License-Identifier: GPL-2.0-only */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "daemon-info.h"
#include "util.h"

/* Sorted by name: prop_map_read_dict() looks them up with bsearch. */
#define M(name, sig, field) { name, sig, offsetof(ManagerInfo, field) }
const PropMap manager_info_map[] = {
	M("Backend",			"s",  backend),
	M("DaemonCPUUSec",		"t",  daemon_cpu_usec),
	M("Features",			"as", features),
	M("LastSampleDurationUSec",	"t",  last_sample_duration_usec),
	M("LastSampleTimestamp",	"t",  last_sample_timestamp),
	M("PageSize",			"t",  page_size),
	M("ReadAccess",			"s",  read_access),
	M("SampleIntervalUSec",		"t",  sample_interval_usec),
	M("TrackedProcesses",		"u",  tracked_processes),
	M("Version",			"s",  version),
};
#undef M
const size_t manager_info_map_size = ELEMENTSOF(manager_info_map);

#define P(name, sig, field) { name, sig, offsetof(ProcessInfo, field) }
const PropMap process_info_map[] = {
	P("Backend",				"s", backend),
	P("Comm",				"s", comm),
	P("DirtiedBytesTotal",			"t", dirtied_bytes_total),
	P("DirtyBytesPerSec",			"d", rate[RATE_LAST]),
	P("DirtyBytesPerSecAvg10",		"d", rate[RATE_AVG10]),
	P("DirtyBytesPerSecAvg10StdError",	"d", rate_stderr[RATE_AVG10]),
	P("DirtyBytesPerSecAvg300",		"d", rate[RATE_AVG300]),
	P("DirtyBytesPerSecAvg300StdError",	"d", rate_stderr[RATE_AVG300]),
	P("DirtyBytesPerSecAvg60",		"d", rate[RATE_AVG60]),
	P("DirtyBytesPerSecAvg60StdError",	"d", rate_stderr[RATE_AVG60]),
	P("DirtyBytesPerSecStdError",		"d", rate_stderr[RATE_LAST]),
	P("LastSampleDisturbed",		"b", last_sample_disturbed),
	P("PID",				"u", pid),
	P("ResidentBytes",			"t", resident_bytes),
	P("UID",				"u", uid),
	P("Unit",				"s", unit),
	P("WriteFaultsPerSec",			"d", write_faults_per_sec),
};
#undef P
const size_t process_info_map_size = ELEMENTSOF(process_info_map);

void manager_info_done(ManagerInfo *m) {
	prop_map_free(manager_info_map, manager_info_map_size, m);
}

int manager_info_read(ManagerInfo *m, sd_bus_message *reply) {
	return prop_map_read_dict(reply, manager_info_map, manager_info_map_size, m);
}

int manager_info_copy(const ManagerInfo *src, ManagerInfo *dst) {
	int r;

	*dst = *src;
	r = prop_map_dup_strings(manager_info_map, manager_info_map_size, dst);
	if (r < 0)
		manager_info_done(dst);
	return r;
}

ProcessInfo *process_info_new(uint32_t pid) {
	ProcessInfo *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->pid = pid;
	for (int i = 0; i < _RATE_MAX; i++)
		p->rate[i] = p->rate_stderr[i] = NAN;
	p->write_faults_per_sec = NAN;
	return p;
}

ProcessInfo *process_info_free(ProcessInfo *p) {
	if (p) {
		prop_map_free(process_info_map, process_info_map_size, p);
		free(p);
	}
	return NULL;
}

ProcessInfo *process_info_copy(const ProcessInfo *p) {
	ProcessInfo *copy = malloc(sizeof(*copy));

	if (!copy)
		return NULL;
	*copy = *p;
	if (prop_map_dup_strings(process_info_map, process_info_map_size, copy) < 0)
		return process_info_free(copy);
	return copy;
}
