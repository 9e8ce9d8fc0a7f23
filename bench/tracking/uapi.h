/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel interfaces the benchmark drives, with fallbacks for build hosts
 * whose installed headers are older than the 6.12 kernel the benchmark runs
 * on (Debian 12's are 6.1: no PAGEMAP_SCAN, no UFFD_FEATURE_WP_ASYNC).
 * The values below are the 6.12 uapi's; the installed headers win where
 * they have them.
 */
#ifndef BENCH_TRACKING_UAPI_H
#define BENCH_TRACKING_UAPI_H

#include <linux/fs.h>
#include <linux/types.h>
#include <linux/userfaultfd.h>

#include <dirtyrate/pagemap-sd.h>	/* PAGEMAP_SD_* */

#ifndef PAGEMAP_SCAN
#define PROCFS_IOCTL_MAGIC	'f'
#define PAGEMAP_SCAN		_IOWR(PROCFS_IOCTL_MAGIC, 16, struct pm_scan_arg)

#define PAGE_IS_WPALLOWED	(1 << 0)
#define PAGE_IS_WRITTEN		(1 << 1)
#define PAGE_IS_FILE		(1 << 2)
#define PAGE_IS_PRESENT		(1 << 3)
#define PAGE_IS_SWAPPED		(1 << 4)
#define PAGE_IS_PFNZERO		(1 << 5)
#define PAGE_IS_HUGE		(1 << 6)
#define PAGE_IS_SOFT_DIRTY	(1 << 7)

struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

#define PM_SCAN_WP_MATCHING	(1 << 0)
#define PM_SCAN_CHECK_WPASYNC	(1 << 1)

struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};
#endif /* PAGEMAP_SCAN */

#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED	(1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC		(1 << 15)
#endif

/* Bit 55 of a /proc/PID/pagemap entry: the page is soft-dirty. */
#define PM_ENTRY_SOFT_DIRTY	(1ULL << 55)

#endif /* BENCH_TRACKING_UAPI_H */
