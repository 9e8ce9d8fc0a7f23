/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel interfaces the benchmark drives, with fallbacks for build hosts
 * whose installed headers are older than the 6.12 kernel the benchmark runs
 * on (Debian 12's are 6.1: no UFFD_FEATURE_WP_ASYNC; PAGEMAP_SCAN comes
 * from <dirtyrate/pagemap-sd.h>).
 * The values below are the 6.12 uapi's; the installed headers win where
 * they have them.
 */
#ifndef BENCH_TRACKING_UAPI_H
#define BENCH_TRACKING_UAPI_H

#include <linux/fs.h>
#include <linux/types.h>
#include <linux/userfaultfd.h>

#include <dirtyrate/pagemap-sd.h>	/* PAGEMAP_SCAN, PAGEMAP_SD_* */

#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED	(1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC		(1 << 15)
#endif

/* Bit 55 of a /proc/PID/pagemap entry: the page is soft-dirty. */
#define PM_ENTRY_SOFT_DIRTY	(1ULL << 55)

#endif /* BENCH_TRACKING_UAPI_H */
