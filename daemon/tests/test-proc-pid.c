/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "proc-pid.h"
#include "tests.h"
#include "util.h"

TEST(test_stat_parse) {
	struct proc_stat s;

	ASSERT_EQ(proc_stat_parse("1234 (cat) R 1 1234 1234 34816 1234 4194304 97 0 3 0 31 7 0 0 20 0 1 0 "
				  "8812345 5668864 215 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n", &s), 0);
	ASSERT_STREQ(s.comm, "cat");
	ASSERT_EQ(s.state, 'R');
	ASSERT_EQ(s.flags, 4194304);
	ASSERT_EQ_U64(s.minflt, 97);
	ASSERT_EQ_U64(s.majflt, 3);
	ASSERT_EQ_U64(s.utime_ticks, 31);
	ASSERT_EQ_U64(s.stime_ticks, 7);
	ASSERT_EQ_U64(s.start_ticks, 8812345);
	ASSERT_EQ_U64(s.rss_pages, 215);
}

TEST(test_stat_comm_with_parens_and_spaces) {
	struct proc_stat s;

	/* prctl(PR_SET_NAME, "a) b (c"): only the LAST ')' ends the comm. */
	ASSERT_EQ(proc_stat_parse("77 (a) b (c) S 1 77 77 0 -1 4194560 0 0 0 0 0 0 0 0 -2 -20 1 0 "
				  "42 0 3 18446744073709551615\n", &s), 0);
	ASSERT_STREQ(s.comm, "a) b (c");
	ASSERT_EQ_U64(s.start_ticks, 42);
	ASSERT_EQ_U64(s.rss_pages, 3);
}

TEST(test_stat_kernel_thread) {
	struct proc_stat s;

	ASSERT_EQ(proc_stat_parse("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 "
				  "3 0 0 18446744073709551615\n", &s), 0);
	ASSERT_TRUE(s.flags & PF_KTHREAD_FLAG);
}

TEST(test_stat_malformed) {
	struct proc_stat s;

	ASSERT_EQ(proc_stat_parse("", &s), -EBADMSG);
	ASSERT_EQ(proc_stat_parse("1 (x R 1", &s), -EBADMSG);
	ASSERT_EQ(proc_stat_parse("1 (x) R 1 2 3", &s), -EBADMSG);	/* truncated */
	ASSERT_EQ(proc_stat_parse("1 (x) R 1 1 1 0 -1 -5 0 0 0 0 0 0 0 0 20 0 1 0 9 0 3 0", &s), -EBADMSG);
	ASSERT_EQ(proc_stat_parse("1 (x) R 1 1 1 0 -1 4 0 0 0 0 0 0 0 0 20 0 1 0 x9 0 3 0", &s), -EBADMSG);
}

TEST(test_start_time_conversion) {
	ASSERT_EQ_U64(proc_start_ticks_to_usec(0, 100), 0);
	ASSERT_EQ_U64(proc_start_ticks_to_usec(8812345, 100), UINT64_C(88123450000));
	ASSERT_EQ_U64(proc_start_ticks_to_usec(1, 250), 4000);
	/* No overflow for huge tick counts. */
	ASSERT_EQ_U64(proc_start_ticks_to_usec(UINT64_C(1) << 50, 100), (UINT64_C(1) << 50) / 100 * USEC_PER_SEC + 240000);
}

TEST(test_status_euid) {
	uid_t u = 0;

	ASSERT_EQ(proc_status_parse_euid("Name:\tx\nUmask:\t0022\nUid:\t1000\t0\t0\t0\nGid:\t1\t1\t1\t1\n", &u), 0);
	ASSERT_EQ(u, 0);
	ASSERT_EQ(proc_status_parse_euid("Uid:\t0\t65534\t65534\t65534\n", &u), 0);
	ASSERT_EQ(u, 65534);
	ASSERT_EQ(proc_status_parse_euid("Name:\tx\n", &u), -EBADMSG);
	ASSERT_EQ(proc_status_parse_euid("Uid:\tabc\n", &u), -EBADMSG);
}

TEST(test_cgroup) {
	_cleanup_free_ char *p = NULL;

	ASSERT_EQ(proc_cgroup_parse("0::/system.slice/foo.service\n", &p), 0);
	ASSERT_STREQ(p, "/system.slice/foo.service");
	free(p);
	/* Hybrid: v1 lines first. */
	ASSERT_EQ(proc_cgroup_parse("12:pids:/x\n1:name=systemd:/x\n0::/user.slice\n", &p), 0);
	ASSERT_STREQ(p, "/user.slice");
	free(p);
	p = NULL;
	ASSERT_EQ(proc_cgroup_parse("12:pids:/x\n", &p), -ENODATA);
}

