/* SPDX-License-Identifier: GPL-2.0-only */
#include <fcntl.h>
#include <stdarg.h>

#include "util.h"

static int max_level = LOG_INFO;

void log_set_max_level(int level) {
	max_level = level;
}

int log_internal(int level, int error, const char *format, ...) {
	static int journal = -1;
	int saved = errno;
	va_list ap;

	if (error < 0)
		error = -error;
	if (level > max_level)
		return -error;

	/* Under systemd, stderr goes to the journal: tag the priority. */
	if (journal < 0)
		journal = !!getenv("JOURNAL_STREAM");
	if (journal)
		fprintf(stderr, "<%d>", level);

	errno = error;
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	fputc('\n', stderr);

	errno = saved;
	return -error;
}

uint64_t now_usec(clockid_t clock) {
	struct timespec ts;

	if (clock_gettime(clock, &ts) < 0)
		abort(); /* Only fails for an invalid clock id: a programming error. */
	return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

int read_full_file_at(int dirfd, const char *path, char **ret, size_t *ret_size) {
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *buf = NULL;
	size_t size = 0, allocated = 4096;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;

	buf = malloc(allocated);
	if (!buf)
		return -ENOMEM;

	for (;;) {
		ssize_t n;

		if (size + 1 >= allocated) {
			char *p;

			if (allocated >= 64 * 1024 * 1024)
				return -EFBIG;
			p = realloc(buf, allocated * 2);
			if (!p)
				return -ENOMEM;
			buf = p;
			allocated *= 2;
		}

		n = read(fd, buf + size, allocated - size - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		size += (size_t) n;
	}

	buf[size] = 0;
	if (ret_size)
		*ret_size = size;
	*ret = TAKE_PTR(buf);
	return 0;
}

char *strstrip(char *s) {
	char *e;

	s += strspn(s, " \t\r\n");
	e = s + strlen(s);
	while (e > s && strchr(" \t\r\n", e[-1]))
		e--;
	*e = 0;
	return s;
}
