/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dirtyratectl's pure parts: how values read (systemd's sizes, ± errors,
 * durations, cutting to terminal columns), which columns fit a width, the
 * sort order, the property tables, and D-Bus values as JSON. Messages are
 * built on an sd-bus connection that never talks (one end of a socketpair).
 */
#include <locale.h>
#include <math.h>
#include <sys/socket.h>

#include "columns.h"
#include "daemon-info.h"
#include "format.h"
#include "json-output.h"
#include "prop-map.h"
#include "tests.h"
#include "util.h"

static char pm[8];	/* "±" or "+-", as this locale gives it */

TEST(test_format_bytes) {
	char buf[FORMAT_MAX];

	ASSERT_STREQ(format_bytes(buf, 0), "0B");
	ASSERT_STREQ(format_bytes(buf, 512), "512B");
	ASSERT_STREQ(format_bytes(buf, 1023), "1023B");
	ASSERT_STREQ(format_bytes(buf, 1024), "1.0K");
	ASSERT_STREQ(format_bytes(buf, 4096), "4.0K");
	ASSERT_STREQ(format_bytes(buf, 10485760), "10.0M");
	ASSERT_STREQ(format_bytes(buf, 1.5 * 1024 * 1024 * 1024), "1.5G");
	ASSERT_STREQ(format_bytes(buf, NAN), "-");
}

TEST(test_format_rate) {
	char buf[FORMAT_MAX], want[FORMAT_MAX];

	/* Exact (0) and none (NaN): no ±. */
	ASSERT_STREQ(format_rate(buf, 10485760, 0, false), "10.0M");
	ASSERT_STREQ(format_rate(buf, 10485760, NAN, false), "10.0M");
	/* The error in the value's unit... */
	snprintf(want, sizeof(want), "9.3M %s0.8M", pm);
	ASSERT_STREQ(format_rate(buf, 9.3 * 1048576, 0.8 * 1048576, false), want);
	/* ...unless that unit shows it as 0.0, or as 1024 or more of it. */
	snprintf(want, sizeof(want), "10.0M %s12.0K", pm);
	ASSERT_STREQ(format_rate(buf, 10485760, 12 * 1024, false), want);
	snprintf(want, sizeof(want), "0B %s37.3K", pm);
	ASSERT_STREQ(format_rate(buf, 0, 38179, false), want);
	/* Not measured: why, when known. */
	ASSERT_STREQ(format_rate(buf, NAN, NAN, true), "disturbed");
	ASSERT_STREQ(format_rate(buf, NAN, NAN, false), "-");
}

TEST(test_format_count_usec) {
	char buf[FORMAT_MAX];

	ASSERT_STREQ(format_count(buf, 0), "0");
	ASSERT_STREQ(format_count(buf, 12345.4), "12345");
	ASSERT_STREQ(format_count(buf, 99999), "99999");
	ASSERT_STREQ(format_count(buf, 123456), "123.5k");
	ASSERT_STREQ(format_count(buf, 1.2e6), "1.2M");
	ASSERT_STREQ(format_count(buf, NAN), "-");

	ASSERT_STREQ(format_usec(buf, 500), "500us");
	ASSERT_STREQ(format_usec(buf, 1500), "1.5ms");
	ASSERT_STREQ(format_usec(buf, 100000), "100ms");
	ASSERT_STREQ(format_usec(buf, 1000000), "1s");
	ASSERT_STREQ(format_usec(buf, 2500000), "2.5s");
	ASSERT_STREQ(format_usec(buf, 60000000), "1min");
	ASSERT_STREQ(format_usec(buf, 90000000), "1min 30s");
	ASSERT_STREQ(format_usec(buf, 3600000000), "60min");
}

TEST(test_text) {
	char buf[64];

	ASSERT_EQ(text_width("dirtyrate"), 9);
	ASSERT_EQ(text_width(""), 0);
	if (streq(pm, "±")) {
		ASSERT_EQ(text_width("±"), 1);
		ASSERT_EQ(text_width("漢字"), 4);	/* two columns each */
		ASSERT_STREQ(text_ellipsize(buf, sizeof(buf), "dirtyrate-workload", 8), "dirtyra…");
		ASSERT_STREQ(text_ellipsize(buf, sizeof(buf), "漢字漢字", 5), "漢字…");
		ASSERT_STREQ(text_ellipsize(buf, sizeof(buf), "漢字漢字", 4), "漢…");
	} else
		ASSERT_STREQ(text_ellipsize(buf, sizeof(buf), "dirtyrate-workload", 8), "dirty...");
	ASSERT_STREQ(text_ellipsize(buf, sizeof(buf), "short", 8), "short");
	ASSERT_STREQ(text_ellipsize(buf, sizeof(buf), "exactly8", 8), "exactly8");
	ASSERT_TRUE(text_width(text_ellipsize(buf, sizeof(buf), "abcdef", 1)) <= 1);
	/* Invalid UTF-8: one column a byte, never a crash. */
	ASSERT_EQ(text_width("a\xff" "b"), 3);
}

