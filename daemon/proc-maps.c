/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "dirtyrate/procmap-query.h"
#include "proc-maps.h"
#include "util.h"

void mem_ranges_done(struct mem_ranges *r) {
	free(r->ranges);
	*r = (struct mem_ranges) {};
}

static int mem_ranges_add(struct mem_ranges *r, uint64_t start, uint64_t end) {
	if (r->n == r->allocated) {
		size_t a = r->allocated ? r->allocated * 2 : 64;
		struct mem_range *p = realloc(r->ranges, a * sizeof(*p));

		if (!p)
			return -ENOMEM;
		r->ranges = p;
		r->allocated = a;
	}
	r->ranges[r->n++] = (struct mem_range) { start, end };
	r->total_bytes += end - start;
	return 0;
}

/* "start-end perms offset dev inode [path]"; only the first two fields matter. */
static int parse_line(const char *line, size_t len, uint64_t *start, uint64_t *end, bool *writable) {
	unsigned long long s, e;
	char perms[5];
	int n = 0;

	if (sscanf(line, "%llx-%llx %4s %*x %*x:%*x %*u%n", &s, &e, perms, &n) != 3 || n == 0 || (size_t) n > len)
		return -EBADMSG;
	if (strlen(perms) != 4 || e <= s)
		return -EBADMSG;
	if (!strchr("r-", perms[0]) || !strchr("w-", perms[1]) || !strchr("x-", perms[2]) || !strchr("ps", perms[3]))
		return -EBADMSG;

	*start = s;
	*end = e;
	*writable = perms[1] == 'w';
	return 0;
}

int maps_parse_writable(const char *text, struct mem_ranges *ret, unsigned *ret_line) {
	struct mem_ranges r = {};
	unsigned line_no = 0;
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t) (nl - p) : strlen(p);
		_cleanup_free_ char *line = strndup(p, len);
		uint64_t start, end;
		bool writable;
		int k;

		line_no++;
		if (!line) {
			mem_ranges_done(&r);
			return -ENOMEM;
		}

		k = parse_line(line, len, &start, &end, &writable);
		if (k < 0) {
			mem_ranges_done(&r);
			if (ret_line)
				*ret_line = line_no;
			return k;
		}
		if (writable) {
			k = mem_ranges_add(&r, start, end);
			if (k < 0) {
				mem_ranges_done(&r);
				return k;
			}
		}

		p += len;
		if (*p == '\n')
			p++;
	}

	*ret = r;
	return 0;
}

int maps_query_writable(int maps_fd, struct mem_ranges *ret) {
	struct mem_ranges r = {};
	uint64_t addr = 0;
	int k;

	for (;;) {
		struct procmap_query q = {
			.size = sizeof(q),
			.query_flags = PROCMAP_QUERY_COVERING_OR_NEXT_VMA | PROCMAP_QUERY_VMA_WRITABLE,
			.query_addr = addr,
		};

		if (ioctl(maps_fd, PROCMAP_QUERY, &q) < 0) {
			if (errno == ENOENT)	/* no writable VMA at or above addr */
				break;
			k = -errno;
			mem_ranges_done(&r);
			return k;
		}
		if (q.vma_end <= q.vma_start || q.vma_end <= addr) {
			mem_ranges_done(&r);
			return -EPROTO;
		}
		k = mem_ranges_add(&r, q.vma_start, q.vma_end);
		if (k < 0) {
			mem_ranges_done(&r);
			return k;
		}
		addr = q.vma_end;
	}

	*ret = r;
	return 0;
}

int maps_read_writable(int procfd, struct mem_ranges *ret, unsigned *ret_line) {
	/* Probed by the first call: the kernel does not change under us. */
	static bool no_query;
	_cleanup_free_ char *text = NULL;
	int k;

	if (!no_query) {
		_cleanup_close_ int fd = openat(procfd, "maps", O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return errno == ENOENT ? -ESRCH : -errno;
		k = maps_query_writable(fd, ret);
		if (k != -ENOTTY)
			return k;
		log_info("This kernel has no PROCMAP_QUERY (Linux 6.11+); reading /proc/PID/maps as text.");
		no_query = true;
	}

	k = read_full_file_at(procfd, "maps", &text, NULL);
	if (k < 0)
		return k == -ENOENT ? -ESRCH : k;
	return maps_parse_writable(text, ret, ret_line);
}
