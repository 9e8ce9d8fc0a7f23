/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "object-path.h"

int process_path_from_pid(pid_t pid, char *buf, size_t size) {
	int n;

	if (pid <= 0)
		return -EINVAL;
	n = snprintf(buf, size, DIRTYRATE_PROCESS_PATH_PREFIX "/%d", (int) pid);
	if (n < 0 || (size_t) n >= size)
		return -ENOBUFS;
	return 0;
}

int process_path_to_pid(const char *path, pid_t *ret) {
	const size_t plen = strlen(DIRTYRATE_PROCESS_PATH_PREFIX);
	const char *p;
	long long v = 0;

	if (strncmp(path, DIRTYRATE_PROCESS_PATH_PREFIX, plen) != 0 || path[plen] != '/')
		return -EINVAL;
	p = path + plen + 1;
	if (*p < '1' || *p > '9')
		return -EINVAL; /* empty, leading zero, or not a digit */
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (*p - '0');
		if (v > INT_MAX)
			return -EINVAL;
	}
	*ret = (pid_t) v;
	return 0;
}
