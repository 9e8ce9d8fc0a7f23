// SPDX-License-Identifier: GPL-2.0-only
/*
 * No tracking at all: the same writes to pages that are present and writable.
 * Its write time is the baseline every method's write time is measured
 * against; what a method adds on top is its fault cost.
 */
#include "tracker.h"

static int none_setup(struct tracker *t)
{
	(void)t;
	return 0;
}

static long none_collect(struct tracker *t)
{
	(void)t;
	return 0;
}

static long none_pages(struct tracker *t, uint32_t *out)
{
	(void)t;
	(void)out;
	return 0;
}

static void none_teardown(struct tracker *t)
{
	(void)t;
}

const struct method method_baseline = {
	.name = "baseline",
	.what = "baseline: the same writes, no tracking (no faults)",
	.flags = M_BASELINE,
	.setup = none_setup,
	.collect = none_collect,
	.pages = none_pages,
	.teardown = none_teardown,
};
