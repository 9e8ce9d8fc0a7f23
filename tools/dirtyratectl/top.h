/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `top`: the tracked processes, live, on a full-screen terminal view
 * (top-screen.c) or as plain repeated tables when the output is not a
 * terminal (top-batch.c). top.c keeps the data current from the bus and
 * says when there is something new to show; the views only show it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "columns.h"
#include "daemon-info.h"
#include "format.h"
#include "process-table.h"

typedef struct Top Top;

typedef struct TopView {
	/* Takes over the output; 0 or a negative errno. */
	int (*open)(Top *t);
	/* New data: show it. */
	void (*update)(Top *t);
	/* Gives the output back as it found it. */
	void (*close)(Top *t);
} TopView;

extern const TopView top_screen_view;
extern const TopView top_batch_view;

struct Top {
	sd_event *event;
	sd_bus *bus;
	const TopView *view;
	void *view_data;

	ManagerInfo manager;
	ProcessTable processes;
	/* ReadAccess=all: every Process announces its changes; otherwise
	 * each update reads them all (daemon/README.md, "Who may read what"). */
	bool process_signals;

	/* Updates: after a pass, at most one per arg_delay_usec. */
	sd_event_source *update_timer;
	bool update_wanted, refresh_again, resync_wanted;
	sd_bus_slot *manager_call, *objects_call;
	uint64_t last_update_usec, last_resync_usec;	/* CLOCK_MONOTONIC */
	unsigned updates;

	/* dirtyrated's CPU use between the last two updates, percent; NaN before. */
	double daemon_cpu_percent;
	uint64_t cpu_sample_usec, cpu_sample_at;

	Column order;
	bool descending;

	/* Why top stopped, said once the terminal is restored. */
	char failure[256];
};

/* The header's lines, for both views (n_lines of them, each FORMAT_MAX * 4
 * bytes): daemon and backend, features, totals, costs. */
#define TOP_HEADER_LINES 4
#define TOP_HEADER_SIZE (FORMAT_MAX * 4)
void top_header(const ManagerInfo *m, const ProcessTable *processes, double daemon_cpu_percent,
		char lines[TOP_HEADER_LINES][TOP_HEADER_SIZE]);

/* The processes in the current order, as pointers into the table (free()). */
int top_sorted(const ProcessTable *processes, Column order, bool descending, ProcessInfo ***ret);

/* Ends top with a message for stderr and a failure exit status. */
void top_fail(Top *t, int r, const char *format, ...) __attribute__((format(printf, 3, 4)));