/* What a page-sampling table's cells measure: PID 5, COMM 15, the rates
 * with their ± 11 or 12, FAULTS/s 8, RESIDENT 8, BACKEND 13, UNIT 20. */
static const size_t typical[_COLUMN_MAX] = {
	[COLUMN_PID] = 5, [COLUMN_COMM] = 15, [COLUMN_RATE] = 12, [COLUMN_AVG10] = 11, [COLUMN_AVG60] = 11,
	[COLUMN_AVG300] = 11, [COLUMN_FAULTS] = 8, [COLUMN_RESIDENT] = 8, [COLUMN_BACKEND] = 13, [COLUMN_UNIT] = 20,
};

static void assert_shown(const size_t out[_COLUMN_MAX], const char *want) {
	char got[128] = "";

	for (Column c = 0; c < _COLUMN_MAX; c++)
		if (out[c] > 0) {
			if (got[0])
				strcat(got, " ");
			strcat(got, columns[c].heading);
		}
	ASSERT_STREQ(got, want);
}

TEST(test_layout) {
	size_t out[_COLUMN_MAX];

	/* Everything fits in 140 columns. */
	ASSERT_EQ(columns_layout(typical, COLUMN_RATE, 140, out), 5 + 15 + 12 + 3 * 11 + 8 + 8 + 13 + 20 + 9);
	assert_shown(out, "PID COMM DIRTY/s AVG10 AVG60 AVG300 FAULTS/s RESIDENT BACKEND UNIT");
	/* 80: the command name whole, the three rates most read. */
	ASSERT_TRUE(columns_layout(typical, COLUMN_RATE, 80, out) <= 80);
	assert_shown(out, "PID COMM DIRTY/s AVG10 AVG60 FAULTS/s RESIDENT");
	ASSERT_EQ(out[COLUMN_COMM], 15);
	/* UNIT cut before anything goes: 111 is the rest plus 8 of it. */
	ASSERT_EQ(columns_layout(typical, COLUMN_RATE, 111, out), 111);
	ASSERT_EQ(out[COLUMN_UNIT], 8);
	ASSERT_EQ(columns_layout(typical, COLUMN_RATE, 120, out), 120);
	ASSERT_EQ(out[COLUMN_UNIT], 17);
	/* The sort column stays, another goes instead. */
	ASSERT_TRUE(columns_layout(typical, COLUMN_AVG300, 80, out) <= 80);
	ASSERT_TRUE(out[COLUMN_AVG300] > 0);
	ASSERT_TRUE(columns_layout(typical, COLUMN_UNIT, 80, out) <= 80);
	ASSERT_TRUE(out[COLUMN_UNIT] >= 8);
	/* 60: AVG10 and RESIDENT went before AVG60 and FAULTS/s. */
	columns_layout(typical, COLUMN_RATE, 60, out);
	assert_shown(out, "PID COMM DIRTY/s AVG60 FAULTS/s");
	/* Narrower: the three that always stay, COMM cut as needed, to 8 at
	 * least (then the row is wider than the terminal: the screen cuts it). */
	ASSERT_EQ(columns_layout(typical, COLUMN_RATE, 30, out), 30);
	assert_shown(out, "PID COMM DIRTY/s");
	ASSERT_EQ(out[COLUMN_COMM], 11);
	ASSERT_EQ(columns_layout(typical, COLUMN_RATE, 10, out), 5 + 8 + 12 + 2);
}

static ProcessInfo *process(uint32_t pid, const char *comm, double rate) {
	ProcessInfo *p = process_info_new(pid);

	ASSERT_TRUE(p);
	p->comm = strdup(comm);
	p->rate[RATE_LAST] = rate;
	return p;
}

