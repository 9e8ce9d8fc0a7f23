/* SPDX-License-Identifier: GPL-2.0-only */
/* What both of top's views show above the table, and the table's order. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "top.h"
#include "util.h"

int top_sorted(const ProcessTable *processes, Column order, bool descending, ProcessInfo ***ret) {
	ProcessInfo **rows = calloc(MAX(processes->n, (size_t) 1), sizeof(*rows));

	if (!rows)
		return -ENOMEM;
	memcpy(rows, processes->items, processes->n * sizeof(*rows));
	columns_sort(rows, processes->n, order, descending);
	*ret = rows;
	return 0;
}

/* A sum of rates, and the standard error of the sum: independent estimates'
 * errors add in quadrature. Unmeasured rates (NaN) add nothing; so do the
 * errors of faults-only (NaN: a lower bound, not an estimate with an error). */
static void total_rate(const ProcessTable *processes, RateKind k, double *ret_sum, double *ret_se) {
	double sum = 0, var = 0;
	bool any = false;

	for (size_t i = 0; i < processes->n; i++) {
		const ProcessInfo *p = processes->items[i];

		if (isnan(p->rate[k]))
			continue;
		any = true;
		sum += p->rate[k];
		if (p->rate_stderr[k] > 0)
			var += p->rate_stderr[k] * p->rate_stderr[k];
	}
	*ret_sum = any ? sum : NAN;
	*ret_se = sqrt(var);
}

/* printf at the end of what line (of size bytes) holds, cut at its end. */
static __attribute__((format(printf, 3, 4))) void append(char *line, size_t size, const char *format, ...) {
	size_t n = strlen(line);
	va_list ap;

	va_start(ap, format);
	vsnprintf(line + n, size - n, format, ap);
	va_end(ap);
}

/* "  dirty 10.0M/s ±0.3M": the unit goes after the value, before any error. */
static void append_rate(char *line, size_t size, const char *label, double rate, double se) {
	char v[FORMAT_MAX], *space;

	format_rate(v, rate, se, false);
	space = strchr(v, ' ');
	if (isnan(rate))
		append(line, size, "  %s -", label);
	else if (space)
		append(line, size, "  %s %.*s/s%s", label, (int) (space - v), v, space);
	else
		append(line, size, "  %s %s/s", label, v);
}

void top_header(const ManagerInfo *m, const ProcessTable *processes, double daemon_cpu_percent,
		char lines[TOP_HEADER_LINES][TOP_HEADER_SIZE]) {
	char interval[FORMAT_MAX], when[32] = "none yet", took[FORMAT_MAX], resident[FORMAT_MAX], faults[FORMAT_MAX];
	double sum, se, fault_sum = 0, resident_sum = 0;
	bool any_faults = false;

	if (m->last_sample_timestamp > 0) {
		time_t t = (time_t) (m->last_sample_timestamp / USEC_PER_SEC);
		struct tm tm;

		strftime(when, sizeof(when), "%H:%M:%S", localtime_r(&t, &tm));
	}
	snprintf(lines[0], TOP_HEADER_SIZE, "dirtyrated %s  backend %s  every %s  last pass %s",
		 m->version ?: "?", m->backend ?: "?", format_usec(interval, m->sample_interval_usec), when);

	snprintf(lines[1], TOP_HEADER_SIZE, "features");
	for (char **f = m->features; f && *f; f++)
		append(lines[1], TOP_HEADER_SIZE, " %s", *f);
	if (!m->features || !m->features[0])
		append(lines[1], TOP_HEADER_SIZE, " none");

	/* In ReadAccess=owner mode a user sees only some of them. */
	if (m->tracked_processes > processes->n)
		snprintf(lines[2], TOP_HEADER_SIZE, "%zu of %" PRIu32 " tracked", processes->n, m->tracked_processes);
	else
		snprintf(lines[2], TOP_HEADER_SIZE, "%zu tracked", processes->n);
	total_rate(processes, RATE_LAST, &sum, &se);
	append_rate(lines[2], TOP_HEADER_SIZE, "dirty", sum, se);
	total_rate(processes, RATE_AVG10, &sum, &se);
	append_rate(lines[2], TOP_HEADER_SIZE, "avg10", sum, se);
	total_rate(processes, RATE_AVG60, &sum, &se);
	append_rate(lines[2], TOP_HEADER_SIZE, "avg60", sum, se);

	for (size_t i = 0; i < processes->n; i++) {
		if (!isnan(processes->items[i]->write_faults_per_sec)) {
			fault_sum += processes->items[i]->write_faults_per_sec;
			any_faults = true;
		}
		resident_sum += (double) processes->items[i]->resident_bytes;
	}
	format_count(faults, any_faults ? fault_sum : NAN);
	snprintf(lines[3], TOP_HEADER_SIZE, "faults %s%s  resident %s  pass took %s", faults, any_faults ? "/s" : "",
		 format_bytes(resident, resident_sum), format_usec(took, m->last_sample_duration_usec));
	if (!isnan(daemon_cpu_percent))
		append(lines[3], TOP_HEADER_SIZE, "  dirtyrated CPU %.1f%%", daemon_cpu_percent);
	if (m->read_access && !streq(m->read_access, "all"))
		append(lines[3], TOP_HEADER_SIZE, "  read access %s", m->read_access);
}
