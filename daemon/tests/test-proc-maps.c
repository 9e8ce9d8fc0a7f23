/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc-maps.h"
#include "tests.h"
#include "util.h"

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

/* A child that holds still (its maps cannot change under the test) with a
 * shared writable mapping and a read-only one besides what it inherits. */
static pid_t still_child(void) {
	void *shared = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pid_t parent = getpid(), pid;

	ASSERT_TRUE(shared != MAP_FAILED && ro != MAP_FAILED);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		/*
		 * A failed assertion exits the test: do not outlive it (and hold
		 * its output pipe open). Polled, because PR_SET_PDEATHSIG is not
		 * delivered on every kernel these tests run on.
		 */
		while (getppid() == parent)
			usleep(20000);
		_exit(0);
	}
	munmap(shared, 3 * 4096);
	munmap(ro, 4096);
	return pid;
}

/* PROCMAP_QUERY and the text must give the same ranges. */
TEST(test_query_matches_text) {
	struct mem_ranges q = {}, t = {};
	_cleanup_free_ char *text = NULL;
	char path[64];
	pid_t pid = still_child();
	int procfd, fd, k;

	snprintf(path, sizeof(path), "/proc/%d", (int) pid);
	procfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(procfd >= 0);
	fd = openat(procfd, "maps", O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	k = maps_query_writable(fd, &q);
	if (k == -ENOTTY) {
		printf("# PROCMAP_QUERY: not in this kernel, the daemon reads the text (checked above)\n");
	} else {
		ASSERT_EQ(k, 0);
		ASSERT_EQ(read_full_file_at(procfd, "maps", &text, NULL), 0);
		ASSERT_EQ(maps_parse_writable(text, &t, NULL), 0);
		ASSERT_TRUE(q.n >= 3);	/* data, heap or stack, the shared mapping */
		ASSERT_EQ(q.n, t.n);
		for (size_t i = 0; i < q.n; i++) {
			ASSERT_EQ_U64(q.ranges[i].start, t.ranges[i].start);
			ASSERT_EQ_U64(q.ranges[i].end, t.ranges[i].end);
		}
		ASSERT_EQ_U64(q.total_bytes, t.total_bytes);
		mem_ranges_done(&q);

		/* What the daemon calls gives the same. */
		ASSERT_EQ(maps_read_writable(procfd, &q, NULL), 0);
		ASSERT_EQ(q.n, t.n);
		ASSERT_EQ_U64(q.total_bytes, t.total_bytes);
		mem_ranges_done(&q);
		mem_ranges_done(&t);
	}
	close(fd);

	/* Gone: -ESRCH, from either path. */
	kill(pid, SIGKILL);
	ASSERT_EQ(waitpid(pid, NULL, 0), pid);
	ASSERT_EQ(maps_read_writable(procfd, &q, NULL), -ESRCH);
	close(procfd);
}

/* A file that is not /proc/PID/maps answers ENOTTY: the fallback's trigger. */
TEST(test_query_not_maps) {
	struct mem_ranges r = {};
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(maps_query_writable(fd, &r), -ENOTTY);
	ASSERT_EQ(r.n, 0);
	close(fd);
}

int main(void) {
	RUN(test_writable_ranges);
	RUN(test_empty_and_no_trailing_newline);
	RUN(test_malformed);
	RUN(test_query_matches_text);
	RUN(test_query_not_maps);
	return 0;
}