TEST(test_sort) {
	ProcessInfo *p[] = {
		process(30, "b", 100), process(10, "", NAN), process(20, "a", 300), process(40, "c", 100),
	};
	ProcessInfo *rows[ELEMENTSOF(p)];
	char buf[FORMAT_MAX];

	memcpy(rows, p, sizeof(p));
	/* By rate, largest first, ties by PID, the unmeasured last. */
	columns_sort(rows, ELEMENTSOF(rows), COLUMN_RATE, true);
	ASSERT_EQ(rows[0]->pid, 20);
	ASSERT_EQ(rows[1]->pid, 30);
	ASSERT_EQ(rows[2]->pid, 40);
	ASSERT_EQ(rows[3]->pid, 10);
	/* Reversed: still last. */
	columns_sort(rows, ELEMENTSOF(rows), COLUMN_RATE, false);
	ASSERT_EQ(rows[0]->pid, 30);
	ASSERT_EQ(rows[2]->pid, 20);
	ASSERT_EQ(rows[3]->pid, 10);
	/* By name; an empty one last. */
	columns_sort(rows, ELEMENTSOF(rows), COLUMN_COMM, false);
	ASSERT_EQ(rows[0]->pid, 20);
	ASSERT_EQ(rows[3]->pid, 10);
	columns_sort(rows, ELEMENTSOF(rows), COLUMN_PID, false);
	ASSERT_EQ(rows[0]->pid, 10);
	ASSERT_EQ(rows[3]->pid, 40);

	ASSERT_STREQ(column_cell(COLUMN_PID, p[0], buf), "30");
	ASSERT_STREQ(column_cell(COLUMN_UNIT, p[0], buf), "-");
	ASSERT_STREQ(column_cell(COLUMN_FAULTS, p[0], buf), "-");
	ASSERT_TRUE(column_descending_first(COLUMN_RATE));
	ASSERT_TRUE(!column_descending_first(COLUMN_PID));
	ASSERT_TRUE(!column_descending_first(COLUMN_COMM));
	ASSERT_EQ(column_from_key('a'), COLUMN_AVG60);
	ASSERT_EQ(column_from_key('6'), COLUMN_AVG60);
	ASSERT_EQ(column_from_key('x'), _COLUMN_INVALID);
	ASSERT_EQ(column_from_name("resident"), COLUMN_RESIDENT);
	ASSERT_EQ(column_from_name("RATE"), _COLUMN_INVALID);
	for (size_t i = 0; i < ELEMENTSOF(p); i++)
		process_info_free(p[i]);
}

/* bsearch needs them sorted, and each key once. */
TEST(test_maps_sorted) {
	for (size_t i = 1; i < manager_info_map_size; i++)
		if (strcmp(manager_info_map[i - 1].name, manager_info_map[i].name) >= 0)
			FAIL("manager_info_map: %s before %s", manager_info_map[i - 1].name, manager_info_map[i].name);
	for (size_t i = 1; i < process_info_map_size; i++)
		if (strcmp(process_info_map[i - 1].name, process_info_map[i].name) >= 0)
			FAIL("process_info_map: %s before %s", process_info_map[i - 1].name, process_info_map[i].name);
}

static sd_bus *bus;

static sd_bus_message *sealed(sd_bus_message *m) {
	ASSERT_TRUE(sd_bus_message_seal(m, 1, 0) >= 0);
	ASSERT_TRUE(sd_bus_message_rewind(m, true) >= 0);
	return m;
}

TEST(test_prop_map) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *m2 = NULL;
	ProcessInfo *p = process_info_new(1);

	ASSERT_TRUE(sd_bus_message_new_signal(bus, &m, "/a", "a.b", "C") >= 0);
	/* Known names of the right type are read; an unknown one and one of a
	 * type other than the table's are skipped. */
	ASSERT_TRUE(sd_bus_message_append(m, "a{sv}", 6, "PID", "u", 42, "Comm", "s", "worker",
					  "DirtyBytesPerSec", "d", 1e6, "NewProperty", "as", 2, "x", "y",
					  "ResidentBytes", "s", "not a number", "LastSampleDisturbed", "b", 1) >= 0);
	ASSERT_TRUE(prop_map_read_dict(sealed(m), process_info_map, process_info_map_size, p) >= 0);
	ASSERT_EQ(p->pid, 42);
	ASSERT_STREQ(p->comm, "worker");
	ASSERT_NEAR(p->rate[RATE_LAST], 1e6, 0);
	ASSERT_TRUE(isnan(p->rate[RATE_AVG10]));
	ASSERT_EQ(p->resident_bytes, 0);
	ASSERT_TRUE(p->last_sample_disturbed);
	/* A later change replaces only what it names. */
	ASSERT_TRUE(sd_bus_message_new_signal(bus, &m2, "/a", "a.b", "C") >= 0);
	ASSERT_TRUE(sd_bus_message_append(m2, "a{sv}", 1, "Comm", "s", "renamed") >= 0);
	ASSERT_TRUE(prop_map_read_dict(sealed(m2), process_info_map, process_info_map_size, p) >= 0);
	ASSERT_STREQ(p->comm, "renamed");
	ASSERT_NEAR(p->rate[RATE_LAST], 1e6, 0);
	process_info_free(p);
}

