/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The renderer, the negotiation and the --max-processes selection, on
 * snapshots made here (no bus): label escaping, comms that are not UTF-8,
 * both formats' headers and suffixes, which series each process gets.
 *
 *   test-render                 runs the tests
 *   test-render --print FORMAT  prints the fixture's exposition (text or
 *                               openmetrics) for test-parsers.py, which
 *                               feeds it to promtool and to the Python
 *                               OpenMetrics parser
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "negotiate.h"
#include "render.h"
#include "snapshot.h"
#include "tests.h"
#include "utf8.h"
#include "util.h"

/* Every byte a label value can trip on: space, quote, backslash, newline,
 * UTF-8 (é), a byte that is not UTF-8, a tab. */
#define NASTY_COMM "a b\"c\\d\n\xc3\xa9\xff\tz"
#define NASTY_ESCAPED "a b\\\"c\\\\d\\n\xc3\xa9\xef\xbf\xbd\tz"

static void set_process(struct process_sample *p, uint32_t pid, const char *comm, const char *backend, double avg60) {
	p->pid = pid;
	p->uid = 1000;
	p->comm = strdup(comm);
	p->unit = strdup("db.service");
	p->backend = strdup(backend);
	ASSERT_TRUE(p->comm && p->unit && p->backend);
	p->start_timestamp_usec = UINT64_C(1700000000250000);
	p->start_boottime_usec = UINT64_C(123450000); /* 123.45 s after boot */
	for (size_t w = 0; w < _WINDOW_MAX; w++)
		p->rate[w] = avg60;
	p->dirtied_bytes_total = UINT64_C(18446744073709551615); /* exact, not a rounded double */
	p->write_faults_total = 42;
	p->foreign_clears = 1;
	p->last_sample_disturbed = true;
	p->resident_bytes = 4096;
	p->scanned_bytes = 8192;
}

static struct snapshot *fixture(void) {
	struct snapshot *s = snapshot_new();
	struct process_sample *p;

	ASSERT_TRUE(s);
	s->daemon = (struct daemon_sample) {
		.version = strdup("0.2.0"),
		.backend = strdup("page-sampling"),
		.read_access = strdup("all"),
		.features = strdup("page-sampling,bpf-faults"),
		.tracked_processes = 2,
		.sample_interval_usec = 1000000,
		.last_sample_timestamp_usec = UINT64_C(1700000001500000),
		.last_sample_duration_usec = 2500,
		.cpu_usec = 1234567,
		.sampled_pages_per_sec = 1.0 / 3,
	};
	p = snapshot_add_process(s);
	set_process(p, 100, NASTY_COMM, "page-sampling", 1048576);
	for (size_t w = 0; w < _WINDOW_MAX; w++)
		p->rate_stderr[w] = 512.5;
	p->rate[WINDOW_SAMPLE] = NAN; /* a disturbed interval */
	p = snapshot_add_process(s);
	set_process(p, 200, "worker", "faults-only", 2048);
	return s;
}

static char *render(const struct snapshot *s, const struct others_aggregate *others, enum exposition_format f) {
	const struct exporter_stats self = { .last_scrape_duration_sec = 0.0125, .scrape_errors_total = 3,
					     .cache_active = true };
	const struct render_input in = { .snapshot = s, .others = others, .self = &self };
	char *text;
	size_t size;

	ASSERT_EQ(render_exposition(&in, f, &text, &size), 0);
	ASSERT_EQ(strlen(text), size);
	return text;
}

static unsigned count(const char *text, const char *needle) {
	unsigned n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Sample lines (not comments) that contain needle. */
static unsigned count_samples(const char *text, const char *needle) {
	unsigned n = 0;

	for (const char *line = text; *line;) {
		const char *end = strchrnul(line, '\n');

		if (*line != '#' && memmem(line, (size_t) (end - line), needle, strlen(needle)))
			n++;
		line = *end ? end + 1 : end;
	}
	return n;
}

#define ASSERT_HAS(text, needle)                                                        \
	do {                                                                            \
		if (!strstr((text), (needle)))                                          \
			FAIL("missing from the exposition: %s\n---\n%s", (needle), (text)); \
	} while (0)
#define ASSERT_LACKS(text, needle)                                                      \
	do {                                                                            \
		if (strstr((text), (needle)))                                           \
			FAIL("must not be in the exposition: %s", (needle));            \
	} while (0)

TEST(test_utf8) {
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "" },
		{ "plain", "plain" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "\xe2\x82\xac\xf0\x9f\x98\x80", "\xe2\x82\xac\xf0\x9f\x98\x80" },	/* 3- and 4-byte */
		{ "a\xff" "b", "a\xef\xbf\xbd" "b" },
		{ "cut\xc3", "cut\xef\xbf\xbd" },					/* truncated at the end */
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },				/* overlong '/' */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },		/* a surrogate */
		{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* > U+10FFFF */
		{ "x\xef\xbf\xbey", "x\xef\xbf\xbdy" },					/* U+FFFE, a noncharacter */
		{ "\xef\xb7\x90", "\xef\xbf\xbd" },					/* U+FDD0 */
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *out = utf8_escape_invalid(cases[i].in);

		ASSERT_STREQ(out, cases[i].out);
		ASSERT_EQ(utf8_is_valid(cases[i].in), streq(cases[i].in, cases[i].out));
		ASSERT_TRUE(utf8_is_valid(out));
	}
}

