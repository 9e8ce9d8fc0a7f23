/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <unistd.h>

#include "pagemap.h"
#include "util.h"

#define CHUNK_ENTRIES 8192 /* 64 KiB of entries per read, 32 MiB of address space */

size_t pagemap_count_written(const uint64_t *entries, size_t n) {
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += pagemap_entry_written(entries[i]);
	return c;
}

int pagemap_count_ranges(int pagemap_fd, const struct mem_range *ranges, size_t n, uint64_t page_size,
			 uint64_t *ret_pages) {
	static uint64_t buf[CHUNK_ENTRIES];
	uint64_t pages = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t first = ranges[i].start / page_size, last = ranges[i].end / page_size;

		while (first < last) {
			size_t want = MIN(last - first, (uint64_t) CHUNK_ENTRIES);
			ssize_t got;

			got = pread(pagemap_fd, buf, want * sizeof(uint64_t), (off_t) (first * sizeof(uint64_t)));
			if (got < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			if ((size_t) got != want * sizeof(uint64_t))
				return -ESRCH; /* the mm is gone (exit or exec) */

			pages += pagemap_count_written(buf, want);
			first += want;
		}
	}

	*ret_pages = pages;
	return 0;
}
