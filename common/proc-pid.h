/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the daemon reads about a process from /proc/PID: identity (start
 * time), name, owner, cgroup and unit, resident size. The parse functions take
 * file text so tests feed fixtures; the read functions take an open /proc/PID
 * directory fd, which keeps referring to the same process even if its PID is
 * reused (files opened through it then fail with ESRCH/ENOENT).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PF_KTHREAD_FLAG 0x00200000u /* include/linux/sched.h PF_KTHREAD */

struct proc_stat {
	char comm[64];			/* TASK_COMM_LEN is 16; room for growth */
	char state;
	unsigned flags;
	uint64_t minflt;		/* field 10: minor page faults, all threads */
	uint64_t majflt;		/* field 12: major page faults, all threads */
	uint64_t utime_ticks;		/* field 14: user CPU time, clock ticks */
	uint64_t stime_ticks;		/* field 15: system CPU time, clock ticks */
	uint64_t start_ticks;		/* field 22: clock ticks after boot */
	uint64_t rss_pages;		/* field 24 */
};

/* Parses /proc/PID/stat; the comm may contain spaces and ')' characters. */
int proc_stat_parse(const char *text, struct proc_stat *ret);

/* Field 22 is in USER_HZ ticks after boot (CLOCK_BOOTTIME); microseconds. */
uint64_t proc_start_ticks_to_usec(uint64_t ticks, long ticks_per_sec);

/* The effective UID from the "Uid:" line of /proc/PID/status. */
int proc_status_parse_euid(const char *text, uid_t *ret);

/* The unified (cgroup v2, "0::") path from /proc/PID/cgroup. */
int proc_cgroup_parse(const char *text, char **ret);

/*
 * The systemd unit a cgroup path belongs to: the first component below the
 * slices that names a unit ("/system.slice/foo.service/x" -> "foo.service",
 * "/user.slice/user-1000.slice/user@1000.service/app.slice/a.scope" ->
 * "user@1000.service", as sd_pid_get_unit() reports). "" when none.
 */
int cgroup_path_get_unit(const char *path, char **ret);

int proc_read_stat(int procfd, struct proc_stat *ret);
int proc_read_euid(int procfd, uid_t *ret);
/*
 * The effective UID of the process behind pidfd from PIDFD_GET_INFO (Linux
 * 6.13+): one ioctl where proc_read_euid() has the kernel format all of
 * /proc/PID/status and parses it back (about 1 and 12 µs here).
 * -EOPNOTSUPP: this kernel has no such ioctl (use proc_read_euid());
 * -ESRCH: the process has exited.
 */
int pidfd_read_euid(int pidfd, uid_t *ret);
int proc_read_cgroup(int procfd, char **ret);
int proc_read_exe(int procfd, char **ret);

/*
 * Opens /proc/PID and a pidfd for the same process, verifying that the PID
 * was not reused between the two opens. Returns -ESRCH if it is gone.
 */
int proc_open_pinned(pid_t pid, int *ret_procfd, int *ret_pidfd, struct proc_stat *ret_stat);

/* Whether the process behind pidfd has exited (a pidfd polls readable then,
 * or the poll fails); a negative pidfd pins nothing and never says so. */
bool pidfd_exited(int pidfd);
