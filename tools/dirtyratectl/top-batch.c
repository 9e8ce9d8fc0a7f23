/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * top's view when the output is not a terminal (or with --batch), like
 * systemd-cgtop's and top's batch modes: each update prints the header and
 * the whole table (every column, none cut on a pipe), then an empty line.
 */
#include <stdio.h>
#include <stdlib.h>

#include "args.h"
#include "table-print.h"
#include "top.h"
#include "util.h"

static int batch_open(Top *t) {
	return 0;
}

static void batch_update(Top *t) {
	char header[TOP_HEADER_LINES][TOP_HEADER_SIZE];
	_cleanup_free_ ProcessInfo **rows = NULL;
	TableStyle style;
	int r;

	r = top_sorted(&t->processes, t->order, t->descending, &rows);
	if (r < 0) {
		top_fail(t, r, "Out of memory.");
		return;
	}
	table_style_init(&style);
	style.legend = arg_legend;
	style.sort = t->order;
	if (arg_legend) {
		top_header(&t->manager, &t->processes, t->daemon_cpu_percent, header);
		for (size_t i = 0; i < TOP_HEADER_LINES; i++)
			printf("%s\n", header[i]);
	}
	if (t->processes.n > 0)
		table_print(stdout, rows, t->processes.n, &style);
	else if (arg_legend)
		printf("No processes are tracked.\n");
	putchar('\n');
	if (fflush(stdout) != 0)
		top_fail(t, -errno, "Failed to write the output: %s", strerror(errno));
}

static void batch_close(Top *t) {
}

const TopView top_batch_view = {
	.open = batch_open,
	.update = batch_update,
	.close = batch_close,
};
