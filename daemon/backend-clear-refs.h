/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The clear-refs backend's count, exposed for its test: read /proc/PID/pagemap
 * entries (one 64-bit word per page, Documentation/admin-guide/mm/pagemap.rst)
 * over the writable ranges and count the soft-dirty ones.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc-maps.h"

#define PM_SOFT_DIRTY	(UINT64_C(1) << 55)
#define PM_SWAP		(UINT64_C(1) << 62)
#define PM_PRESENT	(UINT64_C(1) << 63)

/*
 * Whether one entry is a written page: soft-dirty AND backed by a page
 * (present or swapped). Holes of a new mapping also read as soft-dirty (the
 * mapping carries VM_SOFTDIRTY until its first clear); they were not written,
 * and counting them would report every fresh mmap() as dirtied at once. This
 * matches what the pagemap-ioctl backend asks for with
 * PAGEMAP_SD_NO_REUSED_REGIONS.
 */
static inline bool pagemap_entry_written(uint64_t e) {
	return (e & PM_SOFT_DIRTY) && (e & (PM_PRESENT | PM_SWAP));
}

size_t pagemap_count_written(const uint64_t *entries, size_t n);

/*
 * Counts written pages of every range, reading pagemap_fd (an open
 * /proc/PID/pagemap or, in tests, a file of entries) with pread in chunks.
 * A short read means the address space went away: -ESRCH.
 */
int pagemap_count_ranges(int pagemap_fd, const struct mem_range *ranges, size_t n, uint64_t page_size,
			 uint64_t *ret_pages);
