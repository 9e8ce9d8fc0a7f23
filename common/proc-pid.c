/* SPDX-License-Identifier: GPL-2.0-only */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>

#include "proc-pid.h"
#include "util.h"

/* PIDFD_GET_INFO's first version (Linux 6.13, 64 bytes), which older
 * <linux/pidfd.h> lack. The kernel fills what mask asks for and says in
 * mask what it filled; the credentials come always. */
struct pidfd_info_v0 {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t exit_code;
};
#define PIDFD_INFO_CREDS_FLAG (UINT64_C(1) << 1)
#define PIDFD_GET_INFO_V0 _IOWR(0xFF, 11, struct pidfd_info_v0)

int proc_stat_parse(const char *text, struct proc_stat *ret) {
	const char *open_paren, *close_paren, *p;
	unsigned long long field;
	struct proc_stat s = {};
	size_t comm_len;

	/* "pid (comm) state ppid ...": comm is whatever sits between the first
	 * '(' and the LAST ')', since a comm may itself contain ')'. */
	open_paren = strchr(text, '(');
	close_paren = strrchr(text, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -EBADMSG;

	comm_len = (size_t) (close_paren - open_paren - 1);
	if (comm_len >= sizeof(s.comm))
		return -EBADMSG;
	memcpy(s.comm, open_paren + 1, comm_len);
	s.comm[comm_len] = 0;

	p = close_paren + 1;
	if (*p != ' ' || !p[1] || p[2] != ' ')
		return -EBADMSG;
	s.state = p[1];
	p += 2;

	/* Fields 4.. follow; we want 9 (flags), 10 and 12 (minflt, majflt),
	 * 14 and 15 (utime, stime), 22 (starttime), 24 (rss). */
	for (unsigned i = 4; i <= 24; i++) {
		bool negative;
		char *end;

		if (*p != ' ')
			return -EBADMSG;
		p++;
		/* priority and nice (18, 19) may be negative; ours never are. */
		negative = *p == '-';
		if (negative && (i == 9 || i == 10 || i == 12 || i == 14 || i == 15 || i == 22 || i == 24))
			return -EBADMSG;
		if (p[negative] < '0' || p[negative] > '9')
			return -EBADMSG;
		errno = 0;
		field = strtoull(p + negative, &end, 10);
		if (errno == ERANGE)
			return -EBADMSG;
		if (i == 9)
			s.flags = (unsigned) field;
		else if (i == 10)
			s.minflt = field;
		else if (i == 12)
			s.majflt = field;
		else if (i == 14)
			s.utime_ticks = field;
		else if (i == 15)
			s.stime_ticks = field;
		else if (i == 22)
			s.start_ticks = field;
		else if (i == 24)
			s.rss_pages = field;
		p = end;
	}

	*ret = s;
	return 0;
}

uint64_t proc_start_ticks_to_usec(uint64_t ticks, long ticks_per_sec) {
	/* Split to avoid overflow for huge tick counts. */
	return ticks / (uint64_t) ticks_per_sec * USEC_PER_SEC +
		ticks % (uint64_t) ticks_per_sec * USEC_PER_SEC / (uint64_t) ticks_per_sec;
}

int proc_status_parse_euid(const char *text, uid_t *ret) {
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, "Uid:", 4) == 0) {
			unsigned long ruid, euid;

			if (sscanf(p + 4, "%lu %lu", &ruid, &euid) != 2 || euid > UINT32_MAX - 1)
				return -EBADMSG;
			*ret = (uid_t) euid;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -EBADMSG;
}

int proc_cgroup_parse(const char *text, char **ret) {
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t) (nl - p) : strlen(p);

		if (len >= 3 && strncmp(p, "0::", 3) == 0) {
			char *s = strndup(p + 3, len - 3);

			if (!s)
				return -ENOMEM;
			*ret = s;
			return 0;
		}
		p = nl ? nl + 1 : NULL;
	}
	return -ENODATA; /* cgroup v1 only: no unified path */
}

static bool endswith(const char *s, size_t len, const char *suffix) {
	size_t l = strlen(suffix);

	return len >= l && memcmp(s + len - l, suffix, l) == 0;
}

