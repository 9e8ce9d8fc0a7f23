/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "strbuf.h"
#include "utf8.h"
#include "util.h"

const char *const exposition_content_type[_FORMAT_MAX] = {
	[FORMAT_TEXT] = "text/plain; version=0.0.4; charset=utf-8",
	[FORMAT_OPENMETRICS] = "application/openmetrics-text; version=1.0.0; charset=utf-8",
};

const char *const exposition_format_name[_FORMAT_MAX] = {
	[FORMAT_TEXT] = "text",
	[FORMAT_OPENMETRICS] = "OpenMetrics",
};

enum metric_type {
	METRIC_GAUGE,
	METRIC_COUNTER,
	METRIC_INFO,	/* OpenMetrics info; a gauge of 1 in text 0.0.4 */
};

struct family {
	const char *name;	/* the OpenMetrics family name: no _total, no _info */
	enum metric_type type;
	const char *unit;	/* OpenMetrics UNIT (the name's suffix), or NULL */
	const char *help;
};

/* Writes one family: its header before its first sample, none if it has no sample. */
struct writer {
	struct strbuf *b;
	enum exposition_format format;
	const struct family *family;
	bool header_done;
};

static const char *type_name(enum metric_type t, enum exposition_format format) {
	switch (t) {
	case METRIC_COUNTER:
		return "counter";
	case METRIC_INFO:
		return format == FORMAT_OPENMETRICS ? "info" : "gauge";
	default:
		return "gauge";
	}
}

static const char *sample_suffix(enum metric_type t) {
	return t == METRIC_COUNTER ? "_total" : t == METRIC_INFO ? "_info" : "";
}

/* HELP text: text 0.0.4 escapes backslash and newline, OpenMetrics also the double quote. */
static void write_help(struct strbuf *b, const char *s, enum exposition_format format) {
	for (; *s; s++) {
		if (*s == '\\')
			strbuf_puts(b, "\\\\");
		else if (*s == '\n')
			strbuf_puts(b, "\\n");
		else if (*s == '"' && format == FORMAT_OPENMETRICS)
			strbuf_puts(b, "\\\"");
		else
			strbuf_putc(b, *s);
	}
}

static void write_header(struct writer *w) {
	const struct family *fam = w->family;
	const char *suffix = w->format == FORMAT_OPENMETRICS ? "" : sample_suffix(fam->type);

	if (w->format == FORMAT_OPENMETRICS) {
		strbuf_printf(w->b, "# TYPE %s %s\n", fam->name, type_name(fam->type, w->format));
		if (fam->unit)
			strbuf_printf(w->b, "# UNIT %s %s\n", fam->name, fam->unit);
		strbuf_printf(w->b, "# HELP %s ", fam->name);
	} else
		strbuf_printf(w->b, "# HELP %s%s ", fam->name, suffix);
	write_help(w->b, fam->help, w->format);
	strbuf_putc(w->b, '\n');
	if (w->format == FORMAT_TEXT)
		strbuf_printf(w->b, "# TYPE %s%s %s\n", fam->name, suffix, type_name(fam->type, w->format));
	w->header_done = true;
}

static void begin(struct writer *w, const struct family *fam) {
	w->family = fam;
	w->header_done = false;
}

void render_label_value(struct strbuf *b, const char *s) {
	while (*s) {
		size_t n = utf8_valid_length(s);

		if (n == 0) {
			strbuf_puts(b, UTF8_REPLACEMENT_CHARACTER);
			s++;
		} else if (*s == '\\') {
			strbuf_puts(b, "\\\\");
			s++;
		} else if (*s == '"') {
			strbuf_puts(b, "\\\"");
			s++;
		} else if (*s == '\n') {
			strbuf_puts(b, "\\n");
			s++;
		} else {
			strbuf_append(b, s, n);
			s += n;
		}
	}
}

