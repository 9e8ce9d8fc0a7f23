/* SPDX-License-Identifier: GPL-2.0-only */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "columns.h"
#include "util.h"

/* Keys as systemd-cgtop's (p, c, m) where they mean the same; the moving
 * averages by the first digit of their window (1 → 10 s, 6 → 60 s,
 * 3 → 300 s), and `a` for the minute's average as well. */
const ColumnInfo columns[_COLUMN_MAX] = {
	[COLUMN_PID]      = { "PID",      "pid",      'p', true,  "process ID" },
	[COLUMN_COMM]     = { "COMM",     "comm",     'c', false, "command name" },
	[COLUMN_RATE]     = { "DIRTY/s",  "rate",     'r', true,  "bytes dirtied per second, last interval" },
	[COLUMN_AVG10]    = { "AVG10",    "avg10",    '1', true,  "average over 10 s" },
	[COLUMN_AVG60]    = { "AVG60",    "avg60",    'a', true,  "average over 60 s (also 6)" },
	[COLUMN_AVG300]   = { "AVG300",   "avg300",   '3', true,  "average over 300 s" },
	[COLUMN_FAULTS]   = { "FAULTS/s", "faults",   'f', true,  "write faults per second" },
	[COLUMN_RESIDENT] = { "RESIDENT", "resident", 'm', true,  "resident memory" },
	[COLUMN_BACKEND]  = { "BACKEND",  "backend",  'b', false, "how it is measured" },
	[COLUMN_UNIT]     = { "UNIT",     "unit",     'u', false, "systemd unit" },
};

Column column_from_name(const char *name) {
	for (Column c = 0; c < _COLUMN_MAX; c++)
		if (streq(columns[c].name, name))
			return c;
	return _COLUMN_INVALID;
}

bool column_descending_first(Column c) {
	return columns[c].numeric && c != COLUMN_PID;
}

Column column_from_key(int key) {
	if (key == '6')
		return COLUMN_AVG60;
	for (Column c = 0; c < _COLUMN_MAX; c++)
		if (columns[c].key == key)
			return c;
	return _COLUMN_INVALID;
}

static RateKind column_rate(Column c) {
	return (RateKind) (c - COLUMN_RATE);
}

const char *column_cell(Column c, const ProcessInfo *p, char buf[static FORMAT_MAX]) {
	switch (c) {
	case COLUMN_PID:
		snprintf(buf, FORMAT_MAX, "%" PRIu32, p->pid);
		return buf;
	case COLUMN_COMM:
		return p->comm ?: "";
	case COLUMN_RATE:
	case COLUMN_AVG10:
	case COLUMN_AVG60:
	case COLUMN_AVG300:
		/* Only the last interval is NaN for a disturbed one; the
		 * averages carry on without it. */
		return format_rate(buf, p->rate[column_rate(c)], p->rate_stderr[column_rate(c)],
				   c == COLUMN_RATE && p->last_sample_disturbed);
	case COLUMN_FAULTS:
		return format_count(buf, p->write_faults_per_sec);
	case COLUMN_RESIDENT:
		return format_bytes(buf, (double) p->resident_bytes);
	case COLUMN_BACKEND:
		return p->backend ?: "";
	case COLUMN_UNIT:
		return isempty(p->unit) ? "-" : p->unit;
	default:
		abort();
	}
}

static int compare_double(double a, double b) {
	return a < b ? -1 : a > b;
}

static int compare_string(const char *a, const char *b) {
	return strcmp(a ?: "", b ?: "");
}

/* Whether p has nothing to sort by in c: it goes last in either direction. */
static bool column_missing(Column c, const ProcessInfo *p) {
	switch (c) {
	case COLUMN_RATE:
	case COLUMN_AVG10:
	case COLUMN_AVG60:
	case COLUMN_AVG300:
		return isnan(p->rate[column_rate(c)]);
	case COLUMN_FAULTS:
		return isnan(p->write_faults_per_sec);
	case COLUMN_COMM:
		return isempty(p->comm);
	case COLUMN_BACKEND:
		return isempty(p->backend);
	case COLUMN_UNIT:
		return isempty(p->unit);
	default:
		return false;
	}
}

