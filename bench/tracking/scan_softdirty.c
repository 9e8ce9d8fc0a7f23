// SPDX-License-Identifier: GPL-2.0-only
/*
 * Upstream PAGEMAP_SCAN (6.7+) asked for PAGE_IS_SOFT_DIRTY reports the
 * soft-dirty pages as ranges, but it cannot clear soft-dirty: re-arming still
 * takes clear_refs, with all its costs (see clear_refs.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "tracker.h"
#include "uapi.h"

/*
 * PAGEMAP_SCAN over all of r for the pages in category cat, reported as
 * cat, with flags; vec has room for every page apart, plus one, so the vec
 * never fills and one call always scans the whole range. (walk_end cannot
 * tell: 6.12 leaves it where the kernel's bounce buffer first filled, even
 * when the scan went on to the end.) Returns the ranges, or -1 and errno.
 */
long pagemap_scan_region(const struct region *r, uint64_t flags, uint64_t cat,
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

static long scan_sd_collect(struct tracker *t)
{
	struct scan_ranges *s = t->priv;
	long n = pagemap_scan_region(&t->r, 0, PAGE_IS_SOFT_DIRTY, s->vec);
	int ret;

	if (n < 0)
		return tracker_fail(t, errno, "PAGEMAP_SCAN");
	ret = clear_refs_soft_dirty();
	if (ret)
		return tracker_fail(t, -ret, "write 4 to clear_refs");
	s->n = n;
	return n;
}

/* Room for every page of the region apart, plus one; 0 or -errno. */
int scan_ranges_setup(struct tracker *t)
{
	struct scan_ranges *s = calloc(1, sizeof(*s));

	if (!s)
		return tracker_fail(t, ENOMEM, "state");
	t->priv = s;
	s->vec = calloc(t->r.npages + 1, sizeof(*s->vec));
	if (!s->vec)
		return tracker_fail(t, ENOMEM, "vec");
	if (pagemap_fd() < 0)
		return tracker_fail(t, errno, "open /proc/self/pagemap");
	return 0;
}

static int scan_sd_setup(struct tracker *t)
{
	int ret = scan_ranges_setup(t);

	if (ret)
		return ret;
	return scan_sd_collect(t) < 0 ? -EIO : 0;
}

long regions_to_pages(const struct region *r, const struct page_region *vec,
		      long n, uint32_t *out)
{
	long k = 0;

	for (long i = 0; i < n; i++)
		for (uint64_t a = vec[i].start; a < vec[i].end; a += r->page_size)
			out[k++] = (uint32_t)((a - (uintptr_t)r->base) / r->page_size);
	return k;
}

long scan_ranges_pages(struct tracker *t, uint32_t *out)
{
	struct scan_ranges *s = t->priv;

	return regions_to_pages(&t->r, s->vec, s->n, out);
}

void scan_ranges_teardown(struct tracker *t)
{
	struct scan_ranges *s = t->priv;

	if (s)
		free(s->vec);
	free(s);
	t->priv = NULL;
}

const struct method method_scan_softdirty = {
	.name = "scan-sd+cr",
	.what = "PAGEMAP_SCAN for PAGE_IS_SOFT_DIRTY, then clear_refs 4",
	.setup = scan_sd_setup,
	.collect = scan_sd_collect,
	.pages = scan_ranges_pages,
	.teardown = scan_ranges_teardown,
};
