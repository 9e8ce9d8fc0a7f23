/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * /proc/PID/maps: the writable mapping ranges a sample pass walks. Asked
 * with PROCMAP_QUERY where the kernel has it (6.11+), one ioctl per
 * writable VMA; else read and parsed as text. Reading the text was the
 * largest part of a pass's fixed cost per process (the kernel formats every
 * VMA with its path, we parse it back).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct mem_range {
	uint64_t start, end;	/* [start, end), page aligned as the kernel prints them */
};

struct mem_ranges {
	struct mem_range *ranges;
	size_t n, allocated;
	uint64_t total_bytes;
};

void mem_ranges_done(struct mem_ranges *r);

/*
 * Parses the text of /proc/PID/maps and keeps the writable mappings (private
 * and shared: the "w" permission). On malformed input returns -EBADMSG and,
 * if ret_line is set, the 1-based line number that failed.
 */
int maps_parse_writable(const char *text, struct mem_ranges *ret, unsigned *ret_line);

/*
 * The same ranges through PROCMAP_QUERY on an open /proc/PID/maps. Returns
 * -ENOTTY where the kernel lacks the ioctl, -ESRCH once the process's
 * address space is gone, -EPROTO if the kernel answers out of order.
 */
int maps_query_writable(int maps_fd, struct mem_ranges *ret);

/*
 * The writable ranges of the process whose /proc/PID directory is procfd:
 * PROCMAP_QUERY, else the text (once a kernel answers ENOTTY, the text
 * from then on). -ESRCH if the process is gone; on unparsable text,
 * -EBADMSG with the 1-based line in *ret_line; -EPROTO as above.
 */
int maps_read_writable(int procfd, struct mem_ranges *ret, unsigned *ret_line);
