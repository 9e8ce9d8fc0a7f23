/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A snapshot as a Prometheus exposition: OpenMetrics 1.0 text or the
 * classic text format 0.0.4. The metric names, types and labels are listed
 * in exporter/README.md; this is the only place that spells them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"
#include "strbuf.h"

enum exposition_format {
	FORMAT_TEXT,		/* text/plain; version=0.0.4 */
	FORMAT_OPENMETRICS,	/* application/openmetrics-text; version=1.0.0 */
	_FORMAT_MAX,
};

extern const char *const exposition_content_type[_FORMAT_MAX];
extern const char *const exposition_format_name[_FORMAT_MAX];	/* for logs: "text", "OpenMetrics" */

/* The exporter's own figures, exported with every scrape. */
struct exporter_stats {
	double last_scrape_duration_sec;	/* the previous scrape's D-Bus + render time; NaN before one */
	uint64_t scrape_errors_total;		/* scrapes answered 503 */
	bool cache_active;			/* this scrape's processes came from the signal-fed cache */
};

struct render_input {
	const struct snapshot *snapshot;
	const struct others_aggregate *others;	/* NULL: --max-processes not given, no aggregate series */
	const struct exporter_stats *self;
};

/* The exposition in a buffer of ours (*ret, to free; *ret_size bytes). -ENOMEM or 0. */
int render_exposition(const struct render_input *in, enum exposition_format format, char **ret, size_t *ret_size);

/*
 * A label value as both formats want it: backslash, double quote and
 * newline escaped (\\, \", \n), and every byte that does not start a valid
 * UTF-8 sequence written as U+FFFD, since both parsers require UTF-8 (a
 * comm may hold any bytes). Exposed for the tests.
 */
void render_label_value(struct strbuf *b, const char *s);

/* A sample value: NaN, +Inf, -Inf, or the shortest of %.15g and %.17g that
 * reads back as v (size >= 32). Exposed for the tests. */
void render_double(char *buf, size_t size, double v);