int cgroup_path_get_unit(const char *path, char **ret) {
	static const char *const unit_suffixes[] = {
		".service", ".scope", ".socket", ".mount", ".swap",
	};
	const char *p = path;

	while (*p) {
		size_t len;

		p += strspn(p, "/");
		len = strcspn(p, "/");
		if (len == 0)
			break;

		if (!endswith(p, len, ".slice")) {
			for (size_t i = 0; i < ELEMENTSOF(unit_suffixes); i++)
				if (endswith(p, len, unit_suffixes[i]) && len > strlen(unit_suffixes[i])) {
					*ret = strndup(p, len);
					return *ret ? 0 : -ENOMEM;
				}
			break; /* a non-slice, non-unit component: not systemd's tree */
		}
		p += len;
	}

	*ret = strdup("");
	return *ret ? 0 : -ENOMEM;
}

/* A file of the pinned process; ENOENT there means the process is gone. */
static int read_proc_file(int procfd, const char *name, char **ret) {
	int r = read_full_file_at(procfd, name, ret, NULL);

	return r == -ENOENT ? -ESRCH : r;
}

int proc_read_stat(int procfd, struct proc_stat *ret) {
	_cleanup_free_ char *text = NULL;
	int r;

	r = read_proc_file(procfd, "stat", &text);
	if (r < 0)
		return r;
	return proc_stat_parse(text, ret);
}

int proc_read_euid(int procfd, uid_t *ret) {
	_cleanup_free_ char *text = NULL;
	int r;

	r = read_proc_file(procfd, "status", &text);
	if (r < 0)
		return r;
	return proc_status_parse_euid(text, ret);
}

int pidfd_read_euid(int pidfd, uid_t *ret) {
	struct pidfd_info_v0 info = { .mask = PIDFD_INFO_CREDS_FLAG };

	if (ioctl(pidfd, PIDFD_GET_INFO_V0, &info) < 0) {
		if (errno == ESRCH)
			return -ESRCH;
		/* Not a pidfs pidfd, or no such command: ENOTTY, EINVAL. */
		return errno == ENOTTY || errno == EINVAL || errno == EOPNOTSUPP ? -EOPNOTSUPP : -errno;
	}
	if (!(info.mask & PIDFD_INFO_CREDS_FLAG))
		return -EOPNOTSUPP;
	*ret = (uid_t) info.euid;
	return 0;
}

int proc_read_cgroup(int procfd, char **ret) {
	_cleanup_free_ char *text = NULL;
	int r;

	r = read_proc_file(procfd, "cgroup", &text);
	if (r < 0)
		return r;
	return proc_cgroup_parse(text, ret);
}

int proc_read_exe(int procfd, char **ret) {
	char buf[PATH_MAX];
	ssize_t n;

	n = readlinkat(procfd, "exe", buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	*ret = strdup(buf);
	return *ret ? 0 : -ENOMEM;
}

int proc_open_pinned(pid_t pid, int *ret_procfd, int *ret_pidfd, struct proc_stat *ret_stat) {
	_cleanup_close_ int pidfd = -EBADF, procfd = -EBADF;
	struct pollfd pfd;
	char path[32];
	int r;

	/* First pin the process, then open its /proc directory... */
	pidfd = pidfd_open(pid, 0);
	if (pidfd < 0)
		return -errno;

	snprintf(path, sizeof(path), "/proc/%d", (int) pid);
	procfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0)
		return errno == ENOENT ? -ESRCH : -errno;

	r = proc_read_stat(procfd, ret_stat);
	if (r < 0)
		return r;

	/* ...and check the pinned process still lives: then /proc/PID was it. */
	pfd = (struct pollfd) { .fd = pidfd, .events = POLLIN };
	r = poll(&pfd, 1, 0);
	if (r < 0)
		return -errno;
	if (r > 0)
		return -ESRCH;

	*ret_procfd = TAKE_FD(procfd);
	*ret_pidfd = TAKE_FD(pidfd);
	return 0;
}

bool pidfd_exited(int pidfd) {
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

	return pidfd >= 0 && poll(&pfd, 1, 0) != 0;
}
