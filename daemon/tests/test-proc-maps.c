/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>

#include "proc-maps.h"
#include "tests.h"

/* Taken from a real /proc/PID/maps, with the awkward cases added. */
static const char maps[] =
	"55d0c1a00000-55d0c1a02000 r--p 00000000 fe:01 1311  /usr/bin/cat\n"
	"55d0c1a07000-55d0c1a08000 rw-p 00006000 fe:01 1311  /usr/bin/cat\n"
	"55d0c2b5d000-55d0c2b7e000 rw-p 00000000 00:00 0     [heap]\n"
	"7f1e4c000000-7f1e4c021000 rw-s 00000000 00:01 4242  /dev/shm/a file with spaces (deleted)\n"
	"7f1e4c021000-7f1e50000000 ---p 00000000 00:00 0\n"
	"7f1e50000000-7f1e50001000 rwxp 00000000 00:00 0\n"
	"7ffd8d9b4000-7ffd8d9d5000 rw-p 00000000 00:00 0     [stack]\n"
	"7ffd8d9f2000-7ffd8d9f6000 r--p 00000000 00:00 0     [vvar]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n";

TEST(test_writable_ranges) {
	struct mem_ranges r = {};

	ASSERT_EQ(maps_parse_writable(maps, &r, NULL), 0);
	ASSERT_EQ(r.n, 5);
	ASSERT_EQ_U64(r.ranges[0].start, 0x55d0c1a07000);
	ASSERT_EQ_U64(r.ranges[0].end, 0x55d0c1a08000);
	ASSERT_EQ_U64(r.ranges[1].start, 0x55d0c2b5d000); /* heap */
	ASSERT_EQ_U64(r.ranges[2].end, 0x7f1e4c021000);  /* shared mapping counts */
	ASSERT_EQ_U64(r.ranges[3].start, 0x7f1e50000000); /* rwx */
	ASSERT_EQ_U64(r.ranges[4].start, 0x7ffd8d9b4000); /* stack */
	ASSERT_EQ_U64(r.total_bytes, 0x1000 + 0x21000 + 0x21000 + 0x1000 + 0x21000);
	mem_ranges_done(&r);
}

TEST(test_empty_and_no_trailing_newline) {
	struct mem_ranges r = {};

	ASSERT_EQ(maps_parse_writable("", &r, NULL), 0);
	ASSERT_EQ(r.n, 0);
	ASSERT_EQ(maps_parse_writable("1000-2000 rw-p 00000000 00:00 0", &r, NULL), 0);
	ASSERT_EQ(r.n, 1);
	mem_ranges_done(&r);
}

static void expect_bad(const char *text, unsigned line) {
	struct mem_ranges r = {};
	unsigned got = 0;

	ASSERT_EQ(maps_parse_writable(text, &r, &got), -EBADMSG);
	ASSERT_EQ(got, line);
	ASSERT_EQ(r.n, 0);
}

TEST(test_malformed) {
	expect_bad("garbage\n", 1);
	expect_bad("1000-2000 rw-p 00000000 00:00 0\n2000-1000 rw-p 00000000 00:00 0\n", 2); /* end < start */
	expect_bad("1000-2000 rw-q 00000000 00:00 0\n", 1);	/* bad sharing flag */
	expect_bad("1000-2000 rw 00000000 00:00 0\n", 1);	/* short perms */
	expect_bad("1000-2000 rw-p 00000000 00:00\n", 1);	/* no inode */
	expect_bad("1000-2000 rw-p 00000000 00:00 0\n\n", 2);	/* empty line */
}

int main(void) {
	RUN(test_writable_ranges);
	RUN(test_empty_and_no_trailing_newline);
	RUN(test_malformed);
	return 0;
}
