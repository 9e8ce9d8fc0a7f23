/* SPDX-License-Identifier: GPL-2.0-only */
/* /proc/PID/maps: the writable mapping ranges a sample pass walks. */
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