/* Decimal digits of v, written backwards from end; returns where they start. */
static char *u64_digits(char *end, uint64_t v) {
	do {
		*--end = (char) ('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

static void format_u64(char *buf, size_t size, uint64_t v) {
	char digits[24], *p = u64_digits(digits + sizeof(digits), v);
	size_t n = (size_t) (digits + sizeof(digits) - p);

	if (n >= size)
		n = size - 1;
	memcpy(buf, p, n);
	buf[n] = 0;
}

/*
 * Go's and Python's float syntax: NaN, +Inf, -Inf, and the shortest %g
 * that reads back the same. Whole numbers below 10^15 (counters, sizes, a
 * rate of 0), most of an exposition, are written as integers, which is
 * what %.15g writes for them too, without its cost.
 */
void render_double(char *buf, size_t size, double v) {
	if (isnan(v))
		snprintf(buf, size, "NaN");
	else if (isinf(v))
		snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
	else if (fabs(v) < 1e15 && v == trunc(v) && !(v == 0 && signbit(v))) {
		if (v < 0) {
			buf[0] = '-';
			format_u64(buf + 1, size - 1, (uint64_t) -v);
		} else
			format_u64(buf, size, (uint64_t) v);
	} else {
		/* 15 digits is what most values need; 17 always reads back exactly. */
		snprintf(buf, size, "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, size, "%.17g", v);
	}
}

/* One sample line: labels is a prefix of ready-escaped pairs (or NULL), then
 * an optional extra label; value already formatted. */
static void sample(struct writer *w, const char *labels, const char *extra_name, const char *extra_value,
		   const char *value) {
	bool any = !isempty(labels) || extra_name;

	if (!w->header_done)
		write_header(w);
	strbuf_puts(w->b, w->family->name);
	strbuf_puts(w->b, sample_suffix(w->family->type));
	if (any) {
		strbuf_putc(w->b, '{');
		if (!isempty(labels))
			strbuf_puts(w->b, labels);
		if (extra_name) {
			if (!isempty(labels))
				strbuf_putc(w->b, ',');
			strbuf_puts(w->b, extra_name);
			strbuf_puts(w->b, "=\"");
			render_label_value(w->b, extra_value);
			strbuf_putc(w->b, '"');
		}
		strbuf_putc(w->b, '}');
	}
	strbuf_putc(w->b, ' ');
	strbuf_puts(w->b, value);
	strbuf_putc(w->b, '\n');
}

static void sample_double(struct writer *w, const char *labels, double v) {
	char buf[32];

	render_double(buf, sizeof(buf), v);
	sample(w, labels, NULL, NULL, buf);
}

static void sample_u64(struct writer *w, const char *labels, uint64_t v) {
	char buf[32];

	format_u64(buf, sizeof(buf), v);
	sample(w, labels, NULL, NULL, buf);
}

/* ---- per process ---- */

enum process_field {
	FIELD_RATE,
	FIELD_RATE_STDERR,
	FIELD_DIRTIED_BYTES,
	FIELD_WRITE_FAULTS,
	FIELD_FOREIGN_CLEARS,
	FIELD_DISTURBED,
	FIELD_RESIDENT_BYTES,
	FIELD_SCANNED_BYTES,
	FIELD_START_TIME,
};

static const struct process_family {
	struct family family;
	enum process_field field;
	bool windowed;		/* one sample per rate window, label window= */
} process_families[] = {
	{ { "dirtyrate_process_dirty_rate_bytes_per_second", METRIC_GAUGE, "bytes_per_second",
	    "Distinct bytes the process dirtied per second: over the last sample interval (window=sample) "
	    "and as 10, 60 and 300 s moving averages. NaN where not measured (before the second pass, a "
	    "disturbed interval)." }, FIELD_RATE, true },
	{ { "dirtyrate_process_dirty_rate_standard_error_bytes_per_second", METRIC_GAUGE, "bytes_per_second",
	    "Standard error of the dirty rate of the same window, for backends that estimate it (page-sampling)." },
	  FIELD_RATE_STDERR, true },
	{ { "dirtyrate_process_dirtied_bytes", METRIC_COUNTER, "bytes",
	    "Distinct bytes dirtied, summed over the sample intervals since tracking began." },
	  FIELD_DIRTIED_BYTES, false },
	{ { "dirtyrate_process_write_faults", METRIC_COUNTER, NULL,
	    "Write faults of the process counted by the BPF fault counters since tracking began." },
	  FIELD_WRITE_FAULTS, false },
	{ { "dirtyrate_process_foreign_clears", METRIC_COUNTER, NULL,
	    "Soft-dirty clears of the process made by anyone but dirtyrated." }, FIELD_FOREIGN_CLEARS, false },
	{ { "dirtyrate_process_last_sample_disturbed", METRIC_GAUGE, NULL,
	    "1 if someone else cleared the soft-dirty bits during the last interval (its rate is NaN), else 0." },
	  FIELD_DISTURBED, false },
	{ { "dirtyrate_process_resident_bytes", METRIC_GAUGE, "bytes", "Resident memory of the process." },
	  FIELD_RESIDENT_BYTES, false },
	{ { "dirtyrate_process_scanned_bytes", METRIC_GAUGE, "bytes",
	    "Bytes of writable mappings the last pass scanned." }, FIELD_SCANNED_BYTES, false },
	{ { "dirtyrate_process_start_time_seconds", METRIC_GAUGE, "seconds",
	    "Start time of the process since the Unix epoch." }, FIELD_START_TIME, false },
};

static void process_value(const struct process_sample *p, enum process_field field, size_t window, char *buf,
			  size_t size) {
	switch (field) {
	case FIELD_RATE:
		return render_double(buf, size, p->rate[window]);
	case FIELD_RATE_STDERR:
		return render_double(buf, size, p->rate_stderr[window]);
	case FIELD_DIRTIED_BYTES:
		return format_u64(buf, size, p->dirtied_bytes_total);
	case FIELD_WRITE_FAULTS:
		return format_u64(buf, size, p->write_faults_total);
	case FIELD_FOREIGN_CLEARS:
		return format_u64(buf, size, p->foreign_clears);
	case FIELD_DISTURBED:
		return format_u64(buf, size, p->last_sample_disturbed);
	case FIELD_RESIDENT_BYTES:
		return format_u64(buf, size, p->resident_bytes);
	case FIELD_SCANNED_BYTES:
		return format_u64(buf, size, p->scanned_bytes);
	case FIELD_START_TIME:
		return render_double(buf, size, (double) p->start_timestamp_usec / USEC_PER_SEC);
	}
}

/*
 * The labels that name a process. start= is its start in seconds since
 * boot (StartTimestampBoottime, kernel clock ticks: two decimals), which
 * with pid= is the process's identity as dirtyrated defines it: a reused
 * PID is a new series. Boot-relative because that is exact and the same
 * from every reading; a Unix time would be derived from two clocks and
 * could move by a hundredth between daemon restarts.
 */
static char *process_labels(const struct process_sample *p) {
	uint64_t centisec = p->start_boottime_usec / (USEC_PER_SEC / 100);
	struct strbuf b = {};
	size_t len;

	strbuf_printf(&b, "pid=\"%" PRIu32 "\",comm=\"", p->pid);
	render_label_value(&b, p->comm ?: "");
	strbuf_puts(&b, "\",unit=\"");
	render_label_value(&b, p->unit ?: "");
	strbuf_printf(&b, "\",uid=\"%" PRIu32 "\",backend=\"", p->uid);
	render_label_value(&b, p->backend ?: "");
	strbuf_printf(&b, "\",start=\"%" PRIu64 ".%02" PRIu64 "\"", centisec / 100, centisec % 100);
	return strbuf_steal(&b, &len);
}

static int render_processes(struct writer *w, const struct snapshot *s) {
	char **labels;
	int r = 0;

	labels = calloc(s->n_processes ?: 1, sizeof(char *));
	if (!labels)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_processes; i++)
		if (!(labels[i] = process_labels(&s->processes[i]))) {
			r = -ENOMEM;
			goto out;
		}

	for (size_t k = 0; k < ELEMENTSOF(process_families); k++) {
		const struct process_family *pf = &process_families[k];

		begin(w, &pf->family);
		for (size_t i = 0; i < s->n_processes; i++) {
			const struct process_sample *p = &s->processes[i];
			char value[32];

			if (pf->field == FIELD_RATE_STDERR && !backend_has_standard_error(p->backend))
				continue;
			if (!pf->windowed) {
				process_value(p, pf->field, 0, value, sizeof(value));
				sample(w, labels[i], NULL, NULL, value);
				continue;
			}
			for (size_t win = 0; win < _WINDOW_MAX; win++) {
				process_value(p, pf->field, win, value, sizeof(value));
				sample(w, labels[i], "window", rate_window_label[win], value);
			}
		}
	}
out:
	for (size_t i = 0; i < s->n_processes; i++)
		free(labels[i]);
	free(labels);
	return r;
}

/* ---- the rest: what --max-processes left out, the daemon, the exporter ---- */

static const struct family
	others_count = { "dirtyrate_other_processes", METRIC_GAUGE, NULL,
			 "Tracked processes left out of the per-process series by --max-processes." },
	others_rate = { "dirtyrate_other_processes_dirty_rate_bytes_per_second", METRIC_GAUGE, "bytes_per_second",
			"Summed dirty rate of the processes left out by --max-processes, per window." },
	daemon_info = { "dirtyrate_daemon", METRIC_INFO, NULL,
			"dirtyrated's version, default backend and the features this kernel and build offer." },
	tracked = { "dirtyrate_tracked_processes", METRIC_GAUGE, NULL,
		    "Processes dirtyrated tracks (all of them, also those this exporter may not see)." },
	interval = { "dirtyrate_sample_interval_seconds", METRIC_GAUGE, "seconds",
		     "Time between the beginnings of two sample passes." },
	pass_duration = { "dirtyrate_last_sample_duration_seconds", METRIC_GAUGE, "seconds",
			  "Time the last pass over all tracked processes spent sampling." },
	pass_timestamp = { "dirtyrate_last_sample_timestamp_seconds", METRIC_GAUGE, "seconds",
			   "When the last pass over all tracked processes ended, since the Unix epoch." },
	daemon_cpu = { "dirtyrate_daemon_cpu_seconds", METRIC_COUNTER, "seconds",
		       "CPU time dirtyrated has used (user + system)." },
	sampled_pages = { "dirtyrate_sampled_pages_per_second", METRIC_GAUGE, NULL,
			  "Pages of processes' memory page-sampling read per second in the last pass (its budget in use)." },
	scrape_duration = { "dirtyrate_exporter_scrape_duration_seconds", METRIC_GAUGE, "seconds",
			    "D-Bus and render time of the exporter's previous scrape." },
	scrape_errors = { "dirtyrate_exporter_scrape_errors", METRIC_COUNTER, NULL,
			  "Scrapes the exporter answered with 503 (dirtyrated absent, slow or restarting)." },
	cache_active = { "dirtyrate_exporter_cache_active", METRIC_GAUGE, NULL,
			 "1 if this scrape's processes came from the copy kept up to date by dirtyrated's signals "
			 "(--cache), 0 if they were read with GetManagedObjects." };

static double usec_to_sec(uint64_t usec) {
	return (double) usec / USEC_PER_SEC;
}

static int render_daemon(struct writer *w, const struct daemon_sample *d) {
	struct strbuf b = {};
	char *labels;
	size_t len;

	strbuf_puts(&b, "version=\"");
	render_label_value(&b, d->version ?: "");
	strbuf_puts(&b, "\",backend=\"");
	render_label_value(&b, d->backend ?: "");
	strbuf_puts(&b, "\",features=\"");
	render_label_value(&b, d->features ?: "");
	strbuf_putc(&b, '"');
	labels = strbuf_steal(&b, &len);
	if (!labels)
		return -ENOMEM;
	begin(w, &daemon_info);
	sample(w, labels, NULL, NULL, "1");
	free(labels);

	begin(w, &tracked);
	sample_u64(w, NULL, d->tracked_processes);
	begin(w, &interval);
	sample_double(w, NULL, usec_to_sec(d->sample_interval_usec));
	begin(w, &pass_duration);
	sample_double(w, NULL, usec_to_sec(d->last_sample_duration_usec));
	/* 0 means no pass yet: no series rather than 1970. */
	begin(w, &pass_timestamp);
	if (d->last_sample_timestamp_usec > 0)
		sample_double(w, NULL, usec_to_sec(d->last_sample_timestamp_usec));
	begin(w, &daemon_cpu);
	sample_double(w, NULL, usec_to_sec(d->cpu_usec));
	begin(w, &sampled_pages);
	sample_double(w, NULL, d->sampled_pages_per_sec);
	return 0;
}

static void render_others(struct writer *w, const struct others_aggregate *o) {
	begin(w, &others_count);
	sample_u64(w, NULL, o->count);
	begin(w, &others_rate);
	for (size_t win = 0; win < _WINDOW_MAX; win++) {
		char value[32];

		render_double(value, sizeof(value), o->rate[win]);
		sample(w, NULL, "window", rate_window_label[win], value);
	}
}

static void render_self(struct writer *w, const struct exporter_stats *self) {
	begin(w, &scrape_duration);
	if (!isnan(self->last_scrape_duration_sec))
		sample_double(w, NULL, self->last_scrape_duration_sec);
	begin(w, &scrape_errors);
	sample_u64(w, NULL, self->scrape_errors_total);
	begin(w, &cache_active);
	sample_u64(w, NULL, self->cache_active);
}

int render_exposition(const struct render_input *in, enum exposition_format format, char **ret, size_t *ret_size) {
	struct strbuf b = {};
	struct writer w = { .b = &b, .format = format };
	int r;

	r = render_daemon(&w, &in->snapshot->daemon);
	if (r >= 0)
		r = render_processes(&w, in->snapshot);
	if (r >= 0 && in->others)
		render_others(&w, in->others);
	if (r >= 0)
		render_self(&w, in->self);
	if (r >= 0 && format == FORMAT_OPENMETRICS)
		strbuf_puts(&b, "# EOF\n");
	if (r < 0) {
		strbuf_done(&b);
		return r;
	}
	*ret = strbuf_steal(&b, ret_size);
	return *ret ? 0 : -ENOMEM;
}
