// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where report+re-arm time goes. Each kernel call behind the methods, and
 * its parts, is timed alone, once on a range where nothing was written and
 * once with every page written: the first gives the call's fixed cost and
 * its cost per page walked, the difference its cost per dirty page.
 *
 * Ours and upstream's PAGEMAP_SCAN share one walker. Asked for
 * PAGE_IS_SOFT_DIRTY alone it takes the series' soft-dirty loop (patch
 * 0004: one bit test per pte); upstream's uffd-async tracking asks for
 * PAGE_IS_WRITTEN alone, which has a dedicated loop that only tests the
 * uffd-wp bit. PAGEMAP_SCAN SOFT_DIRTY below reports without clearing, so
 * it tells the walk from our report and clear; PM_SCAN_CLEAR_SOFT_DIRTY is
 * ours through PAGEMAP_SCAN's argument (ranges instead of offsets).
 * clear_refs writes every present page table entry of the process, dirty
 * or not.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include "bench.h"
#include "uapi.h"

enum { BD_FLOOR, BD_SD_GET, BD_SD_GAC, BD_SD_CLEAR, BD_SCAN_CLEAR, BD_SCAN_SD,
       BD_CLEAR_REFS, BD_SCAN_W, BD_SCAN_W_WP };

const char *const breakdown_rows[BD_ROWS] = {
	[BD_FLOOR]	= "ioctl floor: pagemap, unknown cmd",
	[BD_SD_GET]	= "ours  PAGEMAP_SD_GET",
	[BD_SD_GAC]	= "ours  PAGEMAP_SD_GET_AND_CLEAR",
	[BD_SD_CLEAR]	= "ours  PAGEMAP_SD_CLEAR",
	[BD_SCAN_CLEAR]	= "ours  PAGEMAP_SCAN + PM_SCAN_CLEAR_SOFT_DIRTY",
	[BD_SCAN_SD]	= "upstr PAGEMAP_SCAN SOFT_DIRTY (report only)",
	[BD_CLEAR_REFS]	= "      clear_refs 4 (process: the region + ~2 MiB)",
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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct bd_ctx {
	struct tracker sd, uf;	/* gac's or scan+uffd-async's region */
	loff_t *ovec;
	struct page_region *rvec;
};

static long bd_call(struct bd_ctx *x, int row)
{
	switch (row) {
	case BD_FLOOR:
		/* 6.12 answers EINVAL; the series' dispatcher ENOTTY, as ioctls should */
		return ioctl(pagemap_fd(), _IO('f', 99)) < 0 &&
		       (errno == EINVAL || errno == ENOTTY) ? 0 : -1;
	case BD_SD_GET:
		return sd_call(&x->sd.r, PAGEMAP_SD_GET, x->ovec);
	case BD_SD_GAC:
		return sd_call(&x->sd.r, PAGEMAP_SD_GET_AND_CLEAR, x->ovec);
	case BD_SD_CLEAR:
		return sd_call(&x->sd.r, PAGEMAP_SD_CLEAR, NULL);
	case BD_SCAN_CLEAR:
		return pagemap_scan_region(&x->sd.r, PM_SCAN_CLEAR_SOFT_DIRTY,
					   PAGE_IS_SOFT_DIRTY, x->rvec);
	case BD_SCAN_SD:
		return pagemap_scan_region(&x->sd.r, 0, PAGE_IS_SOFT_DIRTY, x->rvec);
	case BD_CLEAR_REFS:
		return clear_refs_soft_dirty();
	case BD_SCAN_W:
		return pagemap_scan_region(&x->uf.r, 0, PAGE_IS_WRITTEN, x->rvec);
	case BD_SCAN_W_WP:
		return pagemap_scan_region(&x->uf.r, PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
					   PAGE_IS_WRITTEN, x->rvec);
	}
	return -1;
}

/* Untimed: the row's region clean, then with every page written if dirty. */
static int bd_prepare(struct bd_ctx *x, int row, bool dirty)
{
	struct tracker *t = row >= BD_SCAN_W ? &x->uf : &x->sd;

	/*
	 * Not before the floor: a walk of 1 GiB empties TCG's TLB and made an
	 * unknown ioctl look like 9 us instead of 0.6.
	 */
	if (row == BD_FLOOR)
		return 0;
	if (t->m->collect(t) < 0)
		return -1;
	if (dirty)
		for (size_t i = 0; i < t->r.npages; i++)
			((volatile char *)t->r.base)[i * t->r.page_size] = 1;
	return 0;
}

/* Median time of one call, repeated until a quarter of the budget is spent. */
static double time_call(struct bd_ctx *x, int row, bool dirty,
			const struct limits *lim)
{
	double d[200], spent = 0;
	uint64_t ovh = clock_overhead_ns();
	int n = 0;

	while (n < 200 && (n < lim->min_rounds || spent < lim->budget_ns / 4)) {
		uint64_t t0, t1;
		long ret;

		if (bd_prepare(x, row, dirty))
			return -1;
		t0 = now_ns();
		ret = bd_call(x, row);
		t1 = now_ns();
		if (ret < 0)
			return -1;
		d[n] = (double)(t1 - t0) - (double)ovh;
		spent += d[n];
		n++;
	}
	qsort(d, (size_t)n, sizeof(*d), cmp_double);
	return d[n / 2];
}

/* The rows on one method's region, one region at a time: 1 GiB each. */
static void run_rows(struct results *res, int si, const struct method *m,
		     int first_row, int end_row)
{
	size_t np = res->sizes[si];
	struct bd_ctx x = {
		.ovec = calloc(np, sizeof(loff_t)),
		.rvec = calloc(np + 1, sizeof(struct page_region)),
	};
	struct tracker *t = m == &method_sd_gac ? &x.sd : &x.uf;
	bool ok;

	t->m = m;
	ok = x.ovec && x.rvec && !region_map(&t->r, np) && !m->setup(t);
	for (int row = first_row; row < end_row; row++) {
		res->bd[row][si] = ok ? time_call(&x, row, false, &res->lim) : -1;
		/* writing every page of 1 GiB per call is too dear under TCG */
		res->bd_dirty[row][si] = ok && np <= BD_DIRTY_MAX_PAGES && row != BD_FLOOR ?
			time_call(&x, row, true, &res->lim) : -1;
	}
	if (t->priv)
		m->teardown(t);
	region_unmap(&t->r);
	free(x.ovec);
	free(x.rvec);
}

void run_breakdown(struct results *res)
{
	for (int si = 0; si < res->nsizes; si++) {
		run_rows(res, si, &method_sd_gac, BD_FLOOR, BD_SCAN_W);
		run_rows(res, si, &method_scan_uffd_async, BD_SCAN_W, BD_ROWS);
	}
	res->bd_run = true;
}
