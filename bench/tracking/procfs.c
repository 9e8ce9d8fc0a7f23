// SPDX-License-Identifier: GPL-2.0-only
/* The procfs files several methods share, and the error helper. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tracker.h"

int pagemap_fd(void)
{
	static int fd = -1;

	if (fd < 0)
		fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	return fd;
}

int clear_refs_soft_dirty(void)
{
	static int fd = -1;

	if (fd < 0)
		fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* procfs ignores the file offset: the fd can be reused for every clear */
	if (write(fd, "4", 1) != 1)
		return -errno;
	return 0;
}

int tracker_fail(struct tracker *t, int err, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	n = strlen(t->err);
	if (err)
		snprintf(t->err + n, sizeof(t->err) - n, ": %s", strerror(err));
	return -err;
}
