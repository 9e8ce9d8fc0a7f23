/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "backend-clear-refs.h"
#include "tests.h"
#include "util.h"

#define PAGE 4096

TEST(test_entry_written) {
	ASSERT_TRUE(pagemap_entry_written(PM_PRESENT | PM_SOFT_DIRTY | 0x1234));
	ASSERT_TRUE(pagemap_entry_written(PM_SWAP | PM_SOFT_DIRTY));
	ASSERT_TRUE(!pagemap_entry_written(PM_PRESENT));			/* clean */
	ASSERT_TRUE(!pagemap_entry_written(PM_SOFT_DIRTY));		/* hole of a VM_SOFTDIRTY mapping */
	ASSERT_TRUE(!pagemap_entry_written(0));
	ASSERT_TRUE(!pagemap_entry_written(PM_PRESENT | (UINT64_C(1) << 56))); /* exclusive, not dirty */
}

/* A file standing in for /proc/PID/pagemap: entry i describes page i. */
static int make_pagemap(uint64_t npages, const uint64_t *dirty, size_t ndirty) {
	char path[] = "/tmp/test-pagemap-XXXXXX";
	uint64_t *e = calloc(npages, sizeof(uint64_t));
	int fd = mkstemp(path);

	ASSERT_TRUE(fd >= 0 && e);
	unlink(path);
	for (uint64_t i = 0; i < npages; i++)
		e[i] = PM_PRESENT; /* present, clean */
	for (size_t i = 0; i < ndirty; i++)
		e[dirty[i]] |= PM_SOFT_DIRTY;
	ASSERT_EQ(write(fd, e, npages * sizeof(uint64_t)), (ssize_t) (npages * sizeof(uint64_t)));
	free(e);
	return fd;
}

TEST(test_count_ranges) {
	/* Dirty pages inside and outside the ranges, and across chunk borders. */
	const uint64_t dirty[] = { 0, 5, 8191, 8192, 8193, 20000, 29999 };
	const struct mem_range r[] = {
		{ 0, 6 * PAGE },			/* 0 and 5 */
		{ 8000 * PAGE, 8200 * PAGE },		/* 8191, 8192, 8193 */
		{ 10000 * PAGE, 29999 * PAGE },		/* 20000 (29999 is past the end) */
	};
	_cleanup_close_ int fd = make_pagemap(30000, dirty, ELEMENTSOF(dirty));
	uint64_t pages = 0;

	ASSERT_EQ(pagemap_count_ranges(fd, r, ELEMENTSOF(r), PAGE, &pages), 0);
	ASSERT_EQ_U64(pages, 6);
}

TEST(test_short_read_means_gone) {
	const struct mem_range r[] = { { 0, 100 * PAGE } };
	_cleanup_close_ int fd = make_pagemap(50, NULL, 0);
	uint64_t pages = 0;

	ASSERT_EQ(pagemap_count_ranges(fd, r, 1, PAGE, &pages), -ESRCH);
}

int main(void) {
	RUN(test_entry_written);
	RUN(test_count_ranges);
	RUN(test_short_read_means_gone);
	return 0;
}
