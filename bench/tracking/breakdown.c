// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where report+re-arm time goes. The calls behind gac and scan+uffd-async
 * (and their parts) are timed apart on a range where nothing was written:
 * what is left is each call's fixed cost and its cost per page walked. The
 * cost per dirty page reported comes from the main cells (100% minus 0%).
 *
 * Both walks are PAGEMAP_SCAN's: ours asks it for PAGE_IS_SOFT_DIRTY, which
 * takes the generic per-page loop (the category of every page is computed);
 * upstream with category and return mask PAGE_IS_WRITTEN takes a dedicated
 * loop that only tests the uffd-wp bit. "SCAN SOFT_DIRTY" below is upstream's
 * own generic loop, to tell the loop from the rest of our call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include "bench.h"
#include "uapi.h"

enum { BD_FLOOR, BD_SD_GET, BD_SD_GAC, BD_SD_CLEAR, BD_SCAN_SD, BD_SCAN_W,
       BD_SCAN_W_WP };

const char *const breakdown_rows[BD_ROWS] = {
	[BD_FLOOR]	= "ioctl floor: pagemap, unknown cmd",
	[BD_SD_GET]	= "ours  PAGEMAP_SD_GET",
	[BD_SD_GAC]	= "ours  PAGEMAP_SD_GET_AND_CLEAR",
	[BD_SD_CLEAR]	= "ours  PAGEMAP_SD_CLEAR",
	[BD_SCAN_SD]	= "upstr PAGEMAP_SCAN SOFT_DIRTY (generic loop)",
	[BD_SCAN_W]	= "upstr PAGEMAP_SCAN WRITTEN (fast loop)",
	[BD_SCAN_W_WP]	= "upstr PAGEMAP_SCAN WRITTEN+WP_MATCHING",
};

static long sd_call(struct region *r, unsigned long cmd, loff_t *vec)
{
	struct pagemap_sd_args a = {
		.start = r->base,
		.len = (int)(r->npages * r->page_size),
		.vec = vec,
		.vec_len = (int)r->npages,
	};

	return ioctl(pagemap_fd(), cmd, &a);
}

static long scan_call(struct region *r, uint64_t flags, uint64_t cat,
		      struct page_region *vec)
{
	struct pm_scan_arg a = {
		.size = sizeof(a),
		.flags = flags,
		.start = (uintptr_t)r->base,
		.end = (uintptr_t)r->base + r->npages * r->page_size,
		.vec = (uintptr_t)vec,
		.vec_len = r->npages + 1,
		.category_mask = cat,
		.return_mask = cat,
	};

	return ioctl(pagemap_fd(), PAGEMAP_SCAN, &a);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median time of one call, repeated until the budget or 200 calls. */
static double time_call(int row, struct region *sd, struct region *uf,
			loff_t *ovec, struct page_region *rvec,
			const struct limits *lim)
{
	double d[200], spent = 0;
	uint64_t ovh = clock_overhead_ns();
	int n = 0;

	while (n < 200 && (n < lim->min_rounds || spent < lim->budget_ns / 4)) {
		uint64_t t0 = now_ns();
		long ret = 0;

		switch (row) {
		case BD_FLOOR:
			ret = ioctl(pagemap_fd(), _IO('f', 99)) < 0 && errno == EINVAL ? 0 : -1;
			break;
		case BD_SD_GET:
			ret = sd_call(sd, PAGEMAP_SD_GET, ovec);
			break;
		case BD_SD_GAC:
			ret = sd_call(sd, PAGEMAP_SD_GET_AND_CLEAR, ovec);
			break;
		case BD_SD_CLEAR:
			ret = sd_call(sd, PAGEMAP_SD_CLEAR, NULL);
			break;
		case BD_SCAN_SD:
			ret = scan_call(sd, 0, PAGE_IS_SOFT_DIRTY, rvec);
			break;
		case BD_SCAN_W:
			ret = scan_call(uf, 0, PAGE_IS_WRITTEN, rvec);
			break;
		case BD_SCAN_W_WP:
			ret = scan_call(uf, PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
					PAGE_IS_WRITTEN, rvec);
			break;
		}
		d[n] = (double)(now_ns() - t0) - (double)ovh;
		spent += d[n];
		if (ret != 0)	/* nothing was written: every call reports 0 */
			return -1;
		n++;
	}
	qsort(d, (size_t)n, sizeof(*d), cmp_double);
	return d[n / 2];
}

void run_breakdown(struct results *res)
{
	for (int si = 0; si < res->nsizes; si++) {
		struct tracker sd = { .m = &method_sd_gac };
		struct tracker uf = { .m = &method_scan_uffd_async };
		loff_t *ovec = calloc(res->sizes[si], sizeof(*ovec));
		struct page_region *rvec = calloc(res->sizes[si] + 1, sizeof(*rvec));
		bool ok = ovec && rvec &&
			  !region_map(&sd.r, res->sizes[si]) &&
			  !region_map(&uf.r, res->sizes[si]) &&
			  !sd.m->setup(&sd) && !uf.m->setup(&uf);

		for (int row = 0; row < BD_ROWS; row++)
			res->bd[row][si] = ok ? time_call(row, &sd.r, &uf.r, ovec,
							  rvec, &res->lim) : -1;
		if (sd.priv)
			sd.m->teardown(&sd);
		if (uf.priv)
			uf.m->teardown(&uf);
		region_unmap(&sd.r);
		region_unmap(&uf.r);
		free(ovec);
		free(rvec);
	}
	res->bd_run = true;
}