static int column_compare(Column c, const ProcessInfo *a, const ProcessInfo *b) {
	switch (c) {
	case COLUMN_PID:
		return compare_double(a->pid, b->pid);
	case COLUMN_COMM:
		return compare_string(a->comm, b->comm);
	case COLUMN_RATE:
	case COLUMN_AVG10:
	case COLUMN_AVG60:
	case COLUMN_AVG300:
		return compare_double(a->rate[column_rate(c)], b->rate[column_rate(c)]);
	case COLUMN_FAULTS:
		return compare_double(a->write_faults_per_sec, b->write_faults_per_sec);
	case COLUMN_RESIDENT:
		return compare_double((double) a->resident_bytes, (double) b->resident_bytes);
	case COLUMN_BACKEND:
		return compare_string(a->backend, b->backend);
	case COLUMN_UNIT:
		return compare_string(a->unit, b->unit);
	default:
		abort();
	}
}

struct sort_order {
	Column column;
	bool descending;
};

static int compare_processes(const void *x, const void *y, void *userdata) {
	const ProcessInfo *a = *(ProcessInfo *const *) x, *b = *(ProcessInfo *const *) y;
	const struct sort_order *o = userdata;
	bool ma = column_missing(o->column, a), mb = column_missing(o->column, b);
	int r;

	if (ma != mb)
		return ma ? 1 : -1;
	r = ma ? 0 : column_compare(o->column, a, b);
	if (o->descending)
		r = -r;
	return r ?: compare_double(a->pid, b->pid);
}

void columns_sort(ProcessInfo **items, size_t n, Column c, bool descending) {
	struct sort_order o = { c, descending };

	if (n > 1)
		qsort_r(items, n, sizeof(*items), compare_processes, &o);
}

static size_t row_width(const size_t w[_COLUMN_MAX]) {
	size_t total = 0, n = 0;

	for (Column c = 0; c < _COLUMN_MAX; c++)
		if (w[c] > 0) {
			total += w[c];
			n++;
		}
	return n > 0 ? total + n - 1 : 0;
}

size_t columns_layout(const size_t natural[_COLUMN_MAX], Column sort, size_t width, size_t out[_COLUMN_MAX]) {
	static const Column drop_order[] = {
		COLUMN_UNIT, COLUMN_BACKEND, COLUMN_AVG300, COLUMN_RESIDENT, COLUMN_AVG10, COLUMN_FAULTS, COLUMN_AVG60,
	};
	size_t total;

	/* UNIT, last and longest, is cut first; then columns go, in order; a
	 * command name is cut only when nothing else can go. */
	memcpy(out, natural, sizeof(size_t) * _COLUMN_MAX);
	out[COLUMN_UNIT] = MIN(natural[COLUMN_UNIT], (size_t) COLUMN_MIN_TEXT);
	for (size_t i = 0; i < ELEMENTSOF(drop_order) && row_width(out) > width; i++)
		if (drop_order[i] != sort)
			out[drop_order[i]] = 0;
	total = row_width(out);
	if (total > width && out[COLUMN_COMM] > COLUMN_MIN_TEXT) {
		size_t cut = MIN(total - width, out[COLUMN_COMM] - COLUMN_MIN_TEXT);

		out[COLUMN_COMM] -= cut;
		total -= cut;
	}
	/* The room left widens UNIT again. */
	if (out[COLUMN_UNIT] > 0 && total < width) {
		size_t grow = MIN(natural[COLUMN_UNIT] - out[COLUMN_UNIT], width - total);

		out[COLUMN_UNIT] += grow;
		total += grow;
	}
	return total;
}
