/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One reading of dirtyrated: the Manager's properties and every Process
 * object the exporter may see, as plain values. The scrape fills it from
 * the bus, the renderer turns it into an exposition; neither the snapshot
 * nor the renderer knows anything of D-Bus or HTTP.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The rate windows, in the order of the `window` label's values. */
enum rate_window {
	WINDOW_SAMPLE,	/* DirtyBytesPerSec: the last interval */
	WINDOW_10S,	/* DirtyBytesPerSecAvg10 */
	WINDOW_60S,
	WINDOW_300S,
	_WINDOW_MAX,
};

extern const char *const rate_window_label[_WINDOW_MAX];

struct process_sample {
	uint32_t pid;
	uint32_t uid;
	uint64_t start_timestamp_usec;		/* StartTimestamp, CLOCK_REALTIME */
	uint64_t start_boottime_usec;		/* StartTimestampBoottime: with pid, the identity */
	char *comm, *unit, *backend;
	double rate[_WINDOW_MAX];		/* bytes/s; NaN where not measured */
	double rate_stderr[_WINDOW_MAX];
	uint64_t dirtied_bytes_total;
	uint64_t write_faults_total;
	uint64_t foreign_clears;
	bool last_sample_disturbed;
	uint64_t resident_bytes;
	uint64_t scanned_bytes;
};

struct daemon_sample {
	char *version, *backend, *read_access;
	char *features;				/* comma-joined */
	uint32_t tracked_processes;
	uint64_t sample_interval_usec;
	uint64_t last_sample_timestamp_usec;	/* CLOCK_REALTIME, 0 before the first pass */
	uint64_t last_sample_duration_usec;
	uint64_t cpu_usec;
	double sampled_pages_per_sec;
};

struct snapshot {
	struct daemon_sample daemon;
	struct process_sample *processes;
	size_t n_processes, n_allocated;
	bool from_cache;			/* the processes came from the signal-fed cache */
};

/* What --max-processes leaves out, summed: separate series, never mixed
 * into the per-process ones, so that sum() over those stays right. */
struct others_aggregate {
	size_t count;
	double rate[_WINDOW_MAX];		/* sum of the measured (non-NaN) rates */
};

#define MAX_PROCESSES_ALL SIZE_MAX

struct snapshot *snapshot_new(void);
void snapshot_free(struct snapshot *s);
static inline void snapshot_freep(struct snapshot **s) {
	snapshot_free(*s);
}

/* Appends a zeroed process (rates NaN); NULL when out of memory. */
struct process_sample *snapshot_add_process(struct snapshot *s);
/* Takes the last one added off again. */
void snapshot_drop_last(struct snapshot *s);

/* A deep copy (the strings too) into *dst; -ENOMEM leaves *dst empty. */
int process_sample_copy(struct process_sample *dst, const struct process_sample *src);
/* Frees one allocated by itself (the cache's), strings and all. */
void process_sample_free(struct process_sample *p);

/*
 * Keeps the max processes with the highest 60 s average (the ranking that
 * flaps least from one scrape to the next; unmeasured ones last, ties by
 * PID), sums the rest into *others, and sorts what is kept by PID.
 * MAX_PROCESSES_ALL keeps everyone.
 */
void snapshot_select_top(struct snapshot *s, size_t max, struct others_aggregate *others);

/* Whether a backend's rates come with a standard error worth exporting:
 * page-sampling's estimate (exact backends give 0, faults-only NaN). */
bool backend_has_standard_error(const char *backend);