static void expect_unit(const char *path, const char *unit) {
	_cleanup_free_ char *u = NULL;

	ASSERT_EQ(cgroup_path_get_unit(path, &u), 0);
	ASSERT_STREQ(u, unit);
}

TEST(test_unit_from_cgroup) {
	expect_unit("/system.slice/foo.service", "foo.service");
	expect_unit("/system.slice/foo.service/sub/cgroup", "foo.service");
	expect_unit("/system.slice/system-getty.slice/getty@tty1.service", "getty@tty1.service");
	expect_unit("/user.slice/user-1000.slice/user@1000.service/app.slice/a.scope", "user@1000.service");
	expect_unit("/user.slice/user-1000.slice/session-3.scope", "session-3.scope");
	expect_unit("/init.scope", "init.scope");
	expect_unit("/", "");
	expect_unit("", "");
	expect_unit("/docker/abcdef", "");	/* not systemd's tree */
	expect_unit("/system.slice/.service", "");	/* no unit name */
}

TEST(test_pinned_open_of_self_and_gone) {
	struct proc_stat st;
	int procfd = -1, pidfd = -1;

	ASSERT_EQ(proc_open_pinned(getpid(), &procfd, &pidfd, &st), 0);
	ASSERT_TRUE(procfd >= 0 && pidfd >= 0);
	ASSERT_TRUE(st.start_ticks > 0 || getpid() == 1);
	close(procfd);
	close(pidfd);

	/* PID_MAX_LIMIT is 2^22: this one cannot exist. */
	ASSERT_EQ(proc_open_pinned((1 << 22) + 1, &procfd, &pidfd, &st), -ESRCH);
}

/* The pidfd's EUID is the one /proc/PID/status shows, also after a setuid. */
TEST(test_pidfd_euid) {
	int procfd = -1, pidfd = -1, ack[2];
	struct proc_stat st;
	uid_t from_status, from_pidfd;
	pid_t child;
	char c;
	int r;

	ASSERT_EQ(proc_open_pinned(getpid(), &procfd, &pidfd, &st), 0);
	r = pidfd_read_euid(pidfd, &from_pidfd);
	close(procfd);
	close(pidfd);
	if (r == -EOPNOTSUPP) {
		printf("  no PIDFD_GET_INFO in this kernel (6.13+): proc_read_euid() serves\n");
		return;
	}
	ASSERT_EQ(r, 0);
	ASSERT_EQ(from_pidfd, geteuid());

	ASSERT_EQ(pipe(ack), 0);
	child = fork();
	ASSERT_TRUE(child >= 0);
	if (child == 0) {
		/* As root: become nobody, the case a stale or wrong EUID would hide. */
		if (geteuid() == 0 && setresuid(65534, 65534, 65534) < 0)
			_exit(1);
		(void) write(ack[1], "x", 1);
		pause();
		_exit(0);
	}
	ASSERT_EQ(read(ack[0], &c, 1), 1);
	ASSERT_EQ(proc_open_pinned(child, &procfd, &pidfd, &st), 0);
	ASSERT_EQ(proc_read_euid(procfd, &from_status), 0);
	ASSERT_EQ(pidfd_read_euid(pidfd, &from_pidfd), 0);
	ASSERT_EQ(from_pidfd, from_status);
	if (geteuid() == 0)
		ASSERT_EQ(from_pidfd, 65534);
	printf("  child %d: EUID %u from the pidfd and from status\n", (int) child, (unsigned) from_pidfd);
	kill(child, SIGKILL);
	ASSERT_EQ(waitpid(child, NULL, 0), child);
	close(procfd);
	close(pidfd);
	close(ack[0]);
	close(ack[1]);
}

int main(void) {
	RUN(test_stat_parse);
	RUN(test_stat_comm_with_parens_and_spaces);
	RUN(test_stat_kernel_thread);
	RUN(test_stat_malformed);
	RUN(test_start_time_conversion);
	RUN(test_status_euid);
	RUN(test_cgroup);
	RUN(test_unit_from_cgroup);
	RUN(test_pinned_open_of_self_and_gone);
	RUN(test_pidfd_euid);
	return 0;
}