TEST(test_strbuf) {
	struct strbuf b = {};
	_cleanup_free_ char *text = NULL, *want = malloc(100000);
	size_t len, n = 0;

	ASSERT_TRUE(want);
	/* Lines of every length across the buffer's growth: printf's second try included. */
	for (int i = 0; i < 2000; i++) {
		int k = i % 37;

		strbuf_printf(&b, "%d:%.*s\n", i, k, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");
		n += (size_t) sprintf(want + n, "%d:%.*s\n", i, k, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");
		strbuf_putc(&b, '|');
		want[n++] = '|';
	}
	want[n] = 0;
	text = strbuf_steal(&b, &len);
	ASSERT_EQ(len, n);
	ASSERT_STREQ(text, want);
	ASSERT_TRUE(!b.data && b.len == 0);
}

TEST(test_label_value) {
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "" },
		{ "sleep", "sleep" },
		{ "back\\slash", "back\\\\slash" },
		{ "say \"hi\"", "say \\\"hi\\\"" },
		{ "two\nlines", "two\\nlines" },
		{ NASTY_COMM, NASTY_ESCAPED },
		{ "\xff\xfe", "\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\\\xff", "\\\\\xef\xbf\xbd" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct strbuf b = {};
		_cleanup_free_ char *buf = NULL;
		size_t size;

		render_label_value(&b, cases[i].in);
		buf = strbuf_steal(&b, &size);
		ASSERT_STREQ(buf, cases[i].out);
		ASSERT_EQ(size, strlen(cases[i].out));
	}
}

TEST(test_negotiation) {
	static const struct {
		const char *accept;
		enum exposition_format format;
	} cases[] = {
		{ NULL, FORMAT_TEXT },
		{ "", FORMAT_TEXT },
		{ "*/*", FORMAT_TEXT },
		{ "garbage;;;,,,", FORMAT_TEXT },
		/* What Prometheus 2.42 sends. */
		{ "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
		  "text/plain;version=0.0.4;q=0.5,*/*;q=0.1", FORMAT_OPENMETRICS },
		{ "application/openmetrics-text", FORMAT_OPENMETRICS },
		{ "application/openmetrics-text; version=0.0.1", FORMAT_OPENMETRICS },
		{ "Application/OpenMetrics-Text; Version=\"1.0.0\"; charset=utf-8", FORMAT_OPENMETRICS },
		{ "application/openmetrics-text;version=2.0.0", FORMAT_TEXT },		/* a version we do not write */
		{ "application/openmetrics-text;q=0", FORMAT_TEXT },			/* not acceptable */
		{ "application/openmetrics-text;q=0.000", FORMAT_TEXT },
		{ "application/openmetrics-text;q=banana", FORMAT_TEXT },		/* malformed q: not acceptable */
		{ "application/openmetrics-text;q=1.5", FORMAT_TEXT },
		{ "application/openmetrics-text;q=0.0001", FORMAT_TEXT },		/* four decimals */
		{ "text/plain;q=0.5, application/openmetrics-text;q=0.4", FORMAT_TEXT },
		{ "text/plain;q=0.4, application/openmetrics-text;q=0.5", FORMAT_OPENMETRICS },
		{ "text/plain, application/openmetrics-text", FORMAT_TEXT },		/* equal q: the first */
		{ "application/openmetrics-text, text/plain", FORMAT_OPENMETRICS },
		{ "text/plain;version=0.0.4;q=0.3,application/openmetrics-text;q=0.2,*/*;q=1", FORMAT_TEXT },
		{ "  application/openmetrics-text  ;  q=0.9  ,text/html", FORMAT_OPENMETRICS },
		{ "application/json, application/openmetrics-text;version=1.0.0;q=1.0", FORMAT_OPENMETRICS },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		if (negotiate_format(cases[i].accept) != cases[i].format)
			FAIL("Accept: %s gave %s", cases[i].accept ?: "(none)",
			     exposition_content_type[negotiate_format(cases[i].accept)]);
}

TEST(test_text_format) {
	_cleanup_(snapshot_freep) struct snapshot *s = fixture();
	_cleanup_free_ char *text = render(s, NULL, FORMAT_TEXT);
	const char *labels = "{pid=\"100\",comm=\"" NASTY_ESCAPED
			     "\",unit=\"db.service\",uid=\"1000\",backend=\"page-sampling\",start=\"123.45\"";

	ASSERT_HAS(text, "# HELP dirtyrate_process_dirtied_bytes_total ");
	ASSERT_HAS(text, "# TYPE dirtyrate_process_dirtied_bytes_total counter\n");
	ASSERT_HAS(text, "# TYPE dirtyrate_daemon_info gauge\n");
	ASSERT_HAS(text, "dirtyrate_daemon_info{version=\"0.2.0\",backend=\"page-sampling\","
			 "features=\"page-sampling,bpf-faults\"} 1\n");
	ASSERT_HAS(text, "# TYPE dirtyrate_daemon_cpu_seconds_total counter\ndirtyrate_daemon_cpu_seconds_total 1.234567\n");
	ASSERT_HAS(text, "dirtyrate_sampled_pages_per_second 0.33333333333333331\n"); /* reads back exactly */
	ASSERT_HAS(text, "dirtyrate_sample_interval_seconds 1\n");
	ASSERT_HAS(text, "dirtyrate_last_sample_timestamp_seconds 1700000001.5\n");
	ASSERT_HAS(text, "dirtyrate_exporter_scrape_duration_seconds 0.0125\n");
	ASSERT_HAS(text, "dirtyrate_exporter_scrape_errors_total 3\n");
	ASSERT_HAS(text, "# TYPE dirtyrate_exporter_cache_active gauge\ndirtyrate_exporter_cache_active 1\n");

	char line[512];
	snprintf(line, sizeof(line), "dirtyrate_process_dirty_rate_bytes_per_second%s,window=\"sample\"} NaN\n", labels);
	ASSERT_HAS(text, line);
	snprintf(line, sizeof(line), "dirtyrate_process_dirty_rate_bytes_per_second%s,window=\"300s\"} 1048576\n", labels);
	ASSERT_HAS(text, line);
	snprintf(line, sizeof(line), "dirtyrate_process_dirtied_bytes_total%s} 18446744073709551615\n", labels);
	ASSERT_HAS(text, line);
	snprintf(line, sizeof(line), "dirtyrate_process_start_time_seconds%s} 1700000000.25\n", labels);
	ASSERT_HAS(text, line);
	snprintf(line, sizeof(line), "dirtyrate_process_last_sample_disturbed%s} 1\n", labels);
	ASSERT_HAS(text, line);

	/* Per process: 4 rates, 7 single series; 4 standard errors for page-sampling only. */
	ASSERT_EQ(count_samples(text, "pid=\"100\""), 15);
	ASSERT_EQ(count_samples(text, "pid=\"200\""), 11);
	ASSERT_EQ(count_samples(text, "standard_error_bytes_per_second{pid=\"200\""), 0);

	/* Text 0.0.4: no UNIT lines, no EOF, no aggregate without --max-processes. */
	ASSERT_LACKS(text, "# UNIT");
	ASSERT_LACKS(text, "# EOF");
	ASSERT_LACKS(text, "dirtyrate_other_processes");
	ASSERT_EQ(count(text, "# TYPE dirtyrate_process_dirty_rate_bytes_per_second gauge\n"), 1);
}

TEST(test_openmetrics_format) {
	_cleanup_(snapshot_freep) struct snapshot *s = fixture();
	_cleanup_free_ char *text = render(s, NULL, FORMAT_OPENMETRICS);
	size_t n = strlen(text);

	ASSERT_HAS(text, "# TYPE dirtyrate_process_dirtied_bytes counter\n"
			 "# UNIT dirtyrate_process_dirtied_bytes bytes\n"
			 "# HELP dirtyrate_process_dirtied_bytes ");
	ASSERT_HAS(text, "\ndirtyrate_process_dirtied_bytes_total{pid=\"100\",");
	ASSERT_HAS(text, "# TYPE dirtyrate_daemon info\n");
	ASSERT_HAS(text, "\ndirtyrate_daemon_info{version=\"0.2.0\"");
	ASSERT_HAS(text, "# TYPE dirtyrate_process_write_faults counter\n# HELP");	/* no unit */
	ASSERT_HAS(text, "# UNIT dirtyrate_process_dirty_rate_bytes_per_second bytes_per_second\n");
	ASSERT_HAS(text, "# UNIT dirtyrate_daemon_cpu_seconds seconds\n");
	ASSERT_HAS(text, "\ndirtyrate_exporter_scrape_errors_total 3\n");
	ASSERT_HAS(text, "# TYPE dirtyrate_exporter_cache_active gauge\n# HELP dirtyrate_exporter_cache_active ");
	ASSERT_HAS(text, "\ndirtyrate_exporter_cache_active 1\n# EOF\n");
	ASSERT_EQ(count(text, "# EOF"), 1);
	ASSERT_TRUE(n >= 6 && streq(text + n - 6, "# EOF\n"));
	ASSERT_EQ(count_samples(text, "pid=\"100\""), 15);
	ASSERT_EQ(count_samples(text, "pid=\"200\""), 11);
}

TEST(test_empty) {
	_cleanup_(snapshot_freep) struct snapshot *s = fixture();
	const struct exporter_stats self = { .last_scrape_duration_sec = NAN };
	const struct render_input in = { .snapshot = s, .self = &self };
	_cleanup_free_ char *text = NULL;
	size_t size;

	for (size_t i = 0; i < s->n_processes; i++) {
		free(s->processes[i].comm);
		free(s->processes[i].unit);
		free(s->processes[i].backend);
	}
	s->n_processes = 0;
	s->daemon.last_sample_timestamp_usec = 0;
	ASSERT_EQ(render_exposition(&in, FORMAT_OPENMETRICS, &text, &size), 0);
	/* A family without samples gets no header either; no pass yet is no timestamp, not 1970. */
	ASSERT_LACKS(text, "dirtyrate_process_");
	ASSERT_LACKS(text, "dirtyrate_last_sample_timestamp_seconds");
	ASSERT_LACKS(text, "dirtyrate_exporter_scrape_duration_seconds");
	ASSERT_HAS(text, "dirtyrate_tracked_processes 2\n");
	ASSERT_HAS(text, "\ndirtyrate_exporter_cache_active 0\n");
	ASSERT_HAS(text, "# EOF\n");
}

static struct snapshot *five(void) {
	static const double avg60[] = { 5, NAN, 3, 9, 1 };
	struct snapshot *s = fixture();

	for (size_t i = 0; i < s->n_processes; i++) {
		free(s->processes[i].comm);
		free(s->processes[i].unit);
		free(s->processes[i].backend);
	}
	s->n_processes = 0;
	for (size_t i = 0; i < ELEMENTSOF(avg60); i++) {
		struct process_sample *p = snapshot_add_process(s);

		ASSERT_TRUE(p);
		set_process(p, (uint32_t) (5 - i), "p", "faults-only", avg60[i]); /* PIDs 5, 4, 3, 2, 1 */
		p->rate[WINDOW_SAMPLE] = i == 4 ? NAN : 10;
	}
	return s;
}

TEST(test_max_processes) {
	struct others_aggregate others;

	{
		_cleanup_(snapshot_freep) struct snapshot *s = five();
		_cleanup_free_ char *text = NULL;

		/* Top two by the 60 s average: 9 (PID 2) and 5 (PID 5), then sorted by PID. */
		snapshot_select_top(s, 2, &others);
		ASSERT_EQ(s->n_processes, 2);
		ASSERT_EQ(s->processes[0].pid, 2);
		ASSERT_EQ(s->processes[1].pid, 5);
		ASSERT_EQ(others.count, 3);
		ASSERT_NEAR(others.rate[WINDOW_60S], 3 + 1, 0);	/* the unmeasured one adds nothing */
		ASSERT_NEAR(others.rate[WINDOW_SAMPLE], 10 + 10, 0);
		text = render(s, &others, FORMAT_TEXT);
		ASSERT_HAS(text, "# TYPE dirtyrate_other_processes gauge\ndirtyrate_other_processes 3\n");
		ASSERT_HAS(text, "dirtyrate_other_processes_dirty_rate_bytes_per_second{window=\"60s\"} 4\n");
		ASSERT_HAS(text, "dirtyrate_other_processes_dirty_rate_bytes_per_second{window=\"sample\"} 20\n");
		ASSERT_EQ(count_samples(text, "dirtyrate_process_resident_bytes{"), 2);
		/* Aggregates are families of their own: summing the per-process ones stays right. */
		ASSERT_EQ(count_samples(text, "dirtyrate_process_dirty_rate_bytes_per_second{window"), 0);
	}
	{
		_cleanup_(snapshot_freep) struct snapshot *s = five();
		_cleanup_free_ char *text = NULL;

		snapshot_select_top(s, 0, &others);
		ASSERT_EQ(s->n_processes, 0);
		ASSERT_EQ(others.count, 5);
		ASSERT_NEAR(others.rate[WINDOW_60S], 18, 0);
		text = render(s, &others, FORMAT_OPENMETRICS);
		ASSERT_LACKS(text, "dirtyrate_process_");
		ASSERT_HAS(text, "dirtyrate_other_processes 5\n");
	}
	{
		_cleanup_(snapshot_freep) struct snapshot *s = five();

		snapshot_select_top(s, 5, &others);
		ASSERT_EQ(s->n_processes, 5);
		ASSERT_EQ(others.count, 0);
		ASSERT_EQ(s->processes[0].pid, 1);
		ASSERT_EQ(s->processes[4].pid, 5);
	}
	{
		_cleanup_(snapshot_freep) struct snapshot *s = five();

		/* Equal averages: the lower PID stays. */
		for (size_t i = 0; i < s->n_processes; i++)
			s->processes[i].rate[WINDOW_60S] = 7;
		snapshot_select_top(s, 1, &others);
		ASSERT_EQ(s->processes[0].pid, 1);
	}
}

/* What render_double() writes, the slow way: %.15g, or %.17g where that does not read back. */
static void reference_double(char *buf, size_t size, double v) {
	if (isnan(v))
		snprintf(buf, size, "NaN");
	else if (isinf(v))
		snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
	else {
		snprintf(buf, size, "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, size, "%.17g", v);
	}
}

static void check_double(double v) {
	char got[32], want[32];

	render_double(got, sizeof(got), v);
	reference_double(want, sizeof(want), v);
	if (!streq(got, want))
		FAIL("render_double(%a) = \"%s\", expected \"%s\"", v, got, want);
}

TEST(test_numbers) {
	static const double edges[] = {
		0.0, -0.0, 1, -1, 9, 10, 99, 100, 4096, 1048576, 0.5, -0.5, 1.0 / 3, 2.0 / 3, 0.1, 1e-300, 5e-324,
		999999999999999.0, 1e15, -999999999999999.0, -1e15, 1e15 + 1, 9007199254740992.0, 1e16, 1e300,
		1.7976931348623157e308, 18446744073709551615.0, 1700000000.25, 1700000001.5, 123.45, NAN, INFINITY,
		-INFINITY,
	};
	uint64_t state = 1;

	for (size_t i = 0; i < ELEMENTSOF(edges); i++)
		check_double(edges[i]);
	/* Whole numbers of every size, and the same with a fraction; then any bit pattern. */
	for (int i = 0; i < 200000; i++) {
		uint64_t bits;
		double v;

		state += UINT64_C(0x9e3779b97f4a7c15);
		bits = state;
		bits = (bits ^ (bits >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
		bits = (bits ^ (bits >> 27)) * UINT64_C(0x94d049bb133111eb);
		bits ^= bits >> 31;
		v = (double) (bits >> (bits % 64));
		check_double(v);
		check_double(-v);
		check_double(v / 1024);
		memcpy(&v, &bits, sizeof(v));
		check_double(v);
	}
}

int main(int argc, char **argv) {
	if (argc == 3 && streq(argv[1], "--print")) {
		_cleanup_(snapshot_freep) struct snapshot *s = fixture();
		struct others_aggregate others;
		_cleanup_free_ char *text = NULL;

		snapshot_select_top(s, 1, &others);
		text = render(s, &others, streq(argv[2], "openmetrics") ? FORMAT_OPENMETRICS : FORMAT_TEXT);
		fputs(text, stdout);
		return 0;
	}
	RUN(test_utf8);
	RUN(test_strbuf);
	RUN(test_label_value);
	RUN(test_numbers);
	RUN(test_negotiation);
	RUN(test_text_format);
	RUN(test_openmetrics_format);
	RUN(test_empty);
	RUN(test_max_processes);
	return 0;
}