static const char *json_of(sd_bus_message *m, JsonMode mode, char *buf, size_t size) {
	_cleanup_json_ json_object *v = NULL;

	ASSERT_TRUE(json_from_bus_value(sealed(m), &v) >= 0);
	snprintf(buf, size, "%s", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
								JSON_C_TO_STRING_NOSLASHESCAPE));
	return buf;
}

TEST(test_json) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *m2 = NULL;
	char buf[1024];
	JsonMode mode;

	ASSERT_TRUE(sd_bus_message_new_signal(bus, &m, "/a", "a.b", "C") >= 0);
	ASSERT_TRUE(sd_bus_message_append(m, "a{sv}", 9,
					  "Rate", "d", 10485760.0, "Tenth", "d", 0.1, "NaN", "d", NAN,
					  "Big", "t", UINT64_MAX, "UID", "u", 65534, "On", "b", 0,
					  "Path", "o", "/org/dirtyrate1/process/1", "Quote", "s", "a\"b\\c\n\x01",
					  "Features", "as", 2, "page-sampling", "bpf-faults") >= 0);
	/* Doubles keep a fraction (a reader's float), the shortest exact text;
	 * NaN is null; uint64 whole; paths unescaped; control characters escaped. */
	ASSERT_STREQ(json_of(m, JSON_SHORT, buf, sizeof(buf)),
		     "{\"Rate\":10485760.0,\"Tenth\":0.1,\"NaN\":null,\"Big\":18446744073709551615,"
		     "\"UID\":65534,\"On\":false,\"Path\":\"/org/dirtyrate1/process/1\","
		     "\"Quote\":\"a\\\"b\\\\c\\n\\u0001\",\"Features\":[\"page-sampling\",\"bpf-faults\"]}");

	/* Structs as arrays (ListProcesses' a(uosddt)). */
	ASSERT_TRUE(sd_bus_message_new_signal(bus, &m2, "/a", "a.b", "C") >= 0);
	ASSERT_TRUE(sd_bus_message_append(m2, "a(uosddt)", 1, 7, "/org/dirtyrate1/process/7", "x", 1.5, NAN,
					  (uint64_t) 4096) >= 0);
	ASSERT_STREQ(json_of(m2, JSON_SHORT, buf, sizeof(buf)),
		     "[[7,\"/org/dirtyrate1/process/7\",\"x\",1.5,null,4096]]");

	ASSERT_EQ(json_mode_parse("short", &mode), 1);
	ASSERT_EQ(mode, JSON_SHORT);
	ASSERT_EQ(json_mode_parse("pretty", &mode), 1);
	ASSERT_EQ(mode, JSON_PRETTY);
	ASSERT_EQ(json_mode_parse("off", &mode), 1);
	ASSERT_EQ(mode, JSON_OFF);
	ASSERT_EQ(json_mode_parse("yaml", &mode), -EINVAL);
	ASSERT_EQ(json_mode_parse("", &mode), -EINVAL);
}

int main(void) {
	int sv[2];

	/* A UTF-8 terminal's glyphs where the locale exists (Debian's C.UTF-8
	 * always does); the ASCII ones otherwise. */
	setlocale(LC_CTYPE, "C.UTF-8");
	glyphs_init();
	snprintf(pm, sizeof(pm), "%s", glyph_plus_minus());

	ASSERT_TRUE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) >= 0);
	ASSERT_TRUE(sd_bus_new(&bus) >= 0);
	ASSERT_TRUE(sd_bus_set_fd(bus, sv[0], sv[0]) >= 0);
	ASSERT_TRUE(sd_bus_start(bus) >= 0);

	RUN(test_format_bytes);
	RUN(test_format_rate);
	RUN(test_format_count_usec);
	RUN(test_text);
	RUN(test_layout);
	RUN(test_sort);
	RUN(test_maps_sorted);
	RUN(test_prop_map);
	RUN(test_json);

	sd_bus_close_unref(bus);	/* no flush: nobody reads the other end */
	close(sv[1]);
	return 0;
}
