// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ours, the second uapi: PAGEMAP_SCAN with PM_SCAN_CLEAR_SOFT_DIRTY
 * (kernel patch 0014) reports the soft-dirty pages as ranges and clears
 * exactly those, in one call: the same walk as PAGEMAP_SD_GET_AND_CLEAR
 * behind PAGEMAP_SCAN's argument, whose ranges are what the 2022 series'
 * reviewers asked for instead of one offset per page.
 */
#include <errno.h>

#include "tracker.h"
#include "uapi.h"

static long scan_clear_collect(struct tracker *t)
{
	struct scan_ranges *s = t->priv;
	long n = pagemap_scan_region(&t->r, PM_SCAN_CLEAR_SOFT_DIRTY, PAGE_IS_SOFT_DIRTY,
				     s->vec);

	if (n < 0)
		return tracker_fail(t, errno, "PAGEMAP_SCAN with PM_SCAN_CLEAR_SOFT_DIRTY");
	s->n = n;
	return n;
}

static int scan_clear_setup(struct tracker *t)
{
	int ret = scan_ranges_setup(t);

	if (ret)
		return ret;
	/* Arm: the fresh mapping is VM_SOFTDIRTY and reports all its pages. */
	return scan_clear_collect(t) < 0 ? -EIO : 0;
}

const struct method method_scan_clear_sd = {
	.name = "scan-clear",
	.what = "ours: PAGEMAP_SCAN + PM_SCAN_CLEAR_SOFT_DIRTY, one call (ranges)",
	.flags = M_OURS,
	.setup = scan_clear_setup,
	.collect = scan_clear_collect,
	.pages = scan_ranges_pages,
	.teardown = scan_ranges_teardown,
};
