/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the human views show of the daemon's two interfaces, as C structs
 * filled by name from org.dirtyrate1.Manager and org.dirtyrate1.Process
 * properties (prop-map.h). The JSON output does not go through these: it
 * prints every property the daemon sends, under its D-Bus name.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "prop-map.h"

typedef struct ManagerInfo {
	char *version, *backend, *read_access;
	char **features;
	uint64_t sample_interval_usec, page_size;
	uint64_t last_sample_timestamp, last_sample_duration_usec, daemon_cpu_usec;
	uint32_t tracked_processes;
} ManagerInfo;

/* The four rates a Process has, in the order of its properties. */
typedef enum RateKind {
	RATE_LAST,	/* DirtyBytesPerSec */
	RATE_AVG10,
	RATE_AVG60,
	RATE_AVG300,
	_RATE_MAX,
} RateKind;

typedef struct ProcessInfo {
	uint32_t pid, uid;
	char *comm, *unit, *backend;
	double rate[_RATE_MAX];		/* bytes/s, NaN: not measured */
	double rate_stderr[_RATE_MAX];	/* 0: exact, NaN: none */
	double write_faults_per_sec;
	uint64_t resident_bytes, dirtied_bytes_total;
	bool last_sample_disturbed;
	uint64_t generation;		/* ProcessTable's, for a reload's sweep */
} ProcessInfo;

extern const PropMap manager_info_map[];
extern const size_t manager_info_map_size;
extern const PropMap process_info_map[];
extern const size_t process_info_map_size;

void manager_info_done(ManagerInfo *m);
/* Reads a Manager GetAll reply (a{sv}) into m, which keeps what it lacks. */
int manager_info_read(ManagerInfo *m, sd_bus_message *reply);
int manager_info_copy(const ManagerInfo *src, ManagerInfo *dst);

/* A new ProcessInfo: numbers unmeasured (NaN), strings empty. */
ProcessInfo *process_info_new(uint32_t pid);
ProcessInfo *process_info_free(ProcessInfo *p);
ProcessInfo *process_info_copy(const ProcessInfo *p);
